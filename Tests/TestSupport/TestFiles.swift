import Foundation

/// Raw image files for upload tests: runs of data and runs of zeros (so thin writes show).
public enum TestFiles {
    /// Writes `megabytes` MiB where every third MiB is zeros and so are MiB 8 to 15 (a whole
    /// 8 MiB chunk, which a thin upload skips), and returns the path.
    public static func rawImage(megabytes: Int, extraBytes: Int = 0, seed: UInt8 = 3) throws -> String {
        let path = "/tmp/vd-image-\(UUID().uuidString.prefix(8)).raw"
        var data = Data(capacity: megabytes << 20 + extraBytes)
        for index in 0..<megabytes {
            if index % 3 == 1 || (8..<16).contains(index) {
                data.append(Data(count: 1 << 20))
            } else {
                data.append(contentsOf: (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ index &+ Int(seed)) | 1 })
            }
        }
        data.append(contentsOf: (0..<extraBytes).map { UInt8(truncatingIfNeeded: $0) | 0x80 })
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The sha256 of a file, hex, as `sha256sum` prints it.
    public static func sha256(_ path: String) async throws -> String {
        String(try await ToolRun.run("/usr/bin/sha256sum", [path]).stdout.prefix(64))
    }
}

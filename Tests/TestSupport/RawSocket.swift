import Foundation
import Glibc

/// A client socket below `VolumeClient`, for tests that need exact control of what is sent and
/// when the connection ends (floods, broken frames, hang-ups). Every call blocks: use it from a
/// thread of its own (`onOwnThread`).
public enum RawSocket {
    /// A connected, close-on-exec socket to `path`, or nil (nothing left open).
    public static func connect(_ path: String) -> Int32? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() where index < raw.count - 1 { raw[index] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// The next line from `fd` (without its newline), or nil when none is whole within
    /// `milliseconds` of silence or the peer closes first.
    public static func readLine(_ fd: Int32, within milliseconds: Int32) -> Data? {
        var line = Data()
        var bytes = [UInt8](repeating: 0, count: 4096)
        while !line.contains(UInt8(ascii: "\n")) {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, milliseconds) == 1 else { return nil }
            let count = read(fd, &bytes, bytes.count)
            guard count > 0 else { return nil }
            line.append(contentsOf: bytes[0..<count])
        }
        return line.prefix { $0 != UInt8(ascii: "\n") }
    }
}

import ArgumentParser
import Foundation
import VolumeClient
import VolumeProtocol

/// `volumed-bench images`: an upload of a raw file through volumed's socket (what `volumectl
/// image create FILE` does) against `rbd import` of the same file into the same pool, and the
/// export back against `rbd export`; interleaved round by round. Prints medians and ratios.
struct ImageTransfers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images", abstract: "Upload and export throughput: volumed's stream against rbd import/export.")

    @OptionGroup var target: Target
    @Option(help: "MiB of data in the file (no zeros: every byte is written).") var dataMiB = 1024
    @Option(help: "Rounds.") var rounds = 3
    @Option(help: "The image store's pool (volumed's rbd_store_pool).") var imagePool = "images"

    func run() async throws {
        let file = "/tmp/volumed-bench-image-\(getpid()).raw"
        let out = file + ".out"
        defer {
            unlink(file)
            unlink(out)
        }
        try Self.writeData(file, mebibytes: dataMiB)
        let client = try VolumeClient(socketPath: target.socket)
        var volumed: [Double] = [], imports: [Double] = [], exports: [Double] = [], rbdExports: [Double] = []
        for round in 0..<rounds {
            let (reply, uploadMs) = try await timed {
                try await client.upload(file: file, "image.create", ["wait": .bool(true)])
            }
            if let error = reply.error { throw ValidationError("upload failed: \(error.message)") }
            let id = (try? JSONDecoder.volumed().decode(MutationResult.self, from: JSONEncoder.volumed().encode(reply.result ?? .null)))?.image?.id ?? ""
            volumed.append(uploadMs)
            let (exported, exportMs) = try await timed { try await client.download("image.export", ["image_id": .string(id)], to: out) }
            if let error = exported.error { throw ValidationError("export failed: \(error.message)") }
            exports.append(exportMs)
            _ = try await waited(client, "image.delete", ["image_id": .string(id)])

            let name = "\(target.pool)/bench-import-\(round)"
            imports.append(try timedSync { try target.rbd(["import", "--no-progress", "--object-size", "8M", file, name]) }.1)
            unlink(out)
            rbdExports.append(try timedSync { try target.rbd(["export", "--no-progress", name, out]) }.1)
            try target.rbd(["rm", "--no-progress", name])
        }
        let mb = Double(dataMiB) * 1.048576
        print("volumed-bench images (\(dataMiB) MiB of data, \(rounds) rounds, medians)")
        print(String(format: "  upload: volumed stream %.0f MB/s (%.2f s), rbd import %.0f MB/s (%.2f s), ratio %.2f (goal >= 0.90)",
                     mb / (median(volumed) / 1000), median(volumed) / 1000, mb / (median(imports) / 1000), median(imports) / 1000,
                     median(imports) / median(volumed)))
        print(String(format: "  export: volumed stream %.0f MB/s (%.2f s), rbd export %.0f MB/s (%.2f s), ratio %.2f",
                     mb / (median(exports) / 1000), median(exports) / 1000, mb / (median(rbdExports) / 1000), median(rbdExports) / 1000,
                     median(rbdExports) / median(exports)))
    }

    /// A file of `mebibytes` MiB with no zero byte (neither side may skip any of it).
    static func writeData(_ path: String, mebibytes: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("cannot write \(path)")
        }
        defer { try? handle.close() }
        for index in 0..<mebibytes {
            try handle.write(contentsOf: Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ index &* 7) | 1 }))
        }
    }

}

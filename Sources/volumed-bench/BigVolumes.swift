import ArgumentParser
import Foundation
import RBD
import VolumeClient
import VolumeProtocol

/// `volumed-bench big`: deleting a 1 TiB thin volume, and flattening a clone of a parent holding
/// 1 GiB of real data, through volumed and with `rbd flatten` on the same data.
struct BigVolumes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "big", abstract: "Delete of a 1 TiB thin volume; flatten throughput.")

    @OptionGroup var target: Target
    @Option(help: "MiB of real data in the flatten parent.") var dataMiB = 1024

    func run() async throws {
        let cluster = try await target.connect()
        let client = try VolumeClient(socketPath: target.socket)
        // 1 TiB thin: create, then time the delete.
        var deletes: [Double] = []
        for _ in 0..<3 {
            let id = try await waited(client, "volume.create", ["size_gb": .int(1024)]).volume?.id ?? ""
            deletes.append(try await timed { try await waited(client, "volume.delete", ["volume_id": .string(id)]) }.1)
        }

        // A parent with real data, its snapshot, and two clones: one flattened by volumed, one by `rbd flatten`.
        let parent = try await waited(client, "volume.create", ["size_gb": .int(Int64(max(1, dataMiB / 1024)))]).volume
        guard let parent else { throw ValidationError("no parent volume") }
        let pool = parent.pool
        try await cluster.run { session in
            try session.pool(pool).withImage(parent.rbdImage) { image in
                let chunk = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) | 1 }
                for index in 0..<(dataMiB / 4) { try image.write(chunk, at: UInt64(index) << 22) }
            }
        }
        let snapshot = try await waited(client, "snapshot.create", ["volume_id": .string(parent.id)]).snapshot
        guard let snapshot else { throw ValidationError("no snapshot") }
        let clone = try await waited(client, "volume.create", ["size_gb": .int(Int64(parent.sizeGB)), "source": .object(["snapshot_id": .string(snapshot.id)])]).volume
        guard let clone else { throw ValidationError("no clone") }
        let (_, volumedMs): (MutationResult, Double) = try await timed { try await waited(client, "volume.flatten", ["volume_id": .string(clone.id)]) }

        let cliClone = "\(pool)/bench-cli-flatten"
        try target.rbd(["clone", "\(pool)/\(parent.rbdImage)@\(snapshot.rbdSnapshot)", cliClone])
        let cliMs = try timedSync { try target.rbd(["flatten", "--no-progress", cliClone]) }.1
        try target.rbd(["rm", "--no-progress", cliClone])

        print("volumed-bench big")
        print(String(format: "  delete of a 1 TiB thin volume: median %.0f ms (goal 1000 ms)", median(deletes)))
        print(String(format: "  flatten of a clone over %d MiB of real data: volumed %.0f MB/s (%.1f s), rbd flatten %.0f MB/s (%.1f s), ratio %.2f",
                     dataMiB, Double(dataMiB) * 1.048576 / (volumedMs / 1000), volumedMs / 1000,
                     Double(dataMiB) * 1.048576 / (cliMs / 1000), cliMs / 1000, cliMs / volumedMs))
        await cluster.blockingPool.shutdown()
    }
}

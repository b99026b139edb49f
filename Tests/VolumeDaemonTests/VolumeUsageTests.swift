import Foundation
import TestSupport
import Testing
import VolumeProtocol

/// `volume.usage` against `rbd du` on the same image, with real data written before and after a
/// snapshot: the same provisioned and used bytes, per snapshot and in total.
@Suite(.timeLimit(.minutes(10))) struct VolumeUsageTests {
    @Test func usageIsWhatRbdDuSays() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let volume = try await client.createdVolume(["size_gb": .int(1), "name": .string("used")])
        let empty = try await client.call("volume.usage", .object(["volume_id": .string(volume.id)]), as: VolumeUsage.self)
        #expect(empty.provisionedBytes == 1 << 30 && empty.usedBytes == 0)

        try await daemon.cluster.fill(pool: daemon.pool, image: volume.rbdImage, megabytes: 12)
        _ = try await client.call("snapshot.create", .object(["volume_id": .string(volume.id), "wait": .bool(true)]), as: MutationResult.self)
        try await daemon.cluster.fill(pool: daemon.pool, image: volume.rbdImage, megabytes: 20, seed: 9)
        let usage = try await client.call("volume.usage", .object(["volume_id": .string(volume.id)]), as: VolumeUsage.self)

        let du = try await daemon.cluster.rbd(["du", "--format", "json", "\(daemon.pool)/\(volume.rbdImage)"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(du.utf8)) as? [String: Any])
        let rows = try #require(json["images"] as? [[String: Any]])
        func number(_ row: [String: Any], _ key: String) -> Int64 { (row[key] as? NSNumber)?.int64Value ?? -1 }
        #expect(usage.parts.count == rows.count)
        for (part, row) in zip(usage.parts, rows) {
            #expect(part.rbdSnapshot == row["snapshot"] as? String)
            #expect(part.provisionedBytes == number(row, "provisioned_size"))
            #expect(part.usedBytes == number(row, "used_size"), "\(part.rbdSnapshot ?? "head")")
        }
        // `rbd du` of one image prints no totals: its rows' used sizes add up, and the head is the size.
        #expect(usage.usedBytes == rows.reduce(0) { $0 + number($1, "used_size") })
        #expect(usage.provisionedBytes == number(try #require(rows.last), "provisioned_size"))
        #expect(usage.parts.first?.usedBytes == 12 << 20, "the snapshot holds the first 12 MiB")
        #expect(usage.parts.last?.usedBytes == 20 << 20, "the head changed 20 MiB since")

        let missing = try await client.call("volume.usage", .object(["volume_id": .string("00000000-0000-0000-0000-000000000000")]))
        #expect(missing.error?.kind == .notFound)
    }
}

import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// The daemon as deployed: the `volumed` cephx user with `profile rbd` caps on the dev cluster's
/// pools. It runs on `vms`: `volumes` belongs to the end-to-end test's daemon, and two daemons
/// with databases of their own on one pool set is what volumed refuses.
@Suite(.timeLimit(.minutes(10))) struct RestrictedUserTests {
    static let pool = "vms"

    @Test func lifecycleWithTheVolumedCephxUser() async throws {
        let daemon = try await DaemonProcess.started(pool: Self.pool, user: "volumed")
        defer { daemon.cleanUp(keepPool: true, forgetDatabase: true) }
        let client = try daemon.client()
        let volume = try await client.call("volume.create", .object(["size_gb": .int(1), "name": .string("db"), "wait": .bool(true)]), as: MutationResult.self)
        let id = try #require(volume.volume?.id)
        let snapshot = try await client.call("snapshot.create", .object(["volume_id": .string(id), "wait": .bool(true)]), as: MutationResult.self)
        let clone = try await client.call(
            "volume.create", .object(["size_gb": .int(2), "source": .object(["snapshot_id": .string(snapshot.snapshot?.id ?? "")]), "wait": .bool(true)]),
            as: MutationResult.self)
        #expect(clone.volume?.parent?.volumeID == id)
        let images = Set(try await daemon.cluster.contents(of: Self.pool).images)
        #expect(images.isSuperset(of: ["volume-\(id)", "volume-\(clone.volume?.id ?? "")"]))
        for volumeID in [id, clone.volume?.id ?? ""] {
            _ = try await client.call("volume.delete", .object(["volume_id": .string(volumeID), "wait": .bool(true)]))
        }
        _ = try await client.call("snapshot.delete", .object(["snapshot_id": .string(snapshot.snapshot?.id ?? ""), "wait": .bool(true)]))
        for job in try await client.call("job.list", as: [Job].self) where !job.isFinal {
            _ = try await client.call("job.wait", .object(["job_id": .string(job.id)]))
        }
        let after = Set(try await daemon.cluster.contents(of: Self.pool).images)
        #expect(after.isDisjoint(with: ["volume-\(id)", "volume-\(clone.volume?.id ?? "")"]))
    }
}

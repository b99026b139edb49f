import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// Deferred deletion on the real cluster (`[rbd] enable_deferred_deletion`,
/// `deferred_deletion_delay`): a deleted volume is gone for its user at once but keeps its image
/// and snapshots; `volume.undelete` within the delay gives it back with its data; after the
/// delay (across a SIGKILL too) the purge runs as for any delete and leaves nothing behind.
@Suite(.timeLimit(.minutes(10))) struct DeferredDeletionTests {
    @Test func aDeletedVolumeComesBackWithinItsDelayAndGoesAfterIt() async throws {
        let daemon = try await DaemonProcess.started(extraConfig: "enable_deferred_deletion = true\ndeferred_deletion_delay = 120")
        defer { daemon.cleanUp() }
        var client = try daemon.client()
        let volume = try await client.createdVolume(["size_gb": .int(1), "name": .string("precious")])
        try await daemon.cluster.fill(pool: daemon.pool, image: volume.rbdImage, megabytes: 8)
        let before = try await daemon.cluster.read(pool: daemon.pool, image: volume.rbdImage, offset: 4 << 20, length: 4096)
        let snapshot = try #require(try await client.call(
            "snapshot.create", .object(["volume_id": .string(volume.id), "wait": .bool(true)]), as: MutationResult.self).snapshot)

        // Deleted: gone for the user, listed with deleted: true, its image, snapshot and data kept.
        let deletedAt = Date()
        let deleted = try await client.call("volume.delete", .object(["volume_id": .string(volume.id), "wait": .bool(true)]), as: MutationResult.self)
        #expect(deleted.job.state == "succeeded")
        #expect(try await client.call("volume.get", .object(["volume_id": .string(volume.id)])).error?.kind == .notFound)
        #expect(try await client.call("volume.list", as: [Volume].self).isEmpty)
        let kept = try await client.call("volume.list", .object(["deleted": .bool(true)]), as: [Volume].self)
        #expect(kept.map(\.id) == [volume.id])
        let purgeAt = try #require(kept.first?.purgeAt)
        #expect(purgeAt > deletedAt.addingTimeInterval(100) && purgeAt < Date().addingTimeInterval(121), "\(purgeAt)")
        #expect(try await daemon.cluster.contents(of: daemon.pool).images == [volume.rbdImage])
        #expect(try await daemon.cluster.snapshots(pool: daemon.pool, image: volume.rbdImage) == [snapshot.rbdSnapshot])
        let tag = try await daemon.cluster.rbd(["image-meta", "get", "\(daemon.pool)/\(volume.rbdImage)", "volumed.status"])
        #expect(tag.trimmingCharacters(in: .whitespacesAndNewlines) == "deleted", "a database rebuilt from the cluster knows it is deleted")
        let paged = try await client.call("volume.list", .object(["deleted": .bool(true), "limit": .int(5)]))
        #expect(paged.error?.kind == .invalidParams)

        // Undeleted: as it was, snapshot and data included; once only.
        let back = try await client.call("volume.undelete", .object(["volume_id": .string(volume.id), "wait": .bool(true)]), as: MutationResult.self)
        #expect(back.job.state == "succeeded" && back.job.kind == "volume.undelete")
        let again = try await client.call("volume.get", .object(["volume_id": .string(volume.id)]), as: Volume.self)
        #expect(again.status == "available" && again.name == "precious" && again.purgeAt == nil)
        #expect(try await client.call("snapshot.list", .object(["volume_id": .string(volume.id)]), as: [Snapshot].self).map(\.id) == [snapshot.id])
        #expect(try await daemon.cluster.read(pool: daemon.pool, image: volume.rbdImage, offset: 4 << 20, length: 4096) == before)
        let untagged = try? await daemon.cluster.rbd(["image-meta", "get", "\(daemon.pool)/\(volume.rbdImage)", "volumed.status"])
        #expect(untagged == nil, "the deleted tag is gone: \(untagged ?? "")")
        #expect(try await client.call("volume.list", .object(["deleted": .bool(true)]), as: [Volume].self).isEmpty)
        let twice = try await client.call("volume.undelete", .object(["volume_id": .string(volume.id)]))
        #expect(twice.error?.kind == .conflict, "\(String(describing: twice.error))")

        // A short delay (reloaded; long enough that a loaded machine still sees the image kept), a
        // SIGKILL during it: the purge still comes, and leaves nothing.
        try daemon.setOption("deferred_deletion_delay = 15")
        try await daemon.reload()
        _ = try await client.call("snapshot.delete", .object(["snapshot_id": .string(snapshot.id), "wait": .bool(true)]), as: MutationResult.self)
        _ = try await client.call("volume.delete", .object(["volume_id": .string(volume.id), "wait": .bool(true)]), as: MutationResult.self)
        #expect(try await daemon.cluster.contents(of: daemon.pool).images == [volume.rbdImage], "kept for the delay")
        await daemon.kill()
        try await daemon.start()
        client = try daemon.client()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, try await !daemon.cluster.contents(of: daemon.pool).images.isEmpty {
            try await Task.sleep(for: .milliseconds(200))
        }
        let contents = try await daemon.cluster.contents(of: daemon.pool)
        #expect(contents.images.isEmpty && contents.trash.isEmpty, "purged after the delay: \(contents)")
        try await Invariants.settle(daemon)
        #expect(try await client.call("volume.list", .object(["deleted": .bool(true)]), as: [Volume].self).isEmpty)
        let late = try await client.call("volume.undelete", .object(["volume_id": .string(volume.id)]))
        #expect(late.error?.kind == .notFound, "\(String(describing: late.error))")

        // Without deferred deletion a delete purges at once, and cannot be undone.
        try daemon.setOption("enable_deferred_deletion = false")
        try await daemon.reload()
        let plain = try await client.createdVolume(["size_gb": .int(1)])
        _ = try await client.call("volume.delete", .object(["volume_id": .string(plain.id), "wait": .bool(true)]), as: MutationResult.self)
        #expect(try await daemon.cluster.contents(of: daemon.pool).images.isEmpty)
        let refused = try await client.call("volume.undelete", .object(["volume_id": .string(plain.id)]))
        #expect(refused.error?.kind == .notFound || refused.error?.kind == .conflict, "\(String(describing: refused.error))")
        await daemon.terminate()
        let problems = try await Invariants.check(daemon)
        #expect(problems.isEmpty, "\(problems)")
    }
}

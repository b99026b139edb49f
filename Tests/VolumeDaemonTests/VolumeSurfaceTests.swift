import Foundation
import Synchronization
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// The rest of Cinder's driver surface on the real cluster: revert, attachments, capacity,
/// manage and unmanage.
@Suite(.timeLimit(.minutes(10))) struct VolumeSurfaceTests {
    @Test func revertRestoresTheSnapshotsDataAndKeepsTheSize() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let volume = try await client.createdVolume(["size_gb": .int(1)])
        let image = volume.rbdImage
        try await daemon.cluster.fill(pool: daemon.pool, image: image, megabytes: 8, seed: 1)
        let before = try await daemon.cluster.read(pool: daemon.pool, image: image, length: 8192)
        let snapshot = try #require(try await client.call(
            "snapshot.create", .object(["volume_id": .string(volume.id), "wait": .bool(true)]), as: MutationResult.self).snapshot)
        try await daemon.cluster.fill(pool: daemon.pool, image: image, megabytes: 8, seed: 2)
        #expect(try await daemon.cluster.read(pool: daemon.pool, image: image, length: 8192) != before)
        _ = try await client.call("volume.extend", .object(["volume_id": .string(volume.id), "size_gb": .int(2), "wait": .bool(true)]), as: MutationResult.self)

        // Attached: refused unless forced.
        let attached = try await client.call("volume.attach", .object([
            "volume_id": .string(volume.id), "connector": .object(["host": .string("compute-1")]),
        ]), as: AttachResult.self)
        let refused = try await client.call("volume.revert", .object(["volume_id": .string(volume.id), "snapshot_id": .string(snapshot.id)]))
        #expect(refused.error?.kind == .inUse)
        _ = try await client.call("volume.detach", .object([
            "volume_id": .string(volume.id), "attachment_id": .string(attached.attachment.id),
        ]), as: Volume.self)

        let reverted = try await client.call("volume.revert", .object([
            "volume_id": .string(volume.id), "snapshot_id": .string(snapshot.id), "wait": .bool(true),
        ]), as: MutationResult.self)
        #expect(reverted.job.state == "succeeded")
        #expect(reverted.volume?.status == "available")
        #expect(reverted.volume?.sizeGB == 2)
        #expect(try await daemon.cluster.read(pool: daemon.pool, image: image, length: 8192) == before)
        let info = try await daemon.cluster.rbd(["info", "--format", "json", "\(daemon.pool)/\(image)"])
        #expect(info.contains("\"size\":\(2 << 30)"), "grown back to the volume's size after the rollback")

        // A snapshot of another volume is refused, naming both.
        let other = try await client.createdVolume(["size_gb": .int(1)])
        let wrong = try await client.call("volume.revert", .object(["volume_id": .string(other.id), "snapshot_id": .string(snapshot.id)]))
        #expect(wrong.error?.kind == .invalidParams)
        #expect(wrong.error?.message.contains(volume.id) == true)
    }

    @Test func attachReturnsTheClustersMonitorsAndGuardsDeletes() async throws {
        let daemon = try await DaemonProcess.started(extraConfig: "rbd_secret_uuid = 457eb676-33da-42ec-9a8c-9293d545c337")
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let volume = try await client.createdVolume(["size_gb": .int(1)])
        let attached = try await client.call("volume.attach", .object([
            "volume_id": .string(volume.id), "connector": .object(["host": .string("compute-1"), "initiator": .string("iqn.x")]),
        ]), as: AttachResult.self)
        let info = attached.connectionInfo
        #expect(info.driverVolumeType == "rbd")
        #expect(info.data.name == "\(daemon.pool)/volume-\(volume.id)")
        // The dev cluster's monitor, as its ceph.conf says: v2:127.0.0.1:<port>.
        let conf = try String(contentsOfFile: daemon.cluster.cephConf, encoding: .utf8)
        let monHost = try #require(conf.split(separator: "\n").first { $0.hasPrefix("mon host") })
        let port = try #require(monHost.split(separator: ":").last.map { String($0).trimmingCharacters(in: .whitespaces) })
        #expect(info.data.hosts == ["127.0.0.1"])
        #expect(info.data.ports == [port])
        #expect(info.data.authEnabled)
        #expect(info.data.authUsername == "admin")
        #expect(info.data.secretType == "ceph")
        #expect(info.data.secretUUID == "457eb676-33da-42ec-9a8c-9293d545c337")
        #expect(info.data.clusterName == "ceph")
        #expect(info.data.volumeID == volume.id)
        #expect(attached.volume.status == "in-use")

        let shown = try await client.call("volume.get", .object(["volume_id": .string(volume.id)]), as: Volume.self)
        #expect(shown.status == "in-use")
        #expect(shown.attachments?.map(\.host) == ["compute-1"])
        // Not multiattach: a second host is refused; deleting is refused unless forced.
        let second = try await client.call("volume.attach", .object([
            "volume_id": .string(volume.id), "connector": .object(["host": .string("compute-2")]),
        ]))
        #expect(second.error?.kind == .inUse)
        let delete = try await client.call("volume.delete", .object(["volume_id": .string(volume.id)]))
        #expect(delete.error?.kind == .inUse)
        let detached = try await client.call("volume.detach", .object([
            "volume_id": .string(volume.id), "attachment_id": .string(attached.attachment.id),
        ]), as: Volume.self)
        #expect(detached.status == "available")
        let again = try await client.call("volume.detach", .object([
            "volume_id": .string(volume.id), "attachment_id": .string(attached.attachment.id),
        ]))
        #expect(again.error?.kind == .notFound)

        // A multiattach volume has no exclusive-lock and takes two hosts; force deletes it attached.
        let shared = try await client.createdVolume(["size_gb": .int(1), "multiattach": .bool(true)])
        #expect(shared.multiattach)
        let features = try await daemon.cluster.rbd(["info", "--format", "json", "\(daemon.pool)/\(shared.rbdImage)"])
        #expect(!features.contains("exclusive-lock"))
        for host in ["compute-1", "compute-2"] {
            _ = try await client.call("volume.attach", .object([
                "volume_id": .string(shared.id), "connector": .object(["host": .string(host)]),
            ]), as: AttachResult.self)
        }
        #expect(try await client.call("volume.get", .object(["volume_id": .string(shared.id)]), as: Volume.self).attachmentCount == 2)
        let forced = try await client.call("volume.delete", .object([
            "volume_id": .string(shared.id), "force": .bool(true), "wait": .bool(true),
        ]), as: MutationResult.self)
        #expect(forced.job.state == "succeeded")
        // A connector without a host is refused, naming the field.
        let noHost = try await client.call("volume.attach", .object(["volume_id": .string(volume.id), "connector": .object([:])]))
        #expect(noHost.error?.message.contains("connector.host") == true)
    }

    @Test func capacityMatchesCephDf() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let volume = try await client.createdVolume(["size_gb": .int(3)])
        try await daemon.cluster.fill(pool: daemon.pool, image: volume.rbdImage, megabytes: 16)
        _ = try await client.createdVolume(["size_gb": .int(2)])
        // `stored` is reported by the OSDs every few seconds: wait until ceph df sees the data.
        var df: [String: Any] = [:]
        var capacity: PoolCapacity?
        let deadline = ContinuousClock.now + .seconds(30)
        // Both reads must come from the same OSD report: read the daemon's figure between two
        // `ceph df`s that agree with each other.
        func storedNow() async throws -> [String: Any] {
            let text = try await daemon.cluster.ceph(["df", "--format", "json"])
            return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        }
        func stat(_ df: [String: Any], _ key: String) -> Int64? {
            let entry = (df["pools"] as? [[String: Any]])?.first { $0["name"] as? String == daemon.pool }
            return ((entry?["stats"] as? [String: Any])?[key] as? NSNumber)?.int64Value
        }
        func stored(_ df: [String: Any]) -> Int64? { stat(df, "stored") }
        /// Other suites write into the same OSD: wait for a moment when `max_avail` holds still.
        func steady(_ before: [String: Any], _ after: [String: Any]) -> Bool {
            guard let a = stat(before, "max_avail"), let b = stat(after, "max_avail") else { return false }
            return abs(Double(a - b)) <= 0.005 * Double(b)
        }
        var before: [String: Any] = [:]
        while ContinuousClock.now < deadline {
            before = try await storedNow()
            capacity = try await client.call("service.capacity", as: [PoolCapacity].self).first { $0.pool == daemon.pool }
            df = try await storedNow()
            if (capacity?.usedBytes ?? 0) >= 16 << 20, let now = stored(df), stored(before) == now, now == capacity?.usedBytes, steady(before, df) { break }
            try await Task.sleep(for: .seconds(1))
        }
        let pool = try #require(capacity)
        let entry = try #require((df["pools"] as? [[String: Any]])?.first { $0["name"] as? String == daemon.pool })
        let stats = try #require(entry["stats"] as? [String: Any])
        let stored = try #require((stats["stored"] as? NSNumber)?.int64Value)
        let maxAvail = try #require((stats["max_avail"] as? NSNumber)?.int64Value)
        #expect(pool.provisionedBytes == 5 << 30)
        #expect(pool.usedBytes == stored)
        // max_avail moves as other tests write into the same OSD (when it never held still within
        // the deadline): the daemon read it between the two ceph df reads, so within what they
        // saw, give or take 2 %.
        let seen = [stat(before, "max_avail") ?? maxAvail, maxAvail]
        #expect(Double(pool.freeBytes) >= 0.98 * Double(seen.min() ?? maxAvail) && Double(pool.freeBytes) <= 1.02 * Double(seen.max() ?? maxAvail),
                "free \(pool.freeBytes), max_avail seen \(seen)")
        #expect(pool.totalBytes == pool.freeBytes + pool.usedBytes)
        #expect(pool.quotaBytes == nil)
        #expect(abs(pool.overSubscriptionRatio - Double(pool.provisionedBytes) / Double(pool.totalBytes)) < 0.001)

        // With a quota, total is the quota and free is what is left of it.
        try await daemon.cluster.ceph(["osd", "pool", "set-quota", daemon.pool, "max_bytes", String(1 << 30)])
        let quoted = try #require(try await client.call("service.capacity", as: [PoolCapacity].self).first { $0.pool == daemon.pool })
        #expect(quoted.quotaBytes == 1 << 30)
        #expect(quoted.totalBytes == 1 << 30)
        // Free is what is left of the quota, or what the OSDs have left when that is less
        // (a memstore OSD on a busy test machine may have less than a GiB free).
        let left = max(0, (1 << 30) - quoted.usedBytes)
        #expect(quoted.freeBytes <= left)
        if let room = stat(try await storedNow(), "max_avail"), room > left + left / 10 {
            #expect(quoted.freeBytes == left, "the quota, not the OSDs, is the limit here")
        }
    }

    @Test func manageAdoptsAnImageAndUnmanageReleasesIt() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        try await daemon.cluster.rbd(["create", "--size", "100M", "\(daemon.pool)/legacy-disk"])
        try await daemon.cluster.fill(pool: daemon.pool, image: "legacy-disk", megabytes: 4)
        let data = try await daemon.cluster.read(pool: daemon.pool, image: "legacy-disk", length: 4096)

        // While a client has it open (a watcher), it is in use and stays as it was.
        let admin = daemon.cluster.adminCluster
        let pool = daemon.pool
        let release = Atomic<Bool>(false)
        let opened = Atomic<Bool>(false)
        let holder = Task {
            try await admin.run { session in
                try session.pool(pool).withImage("legacy-disk") { _ in
                    opened.store(true, ordering: .sequentiallyConsistent)
                    for _ in 0..<600 where !release.load(ordering: .sequentiallyConsistent) { usleep(50_000) }
                }
            }
        }
        while !opened.load(ordering: .sequentiallyConsistent) { try await Task.sleep(for: .milliseconds(20)) }
        let busy = try await client.call("volume.manage", .object(["rbd_image": .string("legacy-disk"), "wait": .bool(true)]))
        release.store(true, ordering: .sequentiallyConsistent)
        try await holder.value
        #expect(busy.error?.kind == .inUse)
        #expect(try await daemon.cluster.contents(of: daemon.pool).images == ["legacy-disk"])
        #expect(try await client.call("volume.list", as: [Volume].self).isEmpty)

        let managed = try #require(try await client.call(
            "volume.manage", .object(["rbd_image": .string("legacy-disk"), "wait": .bool(true)]), as: MutationResult.self).volume)
        #expect(managed.status == "available")
        #expect(managed.name == "legacy-disk")
        #expect(managed.sizeGB == 1)
        #expect(managed.source == .managed)
        #expect(try await daemon.cluster.contents(of: daemon.pool).images == ["volume-\(managed.id)"])
        #expect(try await daemon.cluster.read(pool: daemon.pool, image: "volume-\(managed.id)", length: 4096) == data)
        let tag = try await daemon.cluster.rbd(["image-meta", "get", "\(daemon.pool)/volume-\(managed.id)", "volumed.volume_id"])
        #expect(tag.trimmingCharacters(in: .whitespacesAndNewlines) == managed.id)
        // Adopting it twice, or a name with '/', is refused.
        let twice = try await client.call("volume.manage", .object(["rbd_image": .string("volume-\(managed.id)")]))
        #expect(twice.error?.kind == .conflict)
        let slash = try await client.call("volume.manage", .object(["rbd_image": .string("a/b")]))
        #expect(slash.error?.kind == .invalidParams)

        // Released: the image stays, untagged; volumed forgets the volume.
        let released = try await client.call("volume.unmanage", .object(["volume_id": .string(managed.id), "wait": .bool(true)]), as: MutationResult.self)
        #expect(released.job.state == "succeeded")
        #expect(try await client.call("volume.list", as: [Volume].self).isEmpty)
        #expect(try await daemon.cluster.contents(of: daemon.pool).images == ["volume-\(managed.id)"])
        let meta = try await daemon.cluster.rbd(["image-meta", "list", "--format", "json", "\(daemon.pool)/volume-\(managed.id)"])
        #expect(!meta.contains("volumed."))
    }

    /// A purge removes only the snapshots volumed made: a managed image's own snapshot survives
    /// the volume's delete, even when its name looks like volumed's.
    @Test func aPurgeNeverRemovesASnapshotTheImageHadBeforeManage() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        try await daemon.cluster.rbd(["create", "--size", "64M", "\(daemon.pool)/old-disk"])
        try await daemon.cluster.rbd(["snap", "create", "\(daemon.pool)/old-disk@snapshot-pre-upgrade"])
        let managed = try #require(try await client.call(
            "volume.manage", .object(["rbd_image": .string("old-disk"), "wait": .bool(true)]), as: MutationResult.self).volume)
        // One of volumed's own, made and deleted, goes as always.
        let made = try #require(try await client.call(
            "snapshot.create", .object(["volume_id": .string(managed.id), "wait": .bool(true)]), as: MutationResult.self).snapshot)
        _ = try await client.call("snapshot.delete", .object(["snapshot_id": .string(made.id), "wait": .bool(true)]))
        #expect(try await client.call("service.reconcile", as: Drift.self).staleSnapshots.isEmpty, "the image's own snapshot is not stale")
        _ = try await client.call("volume.delete", .object(["volume_id": .string(managed.id), "wait": .bool(true)]))
        try await Invariants.settle(daemon)
        let snapshots = try await daemon.cluster.rbd(["snap", "ls", "\(daemon.pool)/volume-\(managed.id)"])
        #expect(snapshots.contains("snapshot-pre-upgrade"), "the image's own snapshot is kept: \(snapshots)")
        #expect(!snapshots.contains(made.rbdSnapshot), "volumed's own is removed: \(snapshots)")
        #expect(try await client.call("volume.list", as: [Volume].self).isEmpty, "the volume is gone for users")
    }
}

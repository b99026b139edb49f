import Foundation
import TestSupport
import Testing
import Lifecycle
import VolumeStore
@testable import VolumeEngine

/// Every operation and its errors, on the real dev cluster.
@Suite(.timeLimit(.minutes(10))) struct EngineLifecycleTests {
    @Test func blankVolumeIsTaggedWithItsID() async throws {
        let h = try await EngineHarness()
        defer { Task { await h.shutdown() } }
        let accepted = try await h.engine.createVolume(sizeGB: 2, name: "db", source: nil, idempotencyKey: nil)
        #expect(accepted.volume?.status == .creating)
        let job = try await h.finish(accepted)
        #expect(job.state == .succeeded)
        #expect(job.progress == 1)
        let volume = try #require(try await h.volume(accepted.job.volumeID ?? ""))
        #expect(volume.status == .available)
        #expect(volume.rbdImage == "volume-\(volume.id)")
        #expect(try await h.contents().images == [volume.rbdImage])
        let tag = try await h.engine.cluster.run { [pool = h.pool] session in
            try session.pool(pool).withImage(volume.rbdImage) { image in
                (try image.metadata(RBDNames.volumeIDKey), try image.size())
            }
        }
        #expect(tag.0 == volume.id)
        #expect(tag.1 == 2 << 30)
    }

    @Test func snapshotCloneExtendFlattenAndDelete() async throws {
        let h = try await EngineHarness()
        defer { Task { await h.shutdown() } }
        let root = try await h.engine.createVolume(sizeGB: 1, name: "root", source: nil, idempotencyKey: nil)
        try await h.finish(root)
        let rootID = try #require(root.volume?.id)

        let snap = try await h.engine.createSnapshot(volumeID: rootID, name: "s1", idempotencyKey: nil)
        #expect(try await h.finish(snap).state == .succeeded)
        let snapshot = try #require(try await h.store.read { try $0.snapshot(snap.snapshot?.id ?? "") })
        #expect(snapshot.status == .available)
        #expect(try await h.cluster.snapshots(pool: h.pool, image: "volume-\(rootID)") == ["snapshot-\(snapshot.id)"])

        let fromSnap = try await h.engine.createVolume(sizeGB: 3, name: nil, source: .snapshot(snapshot.id), idempotencyKey: nil)
        try await h.finish(fromSnap)
        let child = try #require(try await h.volume(fromSnap.volume?.id ?? ""))
        #expect(child.status == .available)
        #expect(child.parentVolumeID == rootID)
        #expect(child.parentSnapshot == "snapshot-\(snapshot.id)")
        #expect(child.cloneDepth == 1)

        let clone = try await h.engine.createVolume(sizeGB: 3, name: nil, source: .volume(child.id), idempotencyKey: nil)
        try await h.finish(clone)
        let grandchild = try #require(try await h.volume(clone.volume?.id ?? ""))
        #expect(grandchild.cloneDepth == 2)
        #expect(grandchild.parentSnapshot == "volume-\(grandchild.id).clone_snap")
        #expect(try await h.cluster.snapshots(pool: h.pool, image: child.rbdImage) == ["volume-\(grandchild.id).clone_snap"])

        #expect(try await h.finish(try await h.engine.extendVolume(id: grandchild.id, sizeGB: 5)).state == .succeeded)
        #expect(try await h.volume(grandchild.id)?.sizeGB == 5)

        // Flattening the middle volume makes its clone shallower and frees nothing else.
        let flatten = try await h.engine.flattenVolume(id: child.id)
        let flattened = try await h.finish(flatten)
        #expect(flattened.state == .succeeded)
        #expect(flattened.progress == 1)
        #expect(try await h.volume(child.id)?.parentVolumeID == nil)
        #expect(try await h.volume(child.id)?.cloneDepth == 0)
        #expect(try await h.volume(grandchild.id)?.cloneDepth == 1)

        for id in [rootID, child.id, grandchild.id] {
            #expect(try await h.finish(try await h.engine.deleteVolume(id: id)).state == .succeeded)
        }
        try await h.finish(try await h.engine.deleteSnapshot(id: snapshot.id))
        try await h.settle()
        let contents = try await h.contents()
        #expect(contents.images.isEmpty)
        #expect(contents.trash.isEmpty)
    }

    @Test func refusalsAreTypedAndChangeNothing() async throws {
        let h = try await EngineHarness()
        defer { Task { await h.shutdown() } }
        let missing = UUID().uuidString.lowercased()
        await #expect(throws: EngineError.notFound("volume \(missing) not found")) { try await h.engine.deleteVolume(id: missing) }
        await #expect(throws: EngineError.notFound("source volume \(missing) not found")) {
            try await h.engine.createVolume(sizeGB: 1, name: nil, source: .volume(missing), idempotencyKey: nil)
        }
        await #expect(throws: EngineError.notFound("source snapshot \(missing) not found")) {
            try await h.engine.createVolume(sizeGB: 1, name: nil, source: .snapshot(missing), idempotencyKey: nil)
        }
        await #expect(throws: EngineError.notFound("job \(missing) not found")) { try await h.engine.cancel(jobID: missing) }

        let a = try await h.engine.createVolume(sizeGB: 4, name: nil, source: nil, idempotencyKey: nil)
        let id = try #require(a.volume?.id)
        // Busy with its create job: changing it now is a conflict, not a surprise later.
        await #expect(throws: EngineError.self) { try await h.engine.extendVolume(id: id, sizeGB: 8) }
        try await h.finish(a)

        await #expect(throws: EngineError.invalid("size_gb 2 must be larger than the volume's 4 GiB: volumes only grow")) {
            try await h.engine.extendVolume(id: id, sizeGB: 2)
        }
        await #expect(throws: EngineError.self) { try await h.engine.extendVolume(id: id, sizeGB: 4) }
        await #expect(throws: EngineError.invalid("size_gb 1 is smaller than the source's 4 GiB")) {
            try await h.engine.createVolume(sizeGB: 1, name: nil, source: .volume(id), idempotencyKey: nil)
        }
        #expect(try await h.volume(id)?.sizeGB == 4)
        #expect(try await h.volume(id)?.status == .available)

        let extend = try await h.engine.extendVolume(id: id, sizeGB: 8)
        await #expect(throws: EngineError.conflict("volume \(id) is extending, not available")) {
            try await h.engine.extendVolume(id: id, sizeGB: 9)
        }
        try await h.finish(extend)
        let done = try await h.finish(extend)
        await #expect(throws: EngineError.conflict("job \(done.id) already succeeded")) { try await h.engine.cancel(jobID: done.id) }
    }

    @Test func theSameIdempotencyKeyGivesTheSameJob() async throws {
        let h = try await EngineHarness()
        defer { Task { await h.shutdown() } }
        let first = try await h.engine.createVolume(sizeGB: 1, name: nil, source: nil, idempotencyKey: "req-42")
        let second = try await h.engine.createVolume(sizeGB: 1, name: nil, source: nil, idempotencyKey: "req-42")
        #expect(first.job.id == second.job.id)
        #expect(first.volume?.id == second.volume?.id)
        try await h.finish(first)
        #expect(try await h.contents().images.count == 1)
        let snapshotKey = try await h.engine.createSnapshot(volumeID: first.volume?.id ?? "", name: nil, idempotencyKey: "snap-1")
        let again = try await h.engine.createSnapshot(volumeID: first.volume?.id ?? "", name: nil, idempotencyKey: "snap-1")
        #expect(snapshotKey.job.id == again.job.id)
        await #expect(throws: EngineError.self) {
            try await h.engine.createSnapshot(volumeID: first.volume?.id ?? "", name: nil, idempotencyKey: "req-42")
        }
    }

    @Test func cancellingAQueuedCreateLeavesNothing() async throws {
        let h = try await EngineHarness { $0.workers = 1 }
        defer { Task { await h.shutdown() } }
        // Occupy the only worker with a flatten of real data, then queue a create behind it.
        let parentID = try await h.filledVolume(sizeGB: 1, megabytes: 256)
        let child = try await h.engine.createVolume(sizeGB: 1, name: nil, source: .volume(parentID), idempotencyKey: nil)
        try await h.finish(child)
        let flatten = try await h.engine.flattenVolume(id: child.volume?.id ?? "")
        let queued = try await h.engine.createVolume(sizeGB: 1, name: nil, source: nil, idempotencyKey: nil)
        let cancelled = try await h.engine.cancel(jobID: queued.job.id)
        #expect(cancelled.state == .cancelled)
        #expect(cancelled.errorKind == .cancelled)
        #expect(try await h.volume(queued.volume?.id ?? "")?.status == .deleted)
        try await h.finish(flatten)
        try await h.settle()
        #expect(try await h.contents().images == (try await h.expectedImages()))
    }

    @Test func cancellingARunningFlattenStopsItAndKeepsTheClone() async throws {
        let h = try await EngineHarness()
        defer { Task { await h.shutdown() } }
        let parentID = try await h.filledVolume(sizeGB: 2, megabytes: 1024)
        // Cancel once the flatten has visibly started. On a starved machine the whole flatten can
        // end between its first progress event and the cancel: then try again on a new clone
        // (three tries); a flatten that finished is a finished flatten, not a failure to cancel.
        for attempt in 1...3 {
            let child = try await h.engine.createVolume(sizeGB: 2, name: nil, source: .volume(parentID), idempotencyKey: nil)
            try await h.finish(child)
            let childID = try #require(child.volume?.id)
            let flatten = try await h.engine.flattenVolume(id: childID)
            for await event in h.engine.watch(jobID: flatten.job.id) {
                if case .progress(_, let progress) = event, progress > 0 { break }
            }
            // A cancel that comes after the end is refused (the job is final): that is the race.
            _ = try? await h.engine.cancel(jobID: flatten.job.id)
            let job = try await h.finish(flatten)
            if job.state == .succeeded && attempt < 3 { continue }
            #expect(job.state == .cancelled)
            #expect(job.progress < 1)
            let volume = try #require(try await h.volume(childID))
            #expect(volume.parentVolumeID == parentID, "a cancelled flatten leaves a working clone")
            #expect(volume.status == .available)
            return
        }
    }

    @Test func flattensRespectTheConcurrencyLimit() async throws {
        let h = try await EngineHarness { $0.concurrentFlattens = 1 }
        defer { Task { await h.shutdown() } }
        let parentID = try await h.filledVolume(sizeGB: 1, megabytes: 64)
        var flattens: [Accepted] = []
        for _ in 0..<3 {
            let clone = try await h.engine.createVolume(sizeGB: 1, name: nil, source: .volume(parentID), idempotencyKey: nil)
            try await h.finish(clone)
            flattens.append(try await h.engine.flattenVolume(id: clone.volume?.id ?? ""))
        }
        var intervals: [(Date, Date)] = []
        for flatten in flattens {
            let job = try await h.finish(flatten)
            #expect(job.state == .succeeded)
            intervals.append((try #require(job.startedAt), try #require(job.finishedAt)))
        }
        intervals.sort { $0.0 < $1.0 }
        for (earlier, later) in zip(intervals, intervals.dropFirst()) {
            #expect(later.0 >= earlier.1, "with rbd_concurrent_flatten_operations = 1 flattens never overlap")
        }
        try await h.settle()
        // The flattened clones no longer need the parent's clone snapshots.
        #expect(try await h.cluster.snapshots(pool: h.pool, image: "volume-\(parentID)").isEmpty)
    }

    @Test func anUnreachableClusterFailsTheJobWithClusterUnavailable() async throws {
        let cluster = try TestCluster.require()
        let directory = NSTemporaryDirectory() + "volumed-down-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let conf = directory + "/ceph.conf"
        try "[global]\nmon host = v2:127.0.0.1:9\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let store = try Store(path: directory + "/db.sqlite")
        let rbd = RBD.Cluster(
            settings: .init(user: "admin", cephConf: conf, keyring: cluster.adminKeyring, connectTimeout: 1,
                            connectionRetries: 1, connectionInterval: 0),
            blockingThreads: 2, logger: .init(label: "down"))
        let engine = Engine(store: store, cluster: rbd,
                            settings: EngineSettings(pool: "volumes", clusterRetries: 2, clusterRetryInterval: .milliseconds(100)),
                            logger: .init(label: "down"))
        let runner = Task { try await engine.run() }
        let accepted = try await engine.createVolume(sizeGB: 1, name: nil, source: nil, idempotencyKey: nil)
        let job = try await engine.wait(jobID: accepted.job.id)
        #expect(job.state == .failed)
        #expect(job.errorKind == .clusterUnavailable)
        #expect(try await store.read { try $0.volume(accepted.volume?.id ?? "") }?.status == .error)
        await engine.stop()
        _ = await runner.result
        await rbd.blockingPool.shutdown()
    }
}

import RBD

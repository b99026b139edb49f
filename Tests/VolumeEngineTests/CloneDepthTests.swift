import Foundation
import TestSupport
import Testing
@testable import VolumeEngine

/// The depth rule on the real cluster, for chains of every kind of clone source.
@Suite(.timeLimit(.minutes(10))) struct CloneDepthTests {
    @Test func aVolumeCloneChainIsFlattenedPastTheLimit() async throws {
        let h = try await EngineHarness { $0.maxCloneDepth = 2 }
        defer { Task { await h.shutdown() } }
        var previous = try await h.engine.createVolume(sizeGB: 1, name: "0", source: nil, idempotencyKey: nil)
        try await h.finish(previous)
        var depths: [Int] = []
        var notes: [String?] = []
        for _ in 1...4 {
            let next = try await h.engine.createVolume(sizeGB: 1, name: nil, source: .volume(previous.volume?.id ?? ""), idempotencyKey: nil)
            let job = try await h.finish(next)
            #expect(job.state == .succeeded)
            let volume = try #require(try await h.volume(next.volume?.id ?? ""))
            depths.append(volume.cloneDepth)
            notes.append(job.note)
            previous = next
        }
        #expect(depths == [1, 2, 0, 1])
        #expect(notes[2]?.contains("clone depth would be 3, above rbd_max_clone_depth 2") == true)
        try await h.settle()
        #expect(try await h.contents().images == (try await h.expectedImages()))
    }

    @Test func snapshotSourcedClonesCountToo() async throws {
        // Cinder stops counting at a snapshot→volume clone, so this chain would grow forever there.
        let h = try await EngineHarness { $0.maxCloneDepth = 2 }
        defer { Task { await h.shutdown() } }
        var volumeID = try #require(try await h.engine.createVolume(sizeGB: 1, name: nil, source: nil, idempotencyKey: nil).volume?.id)
        var depths: [Int] = []
        for round in 0..<3 {
            if round == 0 { try await h.settle() }
            let snap = try await h.engine.createSnapshot(volumeID: volumeID, name: nil, idempotencyKey: nil)
            try await h.finish(snap)
            let child = try await h.engine.createVolume(sizeGB: 1, name: nil, source: .snapshot(snap.snapshot?.id ?? ""), idempotencyKey: nil)
            #expect(try await h.finish(child).state == .succeeded)
            volumeID = try #require(child.volume?.id)
            depths.append(try #require(try await h.volume(volumeID)).cloneDepth)
        }
        #expect(depths == [1, 2, 0])
        let flat = try await h.engine.cluster.run { [pool = h.pool, image = "volume-\(volumeID)"] session in
            try session.pool(pool).withImage(image) { try $0.parent() }
        }
        #expect(flat == nil, "the third clone is flat in the cluster too")
    }

    @Test func zeroDepthMakesFullCopiesWithTheSourceData() async throws {
        let h = try await EngineHarness { $0.maxCloneDepth = 0 }
        defer { Task { await h.shutdown() } }
        let sourceID = try await h.filledVolume(sizeGB: 1, megabytes: 8, seed: 42)
        let copy = try await h.engine.createVolume(sizeGB: 2, name: nil, source: .volume(sourceID), idempotencyKey: nil)
        let job = try await h.finish(copy)
        #expect(job.state == .succeeded)
        #expect(job.note?.contains("full copy") == true)
        let copyID = try #require(copy.volume?.id)
        #expect(try await h.volume(copyID)?.parentVolumeID == nil)
        let original = try await h.cluster.read(pool: h.pool, image: "volume-\(sourceID)", offset: 4 << 20, length: 4096)
        let copied = try await h.cluster.read(pool: h.pool, image: "volume-\(copyID)", offset: 4 << 20, length: 4096)
        #expect(original == copied)
        #expect(original.contains { $0 != 0 })
        try await h.settle()
        #expect(try await h.cluster.snapshots(pool: h.pool, image: "volume-\(sourceID)").isEmpty, "the copy's temporary snapshot is gone")
    }

    @Test func flattenFromSnapshotOption() async throws {
        let h = try await EngineHarness { $0.flattenVolumeFromSnapshot = true }
        defer { Task { await h.shutdown() } }
        let source = try await h.engine.createVolume(sizeGB: 1, name: nil, source: nil, idempotencyKey: nil)
        try await h.finish(source)
        let snap = try await h.engine.createSnapshot(volumeID: source.volume?.id ?? "", name: nil, idempotencyKey: nil)
        try await h.finish(snap)
        let child = try await h.engine.createVolume(sizeGB: 1, name: nil, source: .snapshot(snap.snapshot?.id ?? ""), idempotencyKey: nil)
        #expect(try await h.finish(child).note == "flattened: rbd_flatten_volume_from_snapshot is true")
        #expect(try await h.volume(child.volume?.id ?? "")?.parentVolumeID == nil)
        // The user's snapshot stays: only clone snapshots are temporary.
        #expect(try await h.cluster.snapshots(pool: h.pool, image: "volume-\(source.volume?.id ?? "")") == ["snapshot-\(snap.snapshot?.id ?? "")"])
    }
}

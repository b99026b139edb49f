import Foundation
import TestSupport
import Testing
@testable import VolumeEngine

/// Deleting a family of volumes, snapshots and clones in any order a user might choose
/// ends with an empty pool and an empty trash (Cinder leaves `.deleted` images here).
@Suite(.timeLimit(.minutes(10))) struct DeleteOrderTests {
    enum Item: String, CaseIterable, CustomTestStringConvertible {
        case root, snapshot, cloneOfRoot, cloneOfSnapshot, cloneOfClone
        var testDescription: String { rawValue }
    }

    static let orders: [[Item]] = [
        [.root, .snapshot, .cloneOfRoot, .cloneOfSnapshot, .cloneOfClone],
        [.cloneOfClone, .cloneOfSnapshot, .cloneOfRoot, .snapshot, .root],
        [.snapshot, .root, .cloneOfSnapshot, .cloneOfRoot, .cloneOfClone],
        [.cloneOfRoot, .root, .cloneOfClone, .snapshot, .cloneOfSnapshot],
    ]

    @Test(arguments: orders)
    func deletingEverythingInAnyOrderLeavesAnEmptyPool(order: [Item]) async throws {
        let h = try await EngineHarness()
        defer { Task { await h.shutdown() } }
        var ids: [Item: String] = [:]
        let root = try await h.engine.createVolume(sizeGB: 1, name: "root", source: nil, idempotencyKey: nil)
        try await h.finish(root)
        ids[.root] = root.volume?.id
        try await h.cluster.fill(pool: h.pool, image: "volume-\(ids[.root] ?? "")", megabytes: 8)
        let snap = try await h.engine.createSnapshot(volumeID: ids[.root] ?? "", name: nil, idempotencyKey: nil)
        try await h.finish(snap)
        ids[.snapshot] = snap.snapshot?.id
        let clone = try await h.engine.createVolume(sizeGB: 1, name: nil, source: .volume(ids[.root] ?? ""), idempotencyKey: nil)
        try await h.finish(clone)
        ids[.cloneOfRoot] = clone.volume?.id
        let fromSnap = try await h.engine.createVolume(sizeGB: 1, name: nil, source: .snapshot(ids[.snapshot] ?? ""), idempotencyKey: nil)
        try await h.finish(fromSnap)
        ids[.cloneOfSnapshot] = fromSnap.volume?.id
        let grand = try await h.engine.createVolume(sizeGB: 1, name: nil, source: .volume(ids[.cloneOfRoot] ?? ""), idempotencyKey: nil)
        try await h.finish(grand)
        ids[.cloneOfClone] = grand.volume?.id

        for item in order {
            let id = try #require(ids[item])
            let accepted = item == .snapshot ? try await h.engine.deleteSnapshot(id: id) : try await h.engine.deleteVolume(id: id)
            #expect(try await h.finish(accepted).state == .succeeded, "delete \(item)")
            try await h.settle()
            // At every point the pool holds exactly what the database says is still needed,
            // and every clone still reads its data.
            #expect(try await h.contents().images == (try await h.expectedImages()), "after deleting \(item)")
            for (other, otherID) in ids where other != .snapshot && !order.prefix(while: { $0 != item }).contains(other) && other != item {
                let bytes = try await h.cluster.read(pool: h.pool, image: "volume-\(otherID)", length: 512)
                #expect(bytes.contains { $0 != 0 }, "\(other) still reads its parent's data after deleting \(item)")
            }
        }
        let contents = try await h.contents()
        #expect(contents.images.isEmpty)
        #expect(contents.trash.isEmpty)
        let leftovers = try await h.store.read { tx in try tx.unpurgedVolumes().count + tx.unpurgedSnapshots().count }
        #expect(leftovers == 0)
    }
}

import Lifecycle
import Testing

/// The purge graph without a cluster: a pool modelled as images with snapshots and clone links,
/// deletes admitted and ended by the lifecycle, and every purge planned by `PurgePlan` and
/// recorded by it, its follow-up purges run until none is left. Whatever order a family of
/// clones and snapshots is deleted in, the pool ends empty and no row is left unpurged.
@Suite struct PurgeGraphTests {
    /// The pool librbd would have: per image its snapshots, and which snapshot each clone hangs from.
    struct Pool {
        var snapshots: [String: Set<String>] = [:]
        var parents: [String: (image: String, snapshot: String)] = [:]

        func hasClones(_ image: String, _ snapshot: String) -> Bool {
            parents.values.contains { $0.image == image && $0.snapshot == snapshot }
        }
    }

    /// A volumed-shaped world: rows and the pool.
    struct World {
        var volumes: [String: VolumeRecord] = [:]
        var snapshots: [String: SnapshotRecord] = [:]
        var pool = Pool()

        mutating func createVolume(_ id: String, cloneOf parent: String? = nil, fromSnapshot: String? = nil) {
            var volume = Rows.volume(id)
            if let parent {
                let rbdSnapshot = fromSnapshot.map { "snapshot-\($0)" } ?? "volume-\(id).clone_snap"
                volume.parentVolumeID = parent
                volume.parentSnapshot = rbdSnapshot
                volume.cloneDepth = (volumes[parent]?.cloneDepth ?? 0) + 1
                pool.snapshots["volume-\(parent)", default: []].insert(rbdSnapshot)
                pool.parents["volume-\(id)"] = ("volume-\(parent)", rbdSnapshot)
            }
            volumes[id] = volume
            pool.snapshots["volume-\(id)", default: []] = pool.snapshots["volume-\(id)", default: []]
        }

        mutating func snapshot(_ id: String, of volumeID: String) {
            snapshots[id] = Rows.snapshot(id: id, of: volumeID)
            pool.snapshots["volume-\(volumeID)", default: []].insert("snapshot-\(id)")
        }

        /// volume.delete as the engine runs it: admission, tombstone, purge and its follow-ups.
        mutating func deleteVolume(_ id: String) throws {
            let admitted = try VolumeLifecycle.admit(.delete(force: false), to: volumes[id], id: id)
            volumes[id] = admitted.volume
            volumes[id] = VolumeLifecycle.ended(.deleteVolume, .succeeded(), volume: admitted.volume).volume
            purge(id)
        }

        mutating func deleteSnapshot(_ id: String) throws {
            let (deleting, _) = try SnapshotLifecycle.admit(.delete, to: snapshots[id], id: id)
            snapshots[id] = SnapshotLifecycle.ended(.deleteSnapshot, .succeeded(), snapshot: deleting)
            if let volumeID = snapshots[id]?.volumeID { purge(volumeID) }
        }

        /// A purge, and the purges it queues, as `Purge` runs them against librbd.
        mutating func purge(_ first: String) {
            var queue = [first]
            while let id = queue.first {
                queue.removeFirst()
                guard let volume = volumes[id], !volume.purged else { continue }
                let own = snapshots.values.filter { $0.volumeID == id && !$0.purged }
                let children = volumes.values.filter { $0.parentVolumeID == id && !$0.purged }
                let plan = PurgePlan(volume: volume, snapshots: own, children: children)
                let image = volume.rbdImage
                var removed: [String] = []
                for snapshot in pool.snapshots[image, default: []].sorted()
                where !plan.wanted.contains(snapshot) && !pool.hasClones(image, snapshot) {
                    pool.snapshots[image]?.remove(snapshot)
                    removed.append(snapshot)
                }
                var imageRemoved = false
                if plan.removeImage, pool.snapshots[image, default: []].isEmpty {
                    pool.snapshots[image] = nil
                    pool.parents[image] = nil
                    imageRemoved = true
                }
                let recorded = PurgePlan.recorded(volume: volume, snapshots: own, removedSnapshots: removed, imageRemoved: imageRemoved, now: Rows.epoch)
                volumes[id] = recorded.volume
                for snapshot in recorded.snapshots { snapshots[snapshot.id] = snapshot }
                if let next = recorded.purgeNext { queue.append(next) }
            }
        }
    }

    /// A family: a base with a snapshot, a clone of the base (volume source), a clone of the
    /// snapshot, and a clone of the first clone (depth 2).
    static func family() -> World {
        var world = World()
        world.createVolume("base")
        world.snapshot("s1", of: "base")
        world.createVolume("a", cloneOf: "base")
        world.createVolume("b", cloneOf: "base", fromSnapshot: "s1")
        world.createVolume("c", cloneOf: "a")
        return world
    }

    static let deletes = ["base", "s1", "a", "b", "c"]

    static func permutations(_ items: [String]) -> [[String]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { index -> [[String]] in
            var rest = items
            let first = rest.remove(at: index)
            return permutations(rest).map { [first] + $0 }
        }
    }

    @Test func everyOrderOfDeletesEndsWithAnEmptyPool() throws {
        let orders = Self.permutations(Self.deletes)
        #expect(orders.count == 120)
        for order in orders {
            var world = Self.family()
            for name in order {
                if name.hasPrefix("s") { try world.deleteSnapshot(name) } else { try world.deleteVolume(name) }
                // At every point, what a live volume needs is still there.
                for volume in world.volumes.values where volume.status != .deleted {
                    #expect(world.pool.snapshots[volume.rbdImage] != nil, "\(order): \(volume.id) lost its image after \(name)")
                    if let parent = world.pool.parents[volume.rbdImage] {
                        #expect(world.pool.snapshots[parent.image]?.contains(parent.snapshot) == true, "\(order): \(volume.id) lost its parent")
                    }
                }
            }
            #expect(world.pool.snapshots.isEmpty, "\(order) leaves \(world.pool.snapshots)")
            #expect(world.volumes.values.allSatisfy { $0.status == .deleted && $0.purged }, "\(order)")
            #expect(world.snapshots.values.allSatisfy { $0.status == .deleted && $0.purged }, "\(order)")
        }
    }

    @Test func aDeletedParentStaysWhileAClonesHangFromItAndGoesWithTheLastOne() throws {
        var world = Self.family()
        try world.deleteVolume("base")
        #expect(world.volumes["base"]?.status == .deleted)
        #expect(world.volumes["base"]?.purged == false, "a tombstone: clones hang from its image")
        #expect(world.pool.snapshots["volume-base"] == ["snapshot-s1", "volume-a.clone_snap"])
        try world.deleteVolume("b")
        #expect(world.pool.snapshots["volume-base"] == ["snapshot-s1", "volume-a.clone_snap"], "s1 is live")
        try world.deleteSnapshot("s1")
        #expect(world.pool.snapshots["volume-base"] == ["volume-a.clone_snap"])
        try world.deleteVolume("a")
        #expect(world.pool.snapshots["volume-a"] == ["volume-c.clone_snap"], "c still hangs from a")
        try world.deleteVolume("c")
        #expect(world.pool.snapshots.isEmpty, "c's purge queued a's, a's queued base's")
    }

    @Test func thePlanKeepsLiveSnapshotsAndCloneSnapshotsAndTagsDeletedOnesKept() {
        let volume = Rows.volume("v", status: .deleted)
        let live = Rows.snapshot(id: "live")
        let deletedWithClone = Rows.snapshot(.deleted, id: "held")
        let deletedFree = Rows.snapshot(.deleted, id: "free")
        let child = Rows.volume("c", parent: "v", parentSnapshot: "snapshot-held")
        let plan = PurgePlan(volume: volume, snapshots: [live, deletedWithClone, deletedFree], children: [child])
        #expect(plan.wanted == ["snapshot-live", "snapshot-held"])
        #expect(!plan.removeImage)
        #expect(plan.deletedButKept == ["held"])
        #expect(!plan.removeWithoutOpening)
        let bare = PurgePlan(volume: volume, snapshots: [], children: [])
        #expect(bare.removeImage && bare.removeWithoutOpening)
        #expect(!PurgePlan(volume: Rows.volume("v"), snapshots: [], children: []).removeImage, "a live volume keeps its image")
    }

    @Test func aLiveRowWhoseObjectVanishedBecomesError() {
        let recorded = PurgePlan.recorded(
            volume: Rows.volume("v"), snapshots: [Rows.snapshot(id: "s", of: "v")], removedSnapshots: ["snapshot-s"], imageRemoved: true, now: Rows.epoch)
        #expect(recorded.volume.status == .error && recorded.volume.purged)
        #expect(recorded.snapshots.map(\.status) == [.error])
        #expect(recorded.purgeNext == nil)
        let clone = PurgePlan.recorded(volume: Rows.volume("c", status: .deleted, parent: "p"), snapshots: [], removedSnapshots: [], imageRemoved: true, now: Rows.epoch)
        #expect(clone.purgeNext == "p", "a gone clone lets its parent be purged")
    }

    /// A purge that planned from a live row (it removed deleted snapshots only) and ends after
    /// a deferred delete of the volume: the deadline stays, so the volume may be undeleted.
    @Test func aPurgeEndingDuringADeferredDeletionKeepsItsDeadline() throws {
        var deleted = Rows.volume("v", status: .deleted)
        deleted.purgeAfter = Rows.epoch.addingTimeInterval(120)
        let during = PurgePlan.recorded(volume: deleted, snapshots: [], removedSnapshots: [], imageRemoved: false, now: Rows.epoch)
        #expect(during.volume.purgeAfter == deleted.purgeAfter)
        #expect(try VolumeLifecycle.admitUndelete(during.volume, id: "v", prior: .available, now: Rows.epoch).status == .available)
        let after = PurgePlan.recorded(
            volume: deleted, snapshots: [], removedSnapshots: [], imageRemoved: false, now: Rows.epoch.addingTimeInterval(121))
        #expect(after.volume.purgeAfter == nil, "once its time has come it purges as any delete")
    }
}

/// Clone depth: what a clone adds, and what a flatten takes away from its descendants.
@Suite struct DepthAccountingTests {
    @Test func aCloneIsOneDeeperThanItsSourceUntilTheLimit() {
        var depth = 0
        for _ in 1...5 {
            let plan = ClonePolicy.plan(sourceDepth: depth, maxDepth: 5, flattenFromSnapshot: false, fromSnapshot: false)
            #expect(plan.mode == .clone && plan.depth == depth + 1)
            depth = plan.depth
        }
        let sixth = ClonePolicy.plan(sourceDepth: depth, maxDepth: 5, flattenFromSnapshot: false, fromSnapshot: false)
        #expect(sixth.mode == .cloneAndFlatten && sixth.depth == 0)
    }

    @Test func flatteningTheMiddleOfAChainShortensEverythingBelowIt() {
        // base ← a (1) ← b (2) ← c (3): flattening b takes 2 hops from c.
        let b = Rows.volume("b", parent: "a", depth: 2)
        let ending = VolumeLifecycle.ended(.flattenVolume, .succeeded(detached: true), volume: b)
        #expect(ending.volume.cloneDepth == 0)
        #expect(ending.descendantDepthChange == -2)
        #expect(3 + ending.descendantDepthChange == 1, "c is one hop from a flat image now")
    }
}

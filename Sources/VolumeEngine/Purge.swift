import Foundation
import Lifecycle
import RBD
import VolumeStore

/// Removes what a volume's image no longer needs, as the database says:
/// snapshots that are deleted (or clone snapshots whose clone is gone or flat) and have no
/// clone children left, then the image itself once the volume is deleted and nothing hangs
/// from it. Idempotent; derived from the database every time, so any order of deletes by a
/// user ends with an empty pool. When an image goes, its parent is queued for the same check.
struct Purge {
    let volumeID: String

    struct Outcome: Sendable {
        var removedSnapshots: [String] = []
        var keptSnapshots: [String] = []
        var imageRemoved = false
    }

    /// Returns the purge jobs to queue next (for the parent, when this image went).
    func run(_ context: JobContext) async throws -> [JobRecord] {
        let volumeID = self.volumeID
        let rows = try await context.store.read { tx -> (VolumeRecord, [SnapshotRecord], [VolumeRecord], Set<String>)? in
            guard let volume = try tx.volume(volumeID), !volume.purged else { return nil }
            return (volume, try tx.unpurgedSnapshots(of: volumeID), try tx.cloneChildren(of: volumeID),
                    Set(try tx.unpurgedBackups(volumeID: volumeID).compactMap(\.sourceSnapshot)))
        }
        guard let (volume, snapshots, children, backupSources) = rows else { return [] }
        guard VolumeLifecycle.mayPurge(volume, now: Date()) else {
            // Deleted with deferred deletion: nothing of it goes before its time, except the tag
            // that tells a database rebuilt from the cluster it is deleted.
            try await Self.tagDeleted(context, volume)
            context.logger.info("keeping \(volume.pool)/\(volume.rbdImage) until \(volume.purgeAfter.map { "\($0)" } ?? "-") (deferred deletion)")
            return []
        }

        let plan = PurgePlan(volume: volume, snapshots: snapshots, children: children, backupSources: backupSources)
        let (wanted, removeImage, deletedKept) = (plan.wanted, plan.removeImage, plan.deletedButKept)
        let pool = volume.pool
        let image = volume.rbdImage
        let outcome = try await context.rbd { session -> Outcome in
            var outcome = Outcome()
            let io = try session.pool(pool)
            // librbd refuses (ENOTEMPTY) if it has snapshots after all, and the full path below runs.
            if plan.removeWithoutOpening {
                do {
                    try io.removeImage(name: image)
                    outcome.imageRemoved = true
                    return outcome
                } catch let error as RBDError where error.code == .notFound {
                    outcome.imageRemoved = true
                    return outcome
                } catch let error as RBDError where error.code == .hasSnapshots {
                    // Fall through to the snapshot-by-snapshot path.
                }
            }
            var remaining: [String] = []
            do {
                try io.withImage(image) { image in
                    // What stays for its clones is tagged, so a database rebuilt from the
                    // cluster knows it is deleted.
                    if volume.status == .deleted, !removeImage, try image.metadata(RBDNames.statusKey) != VolumeStatus.deleted.rawValue {
                        try image.setMetadata(RBDNames.statusKey, VolumeStatus.deleted.rawValue)
                    }
                    for snapshot in deletedKept {
                        try image.setMetadata(RBDNames.snapshotDeletedKey(snapshot), "true")
                    }
                    // Snapshots a killed removal left in the trash namespace go first.
                    outcome.removedSnapshots += try image.removeAbandonedTrashedSnapshots()
                    let adopted = RBDNames.adoptedSnapshots(try image.metadata(RBDNames.adoptedSnapshotsKey))
                    for snapshot in try image.snapshots() {
                        guard !wanted.contains(snapshot.name), RBDNames.isManagedSnapshot(snapshot.name), !adopted.contains(snapshot.name) else {
                            remaining.append(snapshot.name)
                            continue
                        }
                        // Unprotecting is the safety check: librbd refuses (EBUSY) while any clone,
                        // known to the database or not, still hangs from the snapshot.
                        do {
                            try image.unprotectSnapshot(snapshot.name)
                        } catch let error as RBDError where error.code == .invalidArgument {
                            // Not protected.
                        } catch let error as RBDError where error.code == .busy {
                            context.logger.info("keeping \(pool)/\(volume.rbdImage)@\(snapshot.name): librbd refuses to unprotect it (clones)")
                            outcome.keptSnapshots.append(snapshot.name)
                            remaining.append(snapshot.name)
                            continue
                        }
                        // A format-2 clone (made by another client) does not stop an unprotect, and
                        // removing its snapshot would only move it to the trash namespace: ask.
                        let children = try image.children(of: snapshot.name)
                        if !children.isEmpty {
                            context.logger.info("keeping \(pool)/\(volume.rbdImage)@\(snapshot.name): clones still attached: \(children)")
                            outcome.keptSnapshots.append(snapshot.name)
                            remaining.append(snapshot.name)
                            continue
                        }
                        do { try image.removeSnapshot(snapshot.name) } catch let error as RBDError where error.code == .notFound {}
                        outcome.removedSnapshots.append(snapshot.name)
                    }
                    // Deleted snapshots already gone from the image (removed by a run killed
                    // before it could record so) are purged too.
                    for snapshot in snapshots where snapshot.status == .deleted && !wanted.contains(snapshot.rbdSnapshot)
                        && !outcome.removedSnapshots.contains(snapshot.rbdSnapshot) {
                        if try !image.snapshotExists(snapshot.rbdSnapshot) { outcome.removedSnapshots.append(snapshot.rbdSnapshot) }
                    }
                }
            } catch let error as RBDError where error.code == .notFound {
                // Gone already — or half-removed by a removal that was killed (only a purge
                // removes images, so finishing it is what was meant).
                try io.removeImageIfPresent(name: image)
                outcome.imageRemoved = true
                return outcome
            }
            if removeImage {
                guard remaining.isEmpty else {
                    throw EngineError.inUse(
                        "image \(pool)/\(image) still has snapshots volumed did not make (or that clones hang from): \(remaining.joined(separator: ", ")); it stays until they are removed")
                }
                try io.removeImageIfPresent(name: image)
                outcome.imageRemoved = true
            }
            return outcome
        }

        if !outcome.removedSnapshots.isEmpty || outcome.imageRemoved {
            context.logger.info("purged \(pool)/\(image): snapshots removed \(outcome.removedSnapshots), image removed \(outcome.imageRemoved)")
        }
        return try await context.store.write { tx -> [JobRecord] in
            guard let volume = try tx.volume(volumeID) else { return [] }
            let recorded = PurgePlan.recorded(
                volume: volume, snapshots: try tx.unpurgedSnapshots(of: volumeID),
                removedSnapshots: outcome.removedSnapshots, imageRemoved: outcome.imageRemoved, now: Date())
            for snapshot in recorded.snapshots { try tx.update(snapshot) }
            if recorded.volume != volume { try tx.update(recorded.volume) }
            guard let parent = recorded.purgeNext else { return [] }
            return try JobQueue.queuePurge(tx, volumeID: parent).map { [$0] } ?? []
        }
    }
}

extension Purge {
    /// Tags a deleted volume's image `deleted` (idempotent).
    static func tagDeleted(_ context: JobContext, _ volume: VolumeRecord) async throws {
        let (pool, image) = (volume.pool, volume.rbdImage)
        try await context.rbd { session in
            do {
                try session.pool(pool).withImage(image) { opened in
                    if try opened.metadata(RBDNames.statusKey) != VolumeStatus.deleted.rawValue {
                        try opened.setMetadata(RBDNames.statusKey, VolumeStatus.deleted.rawValue)
                    }
                }
            } catch let error as RBDError where error.code == .notFound {
                // Gone already: the purge at its time records it.
            }
        }
    }

    /// The two steps of every delete: write the tombstone (the user sees `deleted` from now on),
    /// then purge the volume's image of whatever nothing depends on any more.
    static func afterTombstone(
        _ context: JobContext, volumeID: String, tombstone: @escaping @Sendable (StoreTransaction) throws -> Void
    ) async throws -> Completion {
        try await context.step(0, "mark deleted", writing: tombstone)
        var followUps: [JobRecord] = []
        try await context.step(1, "purge", checkpoint: false) {
            followUps = try await Purge(volumeID: volumeID).run(context)
        }
        let result = followUps
        return { _ in result }
    }
}

/// Inserting jobs inside a transaction.
enum JobQueue {
    /// Queues a purge of `volumeID` unless one is already queued.
    static func queuePurge(_ tx: StoreTransaction, volumeID: String) throws -> JobRecord? {
        if try tx.queuedJob(kind: .purgeVolume, lockKey: volumeID) != nil { return nil }
        let job = JobRecord(id: newID(), kind: .purgeVolume, lockKey: volumeID, volumeID: volumeID)
        try tx.insert(job)
        return job
    }
}

func newID() -> String { UUID().uuidString.lowercased() }

import Lifecycle
import RBD
import VolumeStore

/// Takes a protected RBD snapshot `snapshot-<id>` of a volume's image.
struct CreateSnapshot: Operation {
    let snapshotID: String

    func run(_ context: JobContext) async throws -> Completion {
        let snapshotID = self.snapshotID
        let (snapshot, volume) = try await context.store.read { tx in
            let snapshot = try tx.requireSnapshot(snapshotID)
            return (snapshot, try tx.requireVolume(snapshot.volumeID))
        }
        let name = snapshot.rbdSnapshot
        try await context.step(0, "snapshot \(volume.rbdImage)@\(name)", checkpoint: false) {
            try await context.rbd { session in
                try session.pool(volume.pool).withImage(volume.rbdImage) { image in
                    if try !image.snapshotExists(name) { try image.createSnapshot(name) }
                    if try !image.isProtected(name) { try image.protectSnapshot(name) }
                    if !snapshot.name.isEmpty { try image.setMetadata(RBDNames.snapshotNameKey(snapshotID), snapshot.name) }
                }
            }
        }
        return { tx in
            try tx.endSnapshotJob(.createSnapshot, .succeeded(), snapshotID: snapshotID)
            return []
        }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let snapshotID = self.snapshotID
        var removed = false
        if let (snapshot, volume) = try? await context.store.read({ tx in
            let snapshot = try tx.requireSnapshot(snapshotID)
            return (snapshot, try tx.requireVolume(snapshot.volumeID))
        }) {
            do {
                try await context.cluster.run { session in
                    try session.pool(volume.pool).withImage(volume.rbdImage) { image in
                        _ = try image.removeAbandonedTrashedSnapshots()
                        guard try image.snapshotExists(snapshot.rbdSnapshot) else { return }
                        do { try image.unprotectSnapshot(snapshot.rbdSnapshot) } catch let error as RBDError where error.code == .invalidArgument {}
                        try image.removeSnapshot(snapshot.rbdSnapshot)
                    }
                }
                removed = true
            } catch {
                context.logger.error("could not remove snapshot after a failed create: \(error); it stays recorded for deletion")
            }
        }
        let outcome = VolumeLifecycle.Outcome.undone(cancelled: error.isCancellation, started: true, imageRemoved: removed)
        return { tx in
            try tx.endSnapshotJob(.createSnapshot, outcome, snapshotID: snapshotID)
            return []
        }
    }
}

/// Deletes a snapshot for its user at once; its RBD snapshot goes when no clone hangs from it.
struct DeleteSnapshot: Operation {
    let snapshotID: String
    let volumeID: String
    let priorStatus: SnapshotStatus

    func run(_ context: JobContext) async throws -> Completion {
        try await Purge.afterTombstone(context, volumeID: volumeID) { [snapshotID] tx in
            try tx.endSnapshotJob(.deleteSnapshot, .succeeded(), snapshotID: snapshotID)
        }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let (snapshotID, priorStatus) = (self.snapshotID, self.priorStatus)
        let cancelled = error.kind == .cancelled
        return { tx in
            try tx.endSnapshotJob(.deleteSnapshot, .undone(cancelled: cancelled, started: false, imageRemoved: false), snapshotID: snapshotID, prior: priorStatus)
            return []
        }
    }
}

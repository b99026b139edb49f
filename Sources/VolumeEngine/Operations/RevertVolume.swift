import Lifecycle
import RBD
import VolumeStore

/// Rolls a volume's image back to one of its snapshots (librbd rollback, with progress). The
/// rollback also restores the snapshot's size, so a volume extended since is grown back to its
/// size, as Cinder does.
struct RevertVolume: Operation {
    let volumeID: String
    let snapshotID: String

    func run(_ context: JobContext) async throws -> Completion {
        let (volumeID, snapshotID) = (self.volumeID, self.snapshotID)
        let (volume, snapshot) = try await context.store.read { tx in
            (try tx.requireVolume(volumeID), try tx.requireSnapshot(snapshotID))
        }
        let size = UInt64(volume.sizeGB) << 30
        try await context.step(0, "roll back \(volume.rbdImage) to \(snapshot.rbdSnapshot)") {
            let progress = context.progressCallback(from: 0, to: 0.99)
            try await context.rbd { session in
                try session.pool(volume.pool).withImage(volume.rbdImage) { image in
                    try image.rollback(to: snapshot.rbdSnapshot, progress: progress)
                }
            }
        }
        try await context.step(1, "restore size \(volume.sizeGB) GiB", checkpoint: false) {
            try await context.rbd { session in
                try session.pool(volume.pool).withImage(volume.rbdImage) { image in
                    if try image.size() < size { try image.resize(to: size) }
                }
            }
        }
        return { tx in try tx.endVolumeJob(.revertVolume, .succeeded(), volumeID: volumeID) }
    }

    /// A rollback stopped half way leaves mixed data: the volume is `error` until reverted again
    /// (a revert is allowed from `error`); one refused before it began stays available.
    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let volumeID = self.volumeID
        let started = context.job.progress > 0 || context.job.step > 0
        let cancelled = error.kind == .cancelled
        return { tx in
            try tx.endVolumeJob(.revertVolume, .undone(cancelled: cancelled, started: started, imageRemoved: false), volumeID: volumeID)
        }
    }
}

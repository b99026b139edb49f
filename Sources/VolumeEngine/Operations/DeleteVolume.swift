import Lifecycle
import VolumeStore

/// Deletes a volume for its user at once (a tombstone), then purges what nothing depends on:
/// its image goes now if it has no snapshots or clones left, otherwise when the last one goes.
struct DeleteVolume: Operation {
    let volumeID: String
    /// The status to return to if the job fails before the tombstone is written.
    let priorStatus: VolumeStatus

    func run(_ context: JobContext) async throws -> Completion {
        try await Purge.afterTombstone(context, volumeID: volumeID) { [volumeID] tx in
            _ = try tx.endVolumeJob(.deleteVolume, .succeeded(), volumeID: volumeID)
        }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let volumeID = self.volumeID
        let priorStatus = self.priorStatus
        let cancelled = error.kind == .cancelled
        return { tx in
            // Once deleted for the user it stays deleted; a later purge finishes the job.
            try tx.endVolumeJob(.deleteVolume, .undone(cancelled: cancelled, started: false, imageRemoved: false), volumeID: volumeID, prior: priorStatus)
        }
    }
}

/// Housekeeping queued when a clone goes away or is flattened: re-checks the parent.
struct PurgeVolume: Operation {
    let volumeID: String

    func run(_ context: JobContext) async throws -> Completion {
        let followUps = try await Purge(volumeID: volumeID).run(context)
        return { _ in followUps }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        { _ in [] }
    }
}

import VolumeStore

/// Deletes a volume for its user at once (a tombstone), then purges what nothing depends on:
/// its image goes now if it has no snapshots or clones left, otherwise when the last one goes.
struct DeleteVolume: Operation {
    let volumeID: String
    /// The status to return to if the job fails before the tombstone is written.
    let priorStatus: String

    func run(_ context: JobContext) async throws -> Completion {
        try await Purge.afterTombstone(context, volumeID: volumeID) { [volumeID] tx in
            var volume = try tx.requireVolume(volumeID)
            volume.status = "deleted"
            try tx.update(volume)
        }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let volumeID = self.volumeID
        let priorStatus = self.priorStatus
        return { tx in
            // Once deleted for the user it stays deleted; a later purge finishes the job.
            var volume = try tx.requireVolume(volumeID)
            if volume.status == "deleting" {
                volume.status = priorStatus
                try tx.update(volume)
            }
            return []
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

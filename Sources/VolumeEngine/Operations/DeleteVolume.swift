import Foundation
import Lifecycle
import RBD
import VolumeStore

/// Deletes a volume for its user at once (a tombstone), then purges what nothing depends on:
/// its image goes now if it has no snapshots or clones left, otherwise when the last one goes.
struct DeleteVolume: Operation {
    let volumeID: String
    /// The status to return to if the job fails before the tombstone is written.
    let priorStatus: VolumeStatus

    func run(_ context: JobContext) async throws -> Completion {
        let volumeID = self.volumeID
        let purgeAfter = context.settings.deferredDeletionDelay.map { Date().addingTimeInterval($0.seconds) }
        return try await Purge.afterTombstone(context, volumeID: volumeID) { tx in
            _ = try tx.endVolumeJob(.deleteVolume, .succeeded(), volumeID: volumeID)
            if let purgeAfter {
                var volume = try tx.requireVolume(volumeID)
                volume.purgeAfter = purgeAfter
                try tx.update(volume)
            }
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

/// `volume.undelete`: the volume is back for its user from the admission on; this removes the
/// `deleted` tag its deferred delete wrote on the image, so a database rebuilt from the
/// cluster does not see it deleted.
struct UndeleteVolume: Operation {
    let volumeID: String

    func run(_ context: JobContext) async throws -> Completion {
        let volume = try await context.volume(volumeID)
        let (pool, image) = (volume.pool, volume.rbdImage)
        try await context.step(0, "untag \(pool)/\(image) as deleted", checkpoint: false) {
            try await context.rbd { session in
                try session.pool(pool).withImage(image) { opened in
                    if try opened.metadata(RBDNames.statusKey) == VolumeStatus.deleted.rawValue {
                        try opened.removeMetadata(RBDNames.statusKey)
                    }
                }
            }
        }
        context.note("undeleted: \(pool)/\(image) is \(volume.status.rawValue) again")
        return { _ in [] }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        // The volume is the user's again whatever happened here: the tag is only for a rebuild.
        context.logger.error("could not untag the undeleted volume \(volumeID): \(error)")
        return { _ in [] }
    }
}

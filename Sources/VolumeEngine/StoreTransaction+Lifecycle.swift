import Lifecycle
import VolumeStore

/// Writes what the lifecycle decided: the I/O half of `VolumeLifecycle`, `SnapshotLifecycle` and
/// `ImageLifecycle`, inside the transaction that ends a job.
extension StoreTransaction {
    /// The end of a job for its volume: the row as the lifecycle says, and the purges it queues.
    func endVolumeJob(_ kind: JobKind, _ outcome: VolumeLifecycle.Outcome, volumeID: String, prior: VolumeStatus = .available) throws -> [JobRecord] {
        let ending = VolumeLifecycle.ended(kind, outcome, volume: try requireVolume(volumeID), prior: prior)
        if ending.descendantDepthChange != 0 {
            try shiftCloneDepth(ofDescendantsOf: volumeID, by: ending.descendantDepthChange)
        }
        try update(ending.volume)
        return try ending.purges.compactMap { try JobQueue.queuePurge(self, volumeID: $0) }
    }

    func endSnapshotJob(_ kind: JobKind, _ outcome: VolumeLifecycle.Outcome, snapshotID: String, prior: SnapshotStatus = .available) throws {
        try update(SnapshotLifecycle.ended(kind, outcome, snapshot: try requireSnapshot(snapshotID), prior: prior))
    }

    /// The end of an image job: the status as the lifecycle says, and what the job learnt
    /// (`change`: its location once uploaded, whether its RBD image is gone).
    func endImageJob(
        _ kind: JobKind, succeeded: Bool, imageID: String, prior: ImageStatus = .active, change: (inout ImageRecord) -> Void = { _ in }
    ) throws -> [JobRecord] {
        var image = try requireImage(imageID)
        image.status = ImageLifecycle.ended(kind, succeeded: succeeded, from: image.status, prior: prior)
        change(&image)
        try update(image)
        return []
    }
}

extension Store {
    /// One admission transaction: `write`, with the lifecycle's refusals thrown as the engine's
    /// errors of the same kind (what the engine's callers catch).
    func admit<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        do {
            return try await write(.full, body)
        } catch let refusal as Refusal {
            throw EngineError(refusal)
        }
    }
}

import Lifecycle
import VolumeStore

/// The database changes that finish a job, run in the same transaction that writes the job's
/// final state; returns follow-up jobs to queue (purges of parents).
typealias Completion = @Sendable (StoreTransaction) throws -> [JobRecord]

/// One kind of job, written as numbered idempotent steps (see `JobContext.step`).
protocol Operation: Sendable {
    /// Runs the remaining steps and says how to record success.
    func run(_ context: JobContext) async throws -> Completion
    /// Undoes what can be undone after a failure or a cancellation, and says how to record it.
    /// Cluster errors here are logged, not thrown: what is left is still in the database.
    func rollback(_ context: JobContext, error: EngineError) async -> Completion
}

extension StoreTransaction {
    func requireVolume(_ id: String) throws -> VolumeRecord {
        guard let volume = try volume(id) else { throw EngineError.notFound("volume \(id) not found") }
        return volume
    }

    func requireSnapshot(_ id: String) throws -> SnapshotRecord {
        guard let snapshot = try snapshot(id) else { throw EngineError.notFound("snapshot \(id) not found") }
        return snapshot
    }
}

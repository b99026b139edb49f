import Foundation
import Lifecycle
import Logging
import VolumeStore

/// Old finished jobs' clock (`job_retention_days`): a finished job's row is kept that long, for
/// `job.get`, `job.list` and idempotency keys, then deleted, so that the job table does not grow
/// without end. It deletes in short batches (the database has one connection: admissions go on
/// between them), then sleeps until the oldest remaining finished job is due, or a day when
/// there is none.
struct JobPruning: Sendable {
    let store: Store
    let logger: Logger
    /// Rows deleted per transaction.
    static let batch = 2_000

    /// Deletes the finished jobs that ended longer than `retention` ago; returns how long to
    /// sleep before the next is due. nil `retention`: jobs are kept for ever.
    func pruneDue(retention: Duration?) async -> Duration {
        guard let retention else { return .seconds(86_400) }
        let age = TimeInterval(retention.components.seconds)
        do {
            let cutoff = Date().addingTimeInterval(-age)
            let started = ContinuousClock.now
            var deleted = 0
            while true {
                let count = try await store.write { tx in try tx.pruneFinishedJobs(endedBefore: cutoff, limit: Self.batch) }
                deleted += count
                if count < Self.batch { break }
                await Task.yield()
            }
            if deleted > 0 {
                logger.info("pruned \(deleted) job(s) finished before \(cutoff.formatted(.iso8601)) (job_retention_days) in \(started.duration(to: .now))")
            }
            guard let oldest = try await store.read({ tx in try tx.oldestFinishedJob() }) else { return .seconds(86_400) }
            // Not before a minute: jobs that end within the same minute go together.
            return max(.seconds(60), min(.until(oldest.addingTimeInterval(age)), .seconds(86_400)))
        } catch {
            logger.warning("cannot prune old finished jobs: \(error)")
            return .seconds(600)
        }
    }
}

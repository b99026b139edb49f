import Foundation
import Lifecycle
import Logging
import VolumeStore

/// Deferred deletion's clock (Cinder's `enable_deferred_deletion`): a volume deleted with it
/// keeps its image and snapshots until its `purge_after`, and this queues its purge at that
/// moment. It sleeps until the soonest deadline, and is woken early when a delete or an
/// undelete changes the deadlines, or the engine stops.
struct DeferredPurges: Sendable {
    let store: Store
    let logger: Logger

    /// Queues the purge of every deferred deletion whose time has come; returns how long to
    /// sleep until the next (at most a day, then it looks again).
    func queueDue(enqueue: @Sendable (JobRecord) async -> Void) async -> Duration {
        do {
            let now = Date()
            let deferred = try await store.read { tx in try tx.deferredDeletions() }
            let due = deferred.filter { VolumeLifecycle.mayPurge($0, now: now) }.map(\.id)
            // A write only when something is due (this runs at every start, delete and undelete).
            let jobs = due.isEmpty ? [] : try await store.write { tx in try due.compactMap { try JobQueue.queuePurge(tx, volumeID: $0) } }
            for job in jobs {
                logger.info("the deferred deletion of volume \(job.volumeID ?? "") is over: purging it", metadata: ["volume_id": "\(job.volumeID ?? "")"])
                await enqueue(job)
            }
            let next = deferred.first { !VolumeLifecycle.mayPurge($0, now: now) }?.purgeAfter
            return next.map(Duration.until) ?? .seconds(86_400)
        } catch {
            // A database that cannot be written (a full state folder): look again later.
            logger.warning("cannot queue the purges of deferred deletions: \(error)")
            return .seconds(30)
        }
    }
}

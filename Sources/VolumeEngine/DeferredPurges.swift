import Foundation
import Lifecycle
import Logging
import Synchronization
import VolumeStore

/// Deferred deletion's clock (Cinder's `enable_deferred_deletion`): a volume deleted with it
/// keeps its image and snapshots until its `purge_after`, and this queues its purge at that
/// moment. It sleeps until the soonest deadline (no polling), and is woken early when a delete
/// or an undelete changes the deadlines, or the engine stops.
final class DeferredPurges: Sendable {
    private let sleeper = Mutex<Task<Void, Never>?>(nil)
    /// Set by `rearm` or `stop` since the deadlines were last read.
    private let changed = Mutex(false)
    private let stopped = Atomic(false)

    /// The deadlines may have changed: read them again now.
    func rearm() {
        changed.withLock { $0 = true }
        sleeper.withLock { $0 }?.cancel()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        rearm()
    }

    /// Until `stop`: queues the purge of every deferred deletion whose time has come, then
    /// sleeps until the next one (at most a day, then looks again).
    func run(store: Store, enqueue: @escaping @Sendable (JobRecord) async -> Void, logger: Logger) async {
        while !stopped.load(ordering: .relaxed) {
            changed.withLock { $0 = false }
            var wait = Duration.seconds(86_400)
            do {
                let now = Date()
                let queued = try await store.write { tx -> (jobs: [JobRecord], next: Date?) in
                    let deferred = try tx.deferredDeletions()
                    let due = deferred.filter { VolumeLifecycle.mayPurge($0, now: now) }
                    let jobs = try due.compactMap { try JobQueue.queuePurge(tx, volumeID: $0.id) }
                    return (jobs, deferred.first { !VolumeLifecycle.mayPurge($0, now: now) }?.purgeAfter)
                }
                for job in queued.jobs {
                    logger.info("the deferred deletion of volume \(job.volumeID ?? "") is over: purging it", metadata: ["volume_id": "\(job.volumeID ?? "")"])
                    await enqueue(job)
                }
                if let next = queued.next { wait = .milliseconds(max(0, Int64(next.timeIntervalSince(Date()) * 1000)) + 10) }
            } catch {
                // A database that cannot be written (a full state folder): look again later.
                logger.warning("cannot queue the purges of deferred deletions: \(error)")
                wait = .seconds(30)
            }
            let nap = Task<Void, Never> { try? await Task.sleep(for: wait) }
            sleeper.withLock { $0 = nap }
            if changed.withLock({ $0 }) { nap.cancel() }
            await nap.value
        }
    }
}

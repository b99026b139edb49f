import Foundation
import Lifecycle
import Logging
import VolumeStore

/// Snapshot schedules' clock, on the active daemon only (it runs with the engine): when a
/// schedule is due it snapshots the volume (`scheduled-<UTC time>`) and deletes the oldest of
/// that schedule's snapshots beyond `keep`, in the same transaction that moves the schedule to
/// its next run, so a crash neither repeats nor skips a turn. A user's snapshot is never
/// touched; a scheduled one with clones goes as any deleted snapshot does, with its last clone.
struct SnapshotSchedules: Sendable {
    let store: Store
    let logger: Logger

    /// Runs every due schedule's turn; returns how long to sleep until the next is due (at most
    /// a day). `accept` queues the jobs a turn admitted.
    func runDue(accept: @Sendable (JobRecord) async -> Void) async -> Duration {
        do {
            let now = Date()
            let (due, next) = try await store.read { tx in try tx.dueSchedules(at: now) }
            var soonest = next
            for schedule in due {
                let (jobs, after) = try await store.write { tx in try Self.turn(schedule.id, tx, now: now) }
                for job in jobs { await accept(job) }
                if let after { soonest = min(soonest ?? after, after) }
            }
            return soonest.map(Duration.until) ?? .seconds(86_400)
        } catch {
            logger.warning("cannot run the snapshot schedules: \(error)")
            return .seconds(30)
        }
    }

    /// One schedule's turn, in one transaction: the jobs it admitted, and its next run (nil
    /// when it was dropped with its volume, or waits for its last snapshot to be made).
    static func turn(_ id: String, _ tx: StoreTransaction, now: Date) throws -> ([JobRecord], Date?) {
        guard let schedule = try tx.schedule(id) else { return ([], nil) }
        guard schedule.nextRunAt <= now else { return ([], schedule.nextRunAt) }
        let row = try tx.volume(schedule.volumeID)
        let own = try tx.scheduledSnapshots(of: schedule.id)
        switch ScheduleLifecycle.turn(for: row, snapshots: own) {
        case .drop:
            try tx.delete(schedule)
            return ([], nil)
        case .postpone:
            let later = ScheduleLifecycle.postponed(schedule, at: now)
            try tx.update(later)
            return ([], later.nextRunAt)
        case .waitForSnapshot:
            // Due still; not a deadline to sleep to: the end of that snapshot's job wakes the clock.
            return ([], nil)
        case .snapshot:
            break
        }
        let volume: VolumeRecord
        do {
            volume = try VolumeLifecycle.admit(.snapshot, to: row, id: schedule.volumeID).volume
        } catch {
            // Busy with another change (an extend, a revert): a little later.
            let later = ScheduleLifecycle.postponed(schedule, at: now)
            try tx.update(later)
            return ([], later.nextRunAt)
        }
        var jobs: [JobRecord] = []
        for old in ScheduleLifecycle.expired(own, keep: schedule.keep) {
            let (snapshot, prior) = try SnapshotLifecycle.admit(.delete, to: old, id: old.id)
            try tx.update(snapshot)
            let job = JobRecord(
                id: newID(), kind: .deleteSnapshot, lockKey: volume.id, volumeID: volume.id, snapshotID: old.id,
                params: try PriorStatusParameters(priorStatus: prior).encoded())
            try tx.insert(job)
            jobs.append(job)
        }
        let snapshotID = newID()
        var snapshot = SnapshotRecord(
            id: snapshotID, volumeID: volume.id, name: ScheduleLifecycle.snapshotName(at: now), status: .creating,
            rbdSnapshot: RBDNames.snapshot(snapshotID), sizeGB: volume.sizeGB, now: now)
        snapshot.scheduleID = schedule.id
        try tx.insert(snapshot)
        let create = JobRecord(
            id: newID(), kind: .createSnapshot, lockKey: volume.id, volumeID: volume.id, snapshotID: snapshotID,
            params: try NoParameters().encoded())
        try tx.insert(create)
        let next = ScheduleLifecycle.ran(schedule, at: now)
        try tx.update(next)
        // The new snapshot first, then the deletes (the same lock: they run in this order).
        return ([create] + jobs, next.nextRunAt)
    }
}

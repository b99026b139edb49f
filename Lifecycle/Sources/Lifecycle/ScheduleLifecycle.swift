import Foundation

/// Snapshot schedules as pure rules: what may be scheduled, when a schedule runs next, which of
/// its snapshots it deletes. The engine's clock does the I/O around them.
public enum ScheduleLifecycle {
    /// The most snapshots one schedule keeps.
    public static let maximumKeep = 1_000

    /// A new schedule for `volume` (the first snapshot at once). `minimum`: `schedule_min_interval`.
    public static func admit(
        _ volume: VolumeRecord?, id: String, volumeID: String, intervalSeconds: Int, keep: Int, minimum: Int, now: Date
    ) throws(Refusal) -> ScheduleRecord {
        let volume = try volume.visible(as: "volume", id: volumeID)
        guard intervalSeconds >= minimum else {
            throw Refusal(.invalid, "interval_s \(intervalSeconds) is below schedule_min_interval (\(minimum) s)")
        }
        guard (1...maximumKeep).contains(keep) else {
            throw Refusal(.invalid, "keep \(keep) is out of range 1…\(maximumKeep)")
        }
        return ScheduleRecord(id: id, volumeID: volume.id, intervalSeconds: intervalSeconds, keep: keep, now: now)
    }

    /// The schedule took its snapshot at `now`: the next one is an interval later. After a
    /// downtime this is one catch-up snapshot, not one per interval missed.
    public static func ran(_ schedule: ScheduleRecord, at now: Date) -> ScheduleRecord {
        var schedule = schedule
        schedule.lastRunAt = now
        schedule.nextRunAt = now.addingTimeInterval(TimeInterval(schedule.intervalSeconds))
        schedule.updatedAt = now
        return schedule
    }

    /// The volume could not be snapshotted now (another of its jobs holds it, or it is deleted
    /// within its deferral): try again soon, within the interval.
    public static func postponed(_ schedule: ScheduleRecord, at now: Date) -> ScheduleRecord {
        var schedule = schedule
        schedule.nextRunAt = now.addingTimeInterval(TimeInterval(min(schedule.intervalSeconds, 30)))
        schedule.updatedAt = now
        return schedule
    }

    /// What a due schedule does with its volume now.
    public enum Turn: Sendable, Equatable {
        /// Take a snapshot.
        case snapshot
        /// Not now (deleted with deferred deletion: it may come back).
        case postpone
        /// Once the snapshot of its last turn is made (its job's end wakes the clock).
        case waitForSnapshot
        /// The volume is gone for good: the schedule goes too.
        case drop
    }

    /// `snapshots`: the schedule's own. While one of them is still being made (a cluster slower
    /// than the interval) the turn waits: a snapshot in the making cannot be deleted yet, so
    /// taking another would leave more than `keep`, and a stalled cluster would pile them up.
    public static func turn(for volume: VolumeRecord?, snapshots: [SnapshotRecord]) -> Turn {
        guard let volume, !volume.purged else { return .drop }
        if volume.status == .deleted { return volume.purgeAfter == nil ? .drop : .postpone }
        if snapshots.contains(where: { $0.status == .creating }) { return .waitForSnapshot }
        return .snapshot
    }

    /// The snapshot's name: `scheduled-<UTC time>`.
    public static func snapshotName(at now: Date) -> String {
        "scheduled-" + now.formatted(.iso8601)
    }

    /// This schedule's snapshots to delete once one more is taken: the oldest beyond `keep`
    /// (counting the new one), of those that are available (one still being made stays).
    /// `snapshots`: the schedule's snapshots that are not deleted, in any order.
    public static func expired(_ snapshots: [SnapshotRecord], keep: Int) -> [SnapshotRecord] {
        let live = snapshots.filter { $0.status != .deleted }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        let excess = live.count + 1 - keep
        guard excess > 0 else { return [] }
        return Array(live.prefix(excess).filter { $0.status == .available })
    }
}

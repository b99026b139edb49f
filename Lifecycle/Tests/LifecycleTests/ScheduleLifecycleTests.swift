import Foundation
import Lifecycle
import Testing

/// Snapshot schedules: admission, the next run (one catch-up after a downtime), retention.
@Suite struct ScheduleLifecycleTests {
    @Test func aScheduleNeedsALiveVolumeAnIntervalAboveTheMinimumAndAKeep() throws {
        let schedule = try ScheduleLifecycle.admit(Rows.volume(), id: "s", volumeID: "v", intervalSeconds: 300, keep: 3, minimum: 300, now: Rows.epoch)
        #expect(schedule.nextRunAt == Rows.epoch, "the first snapshot at once")
        #expect(schedule.lastRunAt == nil)
        func refusal(_ volume: VolumeRecord?, interval: Int = 300, keep: Int = 3) -> (FailureKind, String)? {
            do {
                _ = try ScheduleLifecycle.admit(volume, id: "s", volumeID: "v", intervalSeconds: interval, keep: keep, minimum: 300, now: Rows.epoch)
                return nil
            } catch { return (error.kind, error.message) }
        }
        #expect(refusal(Rows.volume(), interval: 299)?.1.contains("schedule_min_interval") == true)
        #expect(refusal(Rows.volume(), keep: 0)?.0 == .invalid)
        #expect(refusal(Rows.volume(status: .deleted))?.0 == .notFound)
        #expect(refusal(nil)?.0 == .notFound)
    }

    @Test func afterADowntimeOneCatchUpNotOnePerMissedInterval() {
        var schedule = ScheduleRecord(id: "s", volumeID: "v", intervalSeconds: 60, keep: 2, now: Rows.epoch)
        schedule = ScheduleLifecycle.ran(schedule, at: Rows.epoch)
        #expect(schedule.nextRunAt == Rows.epoch.addingTimeInterval(60))
        // Down for ten intervals: the next run counts from the catch-up, not from the missed ones.
        let late = Rows.epoch.addingTimeInterval(600)
        schedule = ScheduleLifecycle.ran(schedule, at: late)
        #expect(schedule.lastRunAt == late && schedule.nextRunAt == late.addingTimeInterval(60))
        #expect(ScheduleLifecycle.postponed(schedule, at: late).nextRunAt == late.addingTimeInterval(30))
    }

    @Test func retentionDeletesTheOldestAvailableBeyondKeep() {
        func snapshot(_ id: String, _ minute: Double, _ status: SnapshotStatus = .available) -> SnapshotRecord {
            SnapshotRecord(id: id, volumeID: "v", name: "scheduled-\(id)", status: status, rbdSnapshot: "snapshot-\(id)", sizeGB: 1,
                           now: Rows.epoch.addingTimeInterval(minute * 60))
        }
        let three = [snapshot("c", 3), snapshot("a", 1), snapshot("b", 2)]
        #expect(ScheduleLifecycle.expired(three, keep: 2).map(\.id) == ["a", "b"], "with the new one, two stay")
        #expect(ScheduleLifecycle.expired(three, keep: 4).isEmpty)
        #expect(ScheduleLifecycle.expired([snapshot("a", 1, .creating), snapshot("b", 2)], keep: 1).map(\.id) == ["b"],
                "one still being made is not deleted")
        #expect(ScheduleLifecycle.expired([snapshot("a", 1, .deleted), snapshot("b", 2)], keep: 2).isEmpty, "a deleted one does not count")
    }

    @Test func aTurnWaitsWhileTheLastSnapshotIsStillBeingMade() {
        let making = SnapshotRecord(id: "a", volumeID: "v", name: "scheduled-a", status: .creating, rbdSnapshot: "snapshot-a", sizeGB: 1, now: Rows.epoch)
        var made = making
        made.status = .available
        #expect(ScheduleLifecycle.turn(for: Rows.volume(), snapshots: [making]) == .waitForSnapshot, "else more than keep would stay")
        #expect(ScheduleLifecycle.turn(for: Rows.volume(), snapshots: [made]) == .snapshot)
        #expect(ScheduleLifecycle.turn(for: nil, snapshots: [making]) == .drop, "a volume gone for good drops it still")
    }

    @Test func aVolumeGoneForGoodDropsItsSchedule() {
        #expect(ScheduleLifecycle.turn(for: Rows.volume(), snapshots: []) == .snapshot)
        #expect(ScheduleLifecycle.turn(for: nil, snapshots: []) == .drop)
        #expect(ScheduleLifecycle.turn(for: Rows.volume(status: .deleted), snapshots: []) == .drop)
        var deferred = Rows.volume(status: .deleted)
        deferred.purgeAfter = Rows.epoch
        #expect(ScheduleLifecycle.turn(for: deferred, snapshots: []) == .postpone, "it may be undeleted")
        #expect(ScheduleLifecycle.snapshotName(at: Rows.epoch).hasPrefix("scheduled-20"))
    }
}

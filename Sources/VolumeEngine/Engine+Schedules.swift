import Foundation
import Lifecycle
import VolumeStore

/// Snapshot schedules: rows only (the schedule clock admits their snapshots when due).
extension Engine {
    /// A schedule for `volumeID`: its first snapshot at once, then one every `intervalSeconds`,
    /// the newest `keep` kept.
    public func createSchedule(volumeID: String, intervalSeconds: Int, keep: Int) async throws -> ScheduleRecord {
        let minimum = settings.scheduleMinimumInterval
        let schedule = try await store.admit { tx -> ScheduleRecord in
            let schedule = try ScheduleLifecycle.admit(
                try tx.volume(volumeID), id: newID(), volumeID: volumeID, intervalSeconds: intervalSeconds, keep: keep,
                minimum: minimum, now: Date())
            try tx.insert(schedule)
            return schedule
        }
        logger.info("snapshot schedule \(schedule.id): every \(intervalSeconds) s, keeping \(keep)", metadata: ["volume_id": "\(volumeID)"])
        scheduleClock.rearm()
        return schedule
    }

    /// Ends a schedule; the snapshots it took stay (as any snapshot, for the user to delete).
    public func deleteSchedule(id: String) async throws -> ScheduleRecord {
        let schedule = try await store.admit { tx -> ScheduleRecord in
            guard let schedule = try tx.schedule(id) else { throw EngineError.notFound("schedule \(id) not found") }
            try tx.delete(schedule)
            return schedule
        }
        logger.info("snapshot schedule \(id) deleted", metadata: ["volume_id": "\(schedule.volumeID)"])
        return schedule
    }

    public func schedules(volumeID: String?) async throws -> [ScheduleRecord] {
        try await store.read { try $0.schedules(volumeID: volumeID) }
    }
}

import Lifecycle
import VolumeEngine
import VolumeProtocol

/// The `snapshot.*` methods.
extension Dispatcher {
    /// `snapshot.create`
    func snapshotCreate(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let accepted = try await engine.createSnapshot(
            volumeID: try p.requiredID("volume_id"), name: try p.name("name"), idempotencyKey: try p.idempotencyKey())
        return try await mutation(accepted, wait: try p.bool("wait") ?? false)
    }

    /// `snapshot.delete`
    func snapshotDelete(_ request: Request) async throws -> any Encodable & Sendable {
        try await mutation(try await engine.deleteSnapshot(id: try request.params.requiredID("snapshot_id")), wait: try request.params.bool("wait") ?? false)
    }

    /// `snapshot.get`
    func snapshotGet(_ request: Request) async throws -> any Encodable & Sendable {
        Snapshot(try await engine.snapshot(id: try request.params.requiredID("snapshot_id")))
    }

    /// `snapshot.list`
    func snapshotList(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let volumeID = try p.id("volume_id")
        return try await engine.snapshots(volumeID: volumeID).map(Snapshot.init)
    }

    /// `schedule.create`
    func scheduleCreate(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        return Schedule(try await engine.createSchedule(
            volumeID: try p.requiredID("volume_id"), intervalSeconds: try p.requiredInt("interval_s", in: 1...(366 * 86_400)),
            keep: try p.requiredInt("keep", in: 1...ScheduleLifecycle.maximumKeep)))
    }

    /// `schedule.delete`
    func scheduleDelete(_ request: Request) async throws -> any Encodable & Sendable {
        Schedule(try await engine.deleteSchedule(id: try request.params.requiredID("schedule_id")))
    }

    /// `schedule.list`
    func scheduleList(_ request: Request) async throws -> any Encodable & Sendable {
        try await engine.schedules(volumeID: try request.params.id("volume_id")).map(Schedule.init)
    }
}

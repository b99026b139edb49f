import Foundation

/// A snapshot schedule: every `intervalSeconds` the active daemon snapshots the volume (named
/// `scheduled-<UTC time>`) and deletes the oldest of this schedule's snapshots beyond `keep`.
public struct ScheduleRecord: Codable, Sendable, Equatable {
    public var id: String
    public var volumeID: String
    public var intervalSeconds: Int
    public var keep: Int
    /// When it last took a snapshot; nil before the first.
    public var lastRunAt: Date?
    /// When it takes the next one.
    public var nextRunAt: Date
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, volumeID = "volume_id", intervalSeconds = "interval_s", keep
        case lastRunAt = "last_run_at", nextRunAt = "next_run_at", createdAt = "created_at", updatedAt = "updated_at"
    }

    public init(id: String, volumeID: String, intervalSeconds: Int, keep: Int, now: Date = Date()) {
        self.id = id
        self.volumeID = volumeID
        self.intervalSeconds = intervalSeconds
        self.keep = keep
        self.lastRunAt = nil
        self.nextRunAt = now
        self.createdAt = now
        self.updatedAt = now
    }
}

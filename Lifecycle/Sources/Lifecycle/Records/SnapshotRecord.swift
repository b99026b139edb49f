import Foundation

/// A user snapshot. A `deleted` snapshot that is not purged still exists in RBD because clones hang from it.
public struct SnapshotRecord: Codable, Sendable, Equatable {
    public var id: String
    public var volumeID: String
    public var name: String
    public var status: SnapshotStatus
    public var rbdSnapshot: String
    public var sizeGB: Int
    public var purged: Bool
    /// The schedule that took it (and may delete it); nil for a user's snapshot.
    public var scheduleID: String?
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, volumeID = "volume_id", name, status, rbdSnapshot = "rbd_snapshot", sizeGB = "size_gb"
        case purged, scheduleID = "schedule_id", createdAt = "created_at", updatedAt = "updated_at"
    }

    public init(id: String, volumeID: String, name: String, status: SnapshotStatus, rbdSnapshot: String, sizeGB: Int, now: Date = Date()) {
        self.id = id
        self.volumeID = volumeID
        self.name = name
        self.status = status
        self.rbdSnapshot = rbdSnapshot
        self.sizeGB = sizeGB
        self.purged = false
        self.scheduleID = nil
        self.createdAt = now
        self.updatedAt = now
    }
}

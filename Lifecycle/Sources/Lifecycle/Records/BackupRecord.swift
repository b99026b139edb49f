import Foundation

/// A backup of a volume in the backup pool (`[backup] backup_ceph_pool`). A full backup starts
/// a chain: an RBD image `backup-<id>` of the volume's bytes; each incremental one writes only
/// what changed since its parent onto that image. Every backup is a snapshot `backup-<id>` of
/// its chain's image, so it reads (and restores) whole, whichever others are deleted.
public struct BackupRecord: Codable, Sendable, Equatable {
    public var id: String
    public var volumeID: String
    public var name: String
    public var status: BackupStatus
    public var sizeGB: Int
    /// The backup this one is incremental to; nil for a full one.
    public var parentID: String?
    /// The chain's RBD image in `pool`.
    public var pool: String
    public var chainImage: String
    /// The snapshot of `chainImage` that is this backup.
    public var rbdSnapshot: String
    /// The snapshot of the volume's image this backup was read from, kept while it is the base
    /// of the next incremental backup; nil once gone.
    public var sourceSnapshot: String?
    public var bytesTransferred: Int64
    public var purged: Bool
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, volumeID = "volume_id", name, status, sizeGB = "size_gb", parentID = "parent_id", pool
        case chainImage = "chain_image", rbdSnapshot = "rbd_snapshot", sourceSnapshot = "source_snapshot"
        case bytesTransferred = "bytes_transferred", purged, createdAt = "created_at", updatedAt = "updated_at"
    }

    /// The RBD names of backup `id`: the chain image a full backup starts, its snapshot of its
    /// chain, and the snapshot of the volume it was read from (`[backup]`'s documented layout).
    public static func chainImage(startedBy id: String) -> String { "backup-\(id)" }
    public static func rbdSnapshot(of id: String) -> String { "backup-\(id)" }
    public static func sourceSnapshot(of id: String) -> String { "backup-\(id).source_snap" }

    public init(id: String, volumeID: String, name: String, sizeGB: Int, parent: BackupRecord?, pool: String, now: Date = Date()) {
        self.id = id
        self.volumeID = volumeID
        self.name = name
        self.status = .creating
        self.sizeGB = sizeGB
        self.parentID = parent?.id
        self.pool = pool
        self.chainImage = parent?.chainImage ?? Self.chainImage(startedBy: id)
        self.rbdSnapshot = Self.rbdSnapshot(of: id)
        self.sourceSnapshot = Self.sourceSnapshot(of: id)
        self.bytesTransferred = 0
        self.purged = false
        self.createdAt = now
        self.updatedAt = now
    }
}

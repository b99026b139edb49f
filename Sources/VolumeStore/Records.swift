import Foundation
import GRDB

/// A volume as the database knows it. `purged` is true once its RBD image is gone from the cluster;
/// a `deleted` volume that is not purged is a tombstone kept for its dependants.
public struct VolumeRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "volume"

    public var id: String
    public var name: String
    public var sizeGB: Int
    public var status: String
    public var pool: String
    public var rbdImage: String
    /// The volume whose image this one's image is a clone of, while it still is.
    public var parentVolumeID: String?
    /// The RBD snapshot of the parent image that the clone hangs from.
    public var parentSnapshot: String?
    /// The image (Glance side) whose `snap` this volume's image is a clone of, while it still is.
    public var parentImageID: String?
    /// Where the volume came from: `volume`, `snapshot` or `image`, and its id; kept after a flatten.
    public var sourceKind: String?
    public var sourceID: String?
    /// Clone hops between this image and a flat one.
    public var cloneDepth: Int
    public var purged: Bool
    /// Created without exclusive-lock so that several hosts may attach it at once.
    public var multiattach: Bool
    /// Attachments right now (rows in `attachment`), kept here so lists need no join.
    public var attachCount: Int
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, sizeGB = "size_gb", status, pool, rbdImage = "rbd_image"
        case parentVolumeID = "parent_volume_id", parentSnapshot = "parent_snapshot", parentImageID = "parent_image_id"
        case multiattach, attachCount = "attach_count"
        case sourceKind = "source_kind", sourceID = "source_id", cloneDepth = "clone_depth"
        case purged, createdAt = "created_at", updatedAt = "updated_at"
    }

    /// The columns of `init(listed:)`, in its order.
    static let listedColumns = """
        id, name, size_gb, status, pool, rbd_image, parent_volume_id, parent_snapshot, parent_image_id, \
        source_kind, source_id, clone_depth, purged, multiattach, attach_count, created_at, updated_at
        """

    /// Reads a row of `SELECT \(listedColumns)` by position (no column-name lookups: long lists).
    init(listed row: Row) throws {
        id = try row.decode(atIndex: 0)
        name = try row.decode(atIndex: 1)
        sizeGB = try row.decode(atIndex: 2)
        status = try row.decode(atIndex: 3)
        pool = try row.decode(atIndex: 4)
        rbdImage = try row.decode(atIndex: 5)
        parentVolumeID = try row.decode(atIndex: 6)
        parentSnapshot = try row.decode(atIndex: 7)
        parentImageID = try row.decode(atIndex: 8)
        sourceKind = try row.decode(atIndex: 9)
        sourceID = try row.decode(atIndex: 10)
        cloneDepth = try row.decode(atIndex: 11)
        purged = try row.decode(atIndex: 12)
        multiattach = try row.decode(atIndex: 13)
        attachCount = try row.decode(atIndex: 14)
        createdAt = try row.decode(atIndex: 15)
        updatedAt = try row.decode(atIndex: 16)
    }

    public init(
        id: String, name: String, sizeGB: Int, status: String, pool: String, rbdImage: String,
        parentVolumeID: String? = nil, parentSnapshot: String? = nil, sourceKind: String? = nil,
        sourceID: String? = nil, cloneDepth: Int = 0, purged: Bool = false, multiattach: Bool = false, now: Date = Date()
    ) {
        self.parentImageID = nil
        self.multiattach = multiattach
        self.attachCount = 0
        self.id = id
        self.name = name
        self.sizeGB = sizeGB
        self.status = status
        self.pool = pool
        self.rbdImage = rbdImage
        self.parentVolumeID = parentVolumeID
        self.parentSnapshot = parentSnapshot
        self.sourceKind = sourceKind
        self.sourceID = sourceID
        self.cloneDepth = cloneDepth
        self.purged = purged
        self.createdAt = now
        self.updatedAt = now
    }
}

/// A user snapshot. A `deleted` snapshot that is not purged still exists in RBD because clones hang from it.
public struct SnapshotRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "snapshot"

    public var id: String
    public var volumeID: String
    public var name: String
    public var status: String
    public var rbdSnapshot: String
    public var sizeGB: Int
    public var purged: Bool
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, volumeID = "volume_id", name, status, rbdSnapshot = "rbd_snapshot", sizeGB = "size_gb"
        case purged, createdAt = "created_at", updatedAt = "updated_at"
    }

    public init(id: String, volumeID: String, name: String, status: String, rbdSnapshot: String, sizeGB: Int, now: Date = Date()) {
        self.id = id
        self.volumeID = volumeID
        self.name = name
        self.status = status
        self.rbdSnapshot = rbdSnapshot
        self.sizeGB = sizeGB
        self.purged = false
        self.createdAt = now
        self.updatedAt = now
    }
}

/// A durable unit of work. `step` is the index of the step to run next, written before that
/// step's effect happens; `params` is the operation's own JSON.
public struct JobRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "job"

    public var id: String
    public var kind: String
    public var state: String
    /// Jobs with the same lock key never run at the same time (the volume they change).
    public var lockKey: String
    public var volumeID: String?
    public var snapshotID: String?
    public var params: String
    public var step: Int
    public var progress: Double
    public var errorKind: String?
    public var errorMessage: String?
    public var idempotencyKey: String?
    /// With an idempotency key: the request it was given with, in a canonical form.
    public var request: String?
    public var cancelRequested: Bool
    /// The image (Glance side) the job is about, for image jobs.
    public var imageID: String?
    /// Free text about how the job went (e.g. "flattened: clone depth 6 > 5").
    public var note: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, kind, state, lockKey = "lock_key", volumeID = "volume_id", snapshotID = "snapshot_id"
        case params, step, progress, errorKind = "error_kind", errorMessage = "error_message"
        case idempotencyKey = "idempotency_key", request, cancelRequested = "cancel_requested", note, imageID = "image_id"
        case createdAt = "created_at", startedAt = "started_at", finishedAt = "finished_at"
    }

    public init(
        id: String, kind: String, lockKey: String, volumeID: String? = nil, snapshotID: String? = nil,
        imageID: String? = nil, params: String = "{}", idempotencyKey: String? = nil, now: Date = Date()
    ) {
        self.imageID = imageID
        self.id = id
        self.kind = kind
        self.state = "queued"
        self.lockKey = lockKey
        self.volumeID = volumeID
        self.snapshotID = snapshotID
        self.params = params
        self.step = 0
        self.progress = 0
        self.idempotencyKey = idempotencyKey
        self.cancelRequested = false
        self.createdAt = now
    }

    public var isFinal: Bool { state == "succeeded" || state == "failed" || state == "cancelled" }
}

/// An image in the image store (Glance's RBD store): `<pool>/<id>` with the protected snapshot
/// `snap` that volumes and VM disks are cloned from.
public struct ImageRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "image"

    public var id: String
    public var name: String
    /// `creating`, `active`, `deleting`, `deleted` or `error`.
    public var status: String
    public var pool: String
    public var rbdImage: String
    public var sizeBytes: Int64
    /// sha256 of the data, hex.
    public var checksum: String?
    /// `rbd://<fsid>/<pool>/<image>/snap`, once active.
    public var location: String?
    public var purged: Bool
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, status, pool, rbdImage = "rbd_image", sizeBytes = "size_bytes", checksum, location, purged
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    public init(id: String, name: String, status: String, pool: String, rbdImage: String, sizeBytes: Int64 = 0, now: Date = Date()) {
        self.id = id
        self.name = name
        self.status = status
        self.pool = pool
        self.rbdImage = rbdImage
        self.sizeBytes = sizeBytes
        self.purged = false
        self.createdAt = now
        self.updatedAt = now
    }
}

/// A host using a volume (Cinder's attachment): what `volume.attach` recorded.
public struct AttachmentRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "attachment"

    public var id: String
    public var volumeID: String
    public var host: String
    /// The connector the caller sent, as JSON.
    public var connector: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey { case id, volumeID = "volume_id", host, connector, createdAt = "created_at" }

    public init(id: String, volumeID: String, host: String, connector: String, now: Date = Date()) {
        self.id = id
        self.volumeID = volumeID
        self.host = host
        self.connector = connector
        self.createdAt = now
    }
}

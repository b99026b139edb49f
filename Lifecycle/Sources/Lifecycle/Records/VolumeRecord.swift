import Foundation

/// A volume as the database knows it. `purged` is true once its RBD image is gone from the cluster;
/// a `deleted` volume that is not purged is a tombstone kept for its dependants.
public struct VolumeRecord: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var sizeGB: Int
    public var status: VolumeStatus
    public var pool: String
    public var rbdImage: String
    /// The volume whose image this one's image is a clone of, while it still is.
    public var parentVolumeID: String?
    /// The RBD snapshot of the parent image that the clone hangs from.
    public var parentSnapshot: String?
    /// The image (Glance side) whose `snap` this volume's image is a clone of, while it still is.
    public var parentImageID: String?
    /// Where the volume came from, and its id; kept after a flatten.
    public var sourceKind: SourceKind?
    public var sourceID: String?
    /// Clone hops between this image and a flat one.
    public var cloneDepth: Int
    public var purged: Bool
    /// Created without exclusive-lock so that several hosts may attach it at once.
    public var multiattach: Bool
    /// Attachments right now (rows in `attachment`), kept here so lists need no join.
    public var attachCount: Int
    /// A volume deleted with deferred deletion: its image and snapshots stay until then, and
    /// `volume.undelete` may bring it back before. Nil otherwise (and once the deferral is over).
    public var purgeAfter: Date?
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, sizeGB = "size_gb", status, pool, rbdImage = "rbd_image"
        case parentVolumeID = "parent_volume_id", parentSnapshot = "parent_snapshot", parentImageID = "parent_image_id"
        case multiattach, attachCount = "attach_count", purgeAfter = "purge_after"
        case sourceKind = "source_kind", sourceID = "source_id", cloneDepth = "clone_depth"
        case purged, createdAt = "created_at", updatedAt = "updated_at"
    }

    public init(
        id: String, name: String, sizeGB: Int, status: VolumeStatus, pool: String, rbdImage: String,
        parentVolumeID: String? = nil, parentSnapshot: String? = nil, sourceKind: SourceKind? = nil,
        sourceID: String? = nil, cloneDepth: Int = 0, purged: Bool = false, multiattach: Bool = false, now: Date = Date()
    ) {
        self.parentImageID = nil
        self.multiattach = multiattach
        self.attachCount = 0
        self.purgeAfter = nil
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

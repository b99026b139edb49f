import Foundation
import GRDB
import Lifecycle

// The lifecycle's rows as GRDB records (their tables), and its typed states as column values
// (stored by raw value). Retroactive: the Lifecycle package stays free of GRDB, and only this
// module gives its types these conformances.

/// A row that records when it last changed (`StoreTransaction.update` stamps it).
public protocol Timestamped {
    var updatedAt: Date { get set }
}

extension VolumeRecord: Timestamped {}
extension SnapshotRecord: Timestamped {}
extension ScheduleRecord: Timestamped {}
extension BackupRecord: Timestamped {}
extension ImageRecord: Timestamped {}

extension VolumeRecord: @retroactive FetchableRecord, @retroactive PersistableRecord {
    public static let databaseTableName = "volume"

    /// The columns of `init(listed:)`, in its order.
    static let listedColumns = """
        id, name, size_gb, status, pool, rbd_image, parent_volume_id, parent_snapshot, parent_image_id, \
        source_kind, source_id, clone_depth, purged, multiattach, attach_count, created_at, updated_at
        """

    /// Reads a row of `SELECT \(listedColumns)` by position (no column-name lookups: long lists).
    init(listed row: Row) throws {
        self.init(
            id: try row.decode(atIndex: 0), name: try row.decode(atIndex: 1), sizeGB: try row.decode(atIndex: 2),
            status: try row.decode(atIndex: 3), pool: try row.decode(atIndex: 4), rbdImage: try row.decode(atIndex: 5),
            parentVolumeID: try row.decode(atIndex: 6), parentSnapshot: try row.decode(atIndex: 7),
            sourceKind: try row.decode(atIndex: 9), sourceID: try row.decode(atIndex: 10),
            cloneDepth: try row.decode(atIndex: 11), purged: try row.decode(atIndex: 12),
            multiattach: try row.decode(atIndex: 13), now: try row.decode(atIndex: 15))
        parentImageID = try row.decode(atIndex: 8)
        attachCount = try row.decode(atIndex: 14)
        updatedAt = try row.decode(atIndex: 16)
    }
}

extension SnapshotRecord: @retroactive FetchableRecord, @retroactive PersistableRecord {
    public static let databaseTableName = "snapshot"
}

extension JobRecord: @retroactive FetchableRecord, @retroactive PersistableRecord {
    public static let databaseTableName = "job"
}

extension ScheduleRecord: @retroactive FetchableRecord, @retroactive PersistableRecord {
    public static let databaseTableName = "schedule"
}

extension BackupRecord: @retroactive FetchableRecord, @retroactive PersistableRecord {
    public static let databaseTableName = "backup"
}

extension ImageRecord: @retroactive FetchableRecord, @retroactive PersistableRecord {
    public static let databaseTableName = "image"
}

extension AttachmentRecord: @retroactive FetchableRecord, @retroactive PersistableRecord {
    public static let databaseTableName = "attachment"
}

extension VolumeStatus: @retroactive DatabaseValueConvertible {}
extension SnapshotStatus: @retroactive DatabaseValueConvertible {}
extension BackupStatus: @retroactive DatabaseValueConvertible {}
extension ImageStatus: @retroactive DatabaseValueConvertible {}
extension JobState: @retroactive DatabaseValueConvertible {}
extension JobKind: @retroactive DatabaseValueConvertible {}
extension SourceKind: @retroactive DatabaseValueConvertible {}
extension FailureKind: @retroactive DatabaseValueConvertible {}

/// Every kind of job. The raw values are stored in the database and shown to clients.
public enum JobKind: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case createVolume = "volume.create"
    case deleteVolume = "volume.delete"
    case extendVolume = "volume.extend"
    case flattenVolume = "volume.flatten"
    case createSnapshot = "snapshot.create"
    case deleteSnapshot = "snapshot.delete"
    case revertVolume = "volume.revert"
    case manageVolume = "volume.manage"
    case unmanageVolume = "volume.unmanage"
    /// Brings back a volume deleted with deferred deletion, within its delay.
    case undeleteVolume = "volume.undelete"
    case createBackup = "backup.create"
    case restoreBackup = "backup.restore"
    case deleteBackup = "backup.delete"
    case createImage = "image.create"
    case deleteImage = "image.delete"
    case exportImage = "image.export"
    /// Housekeeping: removes a deleted volume's image and snapshots once nothing depends on them.
    case purgeVolume = "volume.purge"
    /// Compares the database with the pools (and with `fix`, repairs it) as a job: it runs
    /// beside the others, and a fixing one holds every lock while it runs.
    case reconcile = "service.reconcile"

    /// The stored word, also in messages and logs.
    public var description: String { rawValue }
}

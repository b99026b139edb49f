/// Backups as pure rules: which earlier backup a new one is incremental to, what may be
/// restored where, deleted when, and what the end of each job writes.
public enum BackupLifecycle {
    /// The backup a new backup of the volume is incremental to: the newest that is not failed
    /// or deleted and whose source snapshot is still on the volume. `incremental`: nil takes
    /// one when there is one; true requires one; false makes a full backup.
    public static func parent(among backups: [BackupRecord], incremental: Bool?, volumeID: String) throws(Refusal) -> BackupRecord? {
        guard incremental != false else { return nil }
        let base = backups
            .filter { $0.volumeID == volumeID && !$0.purged && ($0.status == .available || $0.status == .creating) && $0.sourceSnapshot != nil }
            .max { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        if incremental == true, base == nil {
            throw Refusal(.invalid, "volume \(volumeID) has no earlier backup to be incremental to: make a full one first")
        }
        return base
    }

    /// A backup that may be read now (restored).
    public static func requireRestorable(_ backup: BackupRecord?, id: String) throws(Refusal) -> BackupRecord {
        guard let backup, !backup.purged, backup.status != .deleted else { throw Refusal(.notFound, "backup \(id) not found") }
        guard backup.status == .available else { throw Refusal(.conflict, "backup \(id) is \(backup.status.rawValue), not available") }
        return backup
    }

    /// An existing volume a backup is restored over: available, not attached, at least as big.
    public static func admitRestore(over volume: VolumeRecord?, id: String, backup: BackupRecord) throws(Refusal) -> VolumeRecord {
        var volume = try volume.visible(as: "volume", id: id)
        guard volume.status == .available else { throw Refusal(.conflict, "volume \(id) is \(volume.status.rawValue), not available") }
        guard volume.attachCount == 0 else { throw Refusal(.inUse, "volume \(id) is in-use: detach it before restoring over it") }
        guard volume.sizeGB >= backup.sizeGB else {
            throw Refusal(.invalid, "volume \(id) has \(volume.sizeGB) GiB, less than backup \(backup.id)'s \(backup.sizeGB) GiB")
        }
        volume.status = .reverting
        return volume
    }

    public static func admitDelete(_ backup: BackupRecord?, id: String) throws(Refusal) -> (backup: BackupRecord, prior: BackupStatus) {
        guard var backup, !backup.purged, backup.status != .deleted else { throw Refusal(.notFound, "backup \(id) not found") }
        let prior = backup.status
        guard prior == .available || prior == .error else {
            throw Refusal(.conflict, "backup \(id) is \(prior.rawValue); delete it when its job has ended")
        }
        backup.status = .deleting
        return (backup, prior)
    }

    /// The backup's row once a job of `kind` ended (`succeeded`, or undone).
    public static func ended(_ kind: JobKind, succeeded: Bool, backup: BackupRecord, prior: BackupStatus = .available) -> BackupRecord {
        var backup = backup
        switch (kind, succeeded) {
        case (.createBackup, true): backup.status = .available
        case (.createBackup, false):
            // Undone: its snapshots are removed; nothing is left to read.
            backup.status = .error
            backup.sourceSnapshot = nil
        case (.deleteBackup, true):
            backup.status = .deleted
            backup.purged = true
            backup.sourceSnapshot = nil
        case (.deleteBackup, false): backup.status = prior
        default: break
        }
        return backup
    }
}

import Foundation
import Lifecycle
import VolumeStore

/// Admission of backups (Cinder's Ceph backup driver, without its fallbacks to the `rbd` CLI).
/// Every backup job runs under its volume's lock: backups, restores and deletes of one
/// volume's chain run one at a time, and after the volume's own changes.
extension Engine {
    public func createBackup(volumeID: String, name: String?, incremental: Bool?) async throws -> AcceptedBackup {
        let pool = settings.backupPool
        let accepted = try await store.admit { tx -> AcceptedBackup in
            let volume = try VolumeLifecycle.admit(.snapshot, to: try tx.volume(volumeID), id: volumeID).volume
            let parent = try BackupLifecycle.parent(among: try tx.unpurgedBackups(volumeID: volumeID), incremental: incremental, volumeID: volumeID)
            let id = newID()
            let backup = BackupRecord(id: id, volumeID: volumeID, name: name ?? "", sizeGB: volume.sizeGB, parent: parent, pool: pool)
            try tx.insert(backup)
            let job = JobRecord(
                id: newID(), kind: .createBackup, lockKey: volumeID, volumeID: volumeID,
                params: try BackupParameters(backupID: id).encoded())
            try tx.insert(job)
            return AcceptedBackup(job: job, backup: backup, volume: nil)
        }
        let how = accepted.backup.parentID.map { "incremental to \($0)" } ?? "full"
        await accept(accepted.job, detail: ": \(how) into \(pool)/\(accepted.backup.chainImage)")
        return accepted
    }

    /// Restores into a new volume (nil), or over `volumeID` (available, detached, big enough).
    public func restoreBackup(id: String, into volumeID: String?) async throws -> AcceptedBackup {
        let pool = settings.pool
        let accepted = try await store.admit { tx -> AcceptedBackup in
            let backup = try BackupLifecycle.requireRestorable(try tx.backup(id), id: id)
            let volume: VolumeRecord
            if let volumeID {
                volume = try BackupLifecycle.admitRestore(over: try tx.volume(volumeID), id: volumeID, backup: backup)
                try tx.update(volume)
            } else {
                let newID = newID()
                volume = VolumeRecord(
                    id: newID, name: "", sizeGB: backup.sizeGB, status: .creating, pool: pool, rbdImage: RBDNames.volumeImage(newID))
                try tx.insert(volume)
            }
            let job = JobRecord(
                id: newID(), kind: .restoreBackup, lockKey: backup.volumeID, volumeID: volume.id,
                params: try BackupParameters(backupID: id, newVolume: volumeID == nil).encoded())
            try tx.insert(job)
            return AcceptedBackup(job: job, backup: backup, volume: volume)
        }
        await accept(accepted.job, detail: ": backup \(id) into \(accepted.volume.map { "\($0.pool)/\($0.rbdImage)" } ?? "")")
        return accepted
    }

    public func deleteBackup(id: String) async throws -> AcceptedBackup {
        let accepted = try await store.admit { tx -> AcceptedBackup in
            let (backup, _) = try BackupLifecycle.admitDelete(try tx.backup(id), id: id)
            try tx.update(backup)
            let job = JobRecord(
                id: newID(), kind: .deleteBackup, lockKey: backup.volumeID, volumeID: backup.volumeID,
                params: try BackupParameters(backupID: id).encoded())
            try tx.insert(job)
            return AcceptedBackup(job: job, backup: backup, volume: nil)
        }
        await accept(accepted.job, detail: "")
        return accepted
    }

    public func backup(id: String) async throws -> BackupRecord {
        guard let backup = try await store.read({ try $0.backup(id) }), !backup.purged, backup.status != .deleted else {
            throw EngineError.notFound("backup \(id) not found")
        }
        return backup
    }

    /// Backups not deleted (of one volume), oldest first.
    public func backups(volumeID: String?) async throws -> [BackupRecord] {
        try await store.read { tx in try tx.unpurgedBackups(volumeID: volumeID).filter { $0.status != .deleted } }
    }

    /// The rows an accepted backup request is about, as committed now.
    public func rows(of accepted: AcceptedBackup) async throws -> (BackupRecord?, VolumeRecord?) {
        try await store.read { tx in
            (try tx.backup(accepted.backup.id), try accepted.volume.flatMap { try tx.volume($0.id) })
        }
    }
}

/// An accepted backup request: its job, the backup, and (for a restore) the volume it fills.
public struct AcceptedBackup: Sendable {
    public var job: JobRecord
    public var backup: BackupRecord
    public var volume: VolumeRecord?
}

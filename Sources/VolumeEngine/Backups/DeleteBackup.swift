import Lifecycle
import RBD
import VolumeStore

/// Deletes a backup: its snapshot of the chain image, its source snapshot on the volume (the
/// next backup of the volume is then a full one), and the chain image once no backup is left
/// on it. Any order: every other backup is a snapshot of its own and reads whole.
struct DeleteBackup: Operation {
    let backupID: String

    func run(_ context: JobContext) async throws -> Completion {
        let backupID = self.backupID
        let backup = try await context.backup(backupID)
        let (others, volume) = try await context.store.read { tx in
            // A failed backup holds nothing on the chain (its undo removed its snapshot).
            (try tx.unpurgedBackups(volumeID: backup.volumeID).filter { $0.id != backupID && $0.chainImage == backup.chainImage && $0.status != .error },
             try tx.volume(backup.volumeID))
        }
        try await context.step(0, "remove \(backup.pool)/\(backup.chainImage)@\(backup.rbdSnapshot)", checkpoint: false) {
            try await context.rbd { session in
                let io = try session.pool(backup.pool)
                do {
                    try io.withImage(backup.chainImage) { chained in
                        // A removal killed inside librbd leaves its snapshot in the trash namespace.
                        _ = try chained.removeAbandonedTrashedSnapshots()
                        if try chained.snapshotExists(backup.rbdSnapshot) { try chained.removeSnapshot(backup.rbdSnapshot) }
                    }
                } catch let error as RBDError where error.code == .notFound {
                    // Gone, or half-removed by a removal that was killed: finished below.
                }
                // Also when it no longer opens: a killed removal leaves the name behind.
                if others.isEmpty { try io.removeImageIfPresent(name: backup.chainImage) }
            }
            if let source = backup.sourceSnapshot, let volume, !volume.purged {
                try await context.removeSnapshotIfPresent(pool: volume.pool, image: volume.rbdImage, snapshot: source)
            }
        }
        return { tx in
            if let row = try tx.backup(backupID) { try tx.update(BackupLifecycle.ended(.deleteBackup, succeeded: true, backup: row)) }
            return []
        }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let backupID = self.backupID
        return { tx in
            if let row = try tx.backup(backupID) { try tx.update(BackupLifecycle.ended(.deleteBackup, succeeded: false, backup: row, prior: .available)) }
            return []
        }
    }
}

import Lifecycle
import RBD
import VolumeStore

/// Backs a volume up into the backup pool. A snapshot of the volume is the consistent source
/// (it may stay attached); a full backup copies every object with data into a new chain image,
/// an incremental one only the objects changed since its parent's source snapshot, onto the
/// parent's chain image; the backup is then a snapshot of that image. The parent's source
/// snapshot goes (this one's is the base of the next incremental). When the parent cannot serve
/// (failed, its source snapshot gone), the backup is a full one, and says so.
struct CreateBackup: Operation {
    let backupID: String
    let volumeID: String

    struct Transfer: Sendable {
        var chainImage: String
        var parentID: String?
        var bytes: Int64
    }

    func run(_ context: JobContext) async throws -> Completion {
        let backupID = self.backupID
        let backup = try await context.backup(backupID)
        let volume = try await context.volume(volumeID)
        let (pool, image, backupPool) = (volume.pool, volume.rbdImage, backup.pool)
        let source = RBDNames.backupSourceSnapshot(for: backupID)
        let (parent, othersOnAdmittedChain) = try await context.store.read { tx in
            (try backup.parentID.flatMap { try tx.backup($0) },
             // Backups still on the chain this one was admitted to (a failed one holds nothing there).
             try tx.unpurgedBackups(volumeID: backup.volumeID).contains { $0.id != backupID && $0.chainImage == backup.chainImage && $0.status != .error })
        }
        let order = context.settings.imageOrder

        try await context.step(0, "snapshot \(pool)/\(image)@\(source) to back up") {
            try await context.rbd { session in
                try session.pool(pool).withImage(image) { opened in
                    if try !opened.snapshotExists(source) { try opened.createSnapshot(source) }
                }
            }
        }
        try await context.step(1, "copy \(pool)/\(image)@\(source) into \(backupPool)", {
            let progress = context.progressCallback(from: 0, to: 0.95)
            return try await context.rbd { session -> Transfer in
                let target = try session.pool(backupPool)
                return try session.pool(pool).withImage(image, snapshot: source, readOnly: true) { snapshot in
                    // Incremental only from a parent whose source snapshot is still on the volume.
                    var base: BackupRecord? = nil
                    if let parent, parent.status == .available || parent.status == .creating,
                       let from = parent.sourceSnapshot, try snapshot.snapshotExists(from) {
                        base = parent
                    }
                    let own = RBDNames.backupChain(for: backupID)
                    let chain = base?.chainImage ?? own
                    // A run killed before its record may have written to the other chain (the
                    // parent could serve then and not now, or the reverse): nothing of this
                    // backup stays there. A chain left with no backup goes too (a delete of the
                    // parent that ran meanwhile kept it for this one).
                    for other in Set([backup.chainImage, own]).subtracting([chain]) {
                        try Self.removeTraces(of: backup, on: other, in: target, removingTheChain: other == own || !othersOnAdmittedChain)
                    }
                    let size = try snapshot.size()
                    do {
                        try target.createImage(name: chain, size: size, order: order)
                    } catch let error as RBDError where error.code == .alreadyExists {}
                    return try target.withImage(chain) { chained in
                        if try chained.size() < size { try chained.resize(to: size) }
                        let extents = try snapshot.changedExtents(since: base?.sourceSnapshot)
                        let bytes = try BackupCopy.copy(extents, from: snapshot, to: chained, progress: progress)
                        if try !chained.snapshotExists(backup.rbdSnapshot) { try chained.createSnapshot(backup.rbdSnapshot) }
                        return Transfer(chainImage: chain, parentID: base?.id, bytes: bytes)
                    }
                }
            }
        }, record: { tx, transfer in
            guard var row = try tx.backup(backupID) else { throw EngineError.notFound("backup \(backupID) not found") }
            row.chainImage = transfer.chainImage
            row.parentID = transfer.parentID
            row.bytesTransferred = transfer.bytes
            try tx.update(row)
        })
        // The parent's source snapshot is no one's base any more.
        let recorded = try await context.backup(backupID)
        let superseded = try await context.store.read { tx in try recorded.parentID.flatMap { try tx.backup($0) }?.sourceSnapshot }
        if let superseded {
            try await context.step(2, "remove \(pool)/\(image)@\(superseded)", checkpoint: false) {
                try await context.removeSnapshotIfPresent(pool: pool, image: image, snapshot: superseded)
            }
        }
        context.note(recorded.parentID.map { "incremental to \($0): \(recorded.bytesTransferred) bytes" } ?? "full: \(recorded.bytesTransferred) bytes")
        let parentID = recorded.parentID
        return { tx in
            guard let row = try tx.backup(backupID) else { return [] }
            try tx.update(BackupLifecycle.ended(.createBackup, succeeded: true, backup: row))
            if let parentID, var parentRow = try tx.backup(parentID) {
                parentRow.sourceSnapshot = nil
                try tx.update(parentRow)
            }
            return []
        }
    }

    /// This backup's snapshot on `chain`, and the chain itself when no other backup reads it
    /// (this backup started it, or the others on it are gone).
    static func removeTraces(of backup: BackupRecord, on chain: String, in target: IOContext, removingTheChain: Bool) throws {
        do {
            try target.withImage(chain) { chained in
                _ = try chained.removeAbandonedTrashedSnapshots()
                if try chained.snapshotExists(backup.rbdSnapshot) { try chained.removeSnapshot(backup.rbdSnapshot) }
            }
        } catch let error as RBDError where error.code == .notFound {}
        if removingTheChain { try target.removeImageIfPresent(name: chain) }
    }

    /// Removes what this backup made: its snapshot on whichever chain it wrote, a chain it
    /// started, and its source snapshot on the volume.
    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let backupID = self.backupID
        if let backup = try? await context.backup(backupID) {
            let own = RBDNames.backupChain(for: backupID)
            do {
                let others = try await context.store.read { tx in
                    try tx.unpurgedBackups(volumeID: backup.volumeID).filter { $0.id != backupID && $0.status != .error }.map(\.chainImage)
                }
                try await context.rbd { session in
                    let target = try session.pool(backup.pool)
                    for chain in Set([backup.chainImage, own]) {
                        try Self.removeTraces(of: backup, on: chain, in: target, removingTheChain: chain == own || !others.contains(chain))
                    }
                }
                if let volume = try? await context.volume(volumeID) {
                    try await context.removeSnapshotIfPresent(pool: volume.pool, image: volume.rbdImage, snapshot: RBDNames.backupSourceSnapshot(for: backupID))
                }
            } catch {
                context.logger.error("could not remove what the failed backup \(backupID) made: \(error)")
            }
        }
        return { tx in
            if let row = try tx.backup(backupID) { try tx.update(BackupLifecycle.ended(.createBackup, succeeded: false, backup: row)) }
            return []
        }
    }
}

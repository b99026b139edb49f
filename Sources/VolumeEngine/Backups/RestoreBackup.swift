import Lifecycle
import RBD
import VolumeStore

/// Restores a backup into a volume: a new one made for it, or an existing one of at least its
/// size (its data replaced: first discarded, then the backup's objects written), byte for byte
/// the source at backup time. Repeating it after a crash does the same again.
struct RestoreBackup: Operation {
    let backupID: String
    let volumeID: String
    let newVolume: Bool

    func run(_ context: JobContext) async throws -> Completion {
        let volumeID = self.volumeID
        let backup = try await context.backup(backupID)
        let volume = try await context.volume(volumeID)
        let (pool, image, order) = (volume.pool, volume.rbdImage, context.settings.imageOrder)
        if newVolume {
            try await context.step(0, "create image \(pool)/\(image)") {
                try await context.rbd { session in
                    let io = try session.pool(pool)
                    do {
                        try io.createImage(name: image, size: UInt64(volume.sizeGB) << 30, order: order)
                    } catch let error as RBDError where error.code == .alreadyExists {}
                    try io.withImage(image) { try $0.setMetadata(RBDNames.volumeIDKey, volumeID) }
                }
            }
        }
        try await context.step(1, "restore \(backup.pool)/\(backup.chainImage)@\(backup.rbdSnapshot) into \(pool)/\(image)", checkpoint: false) {
            let progress = context.progressCallback(from: 0, to: 0.99)
            _ = try await context.rbd { session -> Int64 in
                try session.pool(backup.pool).withImage(backup.chainImage, snapshot: backup.rbdSnapshot, readOnly: true) { saved in
                    try session.pool(pool).withImage(image) { target in
                        // What the volume held goes first: the backup's zeros must read as zeros.
                        if !newVolume { try target.discard(at: 0, length: try target.size()) }
                        return try BackupCopy.copy(try saved.changedExtents(since: nil).filter(\.exists), from: saved, to: target, progress: progress)
                    }
                }
            }
        }
        context.note("restored backup \(backupID)")
        return { tx in try tx.endVolumeJob(.restoreBackup, .succeeded(), volumeID: volumeID) }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let volumeID = self.volumeID
        var removed = false
        if newVolume, let volume = try? await context.volume(volumeID) {
            do {
                try await context.rbd { session in try session.pool(volume.pool).removeImageIfPresent(name: volume.rbdImage) }
                removed = true
            } catch {
                context.logger.error("could not remove \(volume.pool)/\(volume.rbdImage) after a failed restore: \(error)")
            }
        }
        let outcome = VolumeLifecycle.Outcome.undone(cancelled: error.isCancellation, started: true, imageRemoved: removed)
        return { tx in try tx.endVolumeJob(.restoreBackup, outcome, volumeID: volumeID) }
    }
}

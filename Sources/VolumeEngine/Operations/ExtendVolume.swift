import Lifecycle
import RBD
import VolumeStore

/// Grows a volume's image. Shrinking was refused at admission.
struct ExtendVolume: Operation {
    let volumeID: String
    let sizeGB: Int

    func run(_ context: JobContext) async throws -> Completion {
        let (volumeID, sizeGB) = (self.volumeID, self.sizeGB)
        let volume = try await context.volume(volumeID)
        let size = UInt64(sizeGB) << 30
        try await context.step(0, "resize to \(sizeGB) GiB", checkpoint: false) {
            try await context.rbd { session in
                try session.pool(volume.pool).withImage(volume.rbdImage) { image in
                    if try image.size() < size { try image.resize(to: size) }
                }
            }
        }
        return { tx in try tx.endVolumeJob(.extendVolume, .succeeded(sizeGB: sizeGB), volumeID: volumeID) }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let volumeID = self.volumeID
        let cancelled = error.kind == .cancelled
        return { tx in try tx.endVolumeJob(.extendVolume, .undone(cancelled: cancelled, started: true, imageRemoved: false), volumeID: volumeID) }
    }
}

import Lifecycle
import RBD
import VolumeStore

/// Releases a volume's image from volumed (Cinder's unmanage): the image stays in the pool,
/// under its name, without volumed's tags; the database forgets the volume.
struct UnmanageVolume: Operation {
    let volumeID: String

    func run(_ context: JobContext) async throws -> Completion {
        let volumeID = self.volumeID
        let volume = try await context.volume(volumeID)
        try await context.step(0, "untag \(volume.pool)/\(volume.rbdImage)", checkpoint: false) {
            try await context.rbd { session in
                try session.pool(volume.pool).withImage(volume.rbdImage) { image in
                    for key in try image.metadata(prefix: RBDNames.tagPrefix).keys { try image.removeMetadata(key) }
                }
            }
        }
        context.note("released \(volume.pool)/\(volume.rbdImage): it stays in the pool, no longer managed")
        return { tx in try tx.endVolumeJob(.unmanageVolume, .succeeded(), volumeID: volumeID) }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let volumeID = self.volumeID
        let cancelled = error.kind == .cancelled
        return { tx in
            try tx.endVolumeJob(.unmanageVolume, .undone(cancelled: cancelled, started: true, imageRemoved: false), volumeID: volumeID)
        }
    }
}

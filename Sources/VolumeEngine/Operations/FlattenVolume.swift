import Lifecycle
import RBD
import VolumeStore

/// Copies a clone's shared data from its parent so that it stands alone; progress is the
/// fraction of objects done. The parent is then re-checked for a purge.
struct FlattenVolume: Operation {
    let volumeID: String

    func run(_ context: JobContext) async throws -> Completion {
        let volumeID = self.volumeID
        let volume = try await context.volume(volumeID)
        guard volume.parentVolumeID != nil || volume.parentImageID != nil else {
            context.note("already flat")
            return { _ in [] }
        }
        try await context.step(0, "flatten \(volume.rbdImage)", checkpoint: false) {
            let progress = context.progressCallback()
            try await context.rbd { session in
                try session.pool(volume.pool).withImage(volume.rbdImage) { image in
                    if try image.parent() != nil { try image.flatten(progress: progress) }
                }
            }
        }
        return Self.detach(volumeID)
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        { _ in [] }
    }

    /// Records that `volumeID` is flat: its clone descendants are now shallower by its old depth.
    static func detach(_ volumeID: String) -> Completion {
        { tx in try tx.endVolumeJob(.flattenVolume, .succeeded(detached: true), volumeID: volumeID) }
    }
}

import Lifecycle
import RBD
import Synchronization
import VolumeMetrics
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
            try await context.rbd { session in
                try session.pool(volume.pool).withImage(volume.rbdImage) { image in
                    // librbd counts objects done: the counter adds their bytes.
                    let counted = context.progressCallback(counting: .flattenBytes, unit: 1 << UInt64(try image.order()))
                    // librbd's last call says one object short of the end: the end is told once it returns.
                    let total = Mutex<UInt64>(0)
                    let progress: @Sendable (UInt64, UInt64) -> Bool = { done, all in
                        total.withLock { $0 = all }
                        return counted(done, all)
                    }
                    if try image.parent() != nil {
                        try image.flatten(progress: progress)
                        let all = total.withLock { $0 }
                        _ = counted(all, all)
                    }
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

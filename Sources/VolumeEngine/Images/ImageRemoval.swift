import Lifecycle
import RBD
import VolumeStore

/// Removes an image-store image from the cluster as Glance does: unprotect `snap` (librbd
/// refuses while clones hang from it), remove it, remove the image.
enum ImageRemoval {
    /// Returns nil when the image is gone (or never was), else why it could not go.
    static func remove(_ context: JobContext, imageID: String, refuseClones: Bool) async -> EngineError? {
        guard let record = try? await context.store.read({ try $0.image(imageID) }) else { return nil }
        let (pool, name) = (record.pool, record.rbdImage)
        do {
            try await context.rbd { session in
                let io = try session.pool(pool)
                do {
                    try io.withImage(name) { image in
                        let snap = RBDNames.imageSnapshot
                        _ = try image.removeAbandonedTrashedSnapshots()
                        guard try image.snapshotExists(snap) else { return }
                        do {
                            try image.unprotectSnapshot(snap)
                        } catch let error as RBDError where error.code == .invalidArgument {
                            // Not protected.
                        } catch let error as RBDError where error.code == .busy {
                            throw EngineError.inUse(
                                "The image cannot be deleted because it is in use through the backend store: clones of \(pool)/\(name)@\(snap) exist")
                        }
                        do { try image.removeSnapshot(snap) } catch let error as RBDError where error.code == .notFound {}
                    }
                    try io.removeImage(name: name)
                } catch let error as RBDError where error.code == .notFound {
                    // Gone, or half-removed by a killed daemon: finish it.
                    try io.removeImageIfPresent(name: name)
                }
            }
            context.logger.info("removed image \(pool)/\(name)")
            return nil
        } catch {
            let failure = EngineError.from(error)
            if !refuseClones { context.logger.error("could not remove image \(pool)/\(name): \(failure)") }
            return failure
        }
    }
}

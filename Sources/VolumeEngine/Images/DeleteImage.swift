import Lifecycle
import VolumeStore

/// Deletes an image-store image. Admission already refused it when the database knows of
/// clones; librbd's refusal to unprotect covers clones made behind volumed's back.
struct DeleteImage: Operation {
    let imageID: String
    let priorStatus: ImageStatus

    func run(_ context: JobContext) async throws -> Completion {
        let imageID = self.imageID
        try await context.step(0, "remove image", checkpoint: false) {
            if let failure = await ImageRemoval.remove(context, imageID: imageID, refuseClones: true) { throw failure }
        }
        return { tx in
            var image = try tx.requireImage(imageID)
            image.status = ImageLifecycle.ended(.deleteImage, succeeded: true, from: image.status)
            image.purged = true
            try tx.update(image)
            return []
        }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let (imageID, priorStatus) = (self.imageID, self.priorStatus)
        return { tx in
            var image = try tx.requireImage(imageID)
            image.status = ImageLifecycle.ended(.deleteImage, succeeded: false, from: image.status, prior: priorStatus)
            try tx.update(image)
            return []
        }
    }
}

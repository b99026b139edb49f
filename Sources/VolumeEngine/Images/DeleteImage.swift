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
        return { tx in try tx.endImageJob(.deleteImage, succeeded: true, imageID: imageID) { $0.purged = true } }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let (imageID, priorStatus) = (self.imageID, self.priorStatus)
        return { tx in try tx.endImageJob(.deleteImage, succeeded: false, imageID: imageID, prior: priorStatus) }
    }
}

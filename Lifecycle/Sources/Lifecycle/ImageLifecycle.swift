/// What may happen to an image of the image store: pure functions from (its row, an event) to
/// the row to write.
public enum ImageLifecycle {
    public enum Request: Sendable, Equatable {
        /// `clones`: volumes and VM disks still cloned from its `snap` (their `pool/image`).
        case delete(clones: [String])
        case export(offset: Int64)
        /// Be the source of a new volume.
        case cloneFrom
    }

    /// The row to write (with the status a failed delete gives back), or why not.
    public static func admit(_ request: Request, to row: ImageRecord?, id: String) throws(Refusal) -> (image: ImageRecord, priorStatus: ImageStatus) {
        var image = try row.visible(as: request == .cloneFrom ? "source image" : "image", id: id)
        let prior = image.status
        switch request {
        case .delete(let clones):
            guard prior == .active || prior == .error else {
                throw Refusal(.conflict, "image \(id) is \(prior.rawValue); delete it when its job has ended")
            }
            guard clones.isEmpty else {
                throw Refusal(.inUse, "The image cannot be deleted because it is in use through the backend store: \(clones.count) clone(s), e.g. \(clones[0])")
            }
            image.status = .deleting
        case .export(let offset):
            guard prior == .active else { throw Refusal(.conflict, "image \(id) is \(prior.rawValue), not active") }
            guard offset <= image.sizeBytes else {
                throw Refusal(.invalid, "offset \(offset) is beyond the image's \(image.sizeBytes) bytes")
            }
        case .cloneFrom:
            guard prior == .active else { throw Refusal(.conflict, "source image \(id) is \(prior.rawValue), not active") }
        }
        return (image, prior)
    }

    /// The image's status once a job of `kind` has ended.
    public static func ended(_ kind: JobKind, succeeded: Bool, from status: ImageStatus, prior: ImageStatus = .active) -> ImageStatus {
        switch (kind, succeeded) {
        case (.createImage, true): .active
        case (.createImage, false): .error
        case (.deleteImage, true): .deleted
        case (.deleteImage, false): prior
        default: status
        }
    }

    /// The row once its RBD image is gone (found missing): `error` unless deleted.
    public static func imageGone(_ image: ImageRecord) -> ImageRecord {
        var image = image
        image.purged = true
        if image.status != .deleted { image.status = .error }
        return image
    }

    /// After a restart, an image left in a transitional status with no job: what it becomes.
    public static func recovered(_ status: ImageStatus) -> ImageStatus? {
        switch status {
        case .creating: .error
        case .deleting: .active
        case .active, .deleted, .error: nil
        }
    }
}

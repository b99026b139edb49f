import Foundation
import Lifecycle
import RBD
import VolumeStore

/// Creates a volume's image: blank, a clone (of a volume's clone snapshot or of a user
/// snapshot), a clone flattened at once, or a full copy — as `ClonePolicy` decided at admission.
struct CreateVolume: Operation {
    let volumeID: String
    let mode: CloneMode

    func run(_ context: JobContext) async throws -> Completion {
        let volumeID = self.volumeID
        let volume = try await context.volume(volumeID)
        let size = UInt64(volume.sizeGB) << 30
        let order = context.settings.imageOrder
        let (pool, image) = (volume.pool, volume.rbdImage)
        let features = volume.multiattach ? IOContext.multiattachFeatures : IOContext.defaultFeatures
        let name = volume.name
        /// The tags by which the cluster alone can tell whose the new image is (`volumed rebuild-state`).
        let ownTags = name.isEmpty ? [RBDNames.volumeIDKey: volumeID] : [RBDNames.volumeIDKey: volumeID, RBDNames.nameKey: name]
        /// Tags an opened clone or copy: librbd copies the parent's metadata into it, so the
        /// parent's volumed tags (its id, name, snapshot names) go before this volume's own are set.
        @Sendable func tag(_ opened: borrowing Image) throws {
            for key in try opened.metadata(prefix: RBDNames.tagPrefix).keys where ownTags[key] == nil {
                try opened.removeMetadata(key)
            }
            for (key, value) in ownTags { try opened.setMetadata(key, value) }
        }
        /// Tags a new blank image without opening it (one read of its id, one RADOS write): the
        /// image is this job's own and no one has it open yet.
        @Sendable func tagUnopened(_ io: IOContext) throws {
            try io.replaceMetadata(ofUnopenedImage: image, prefix: RBDNames.tagPrefix, with: ownTags)
        }

        guard mode != .blank else {
            try await context.step(0, "create image \(pool)/\(image)", checkpoint: false) {
                try await context.rbd { session in
                    let io = try session.pool(pool)
                    do {
                        try io.createImage(name: image, size: size, order: order, features: features)
                    } catch let error as RBDError where error.code == .alreadyExists {}
                    try tagUnopened(io)
                }
            }
            return Self.markAvailable(volumeID)
        }

        guard let parentSnapshot = volume.parentSnapshot,
              let parent = try await context.store.read({ tx in try Self.parentImage(tx, volume) }) else {
            throw EngineError.internalError("volume \(volumeID) has no clone source recorded")
        }
        let fromVolume = volume.sourceKind == .volume
        var mode = self.mode
        if volume.parentImageID != nil, mode == .clone || mode == .cloneAndFlatten, context.job.step <= 1 {
            // Glance's rule: only a protected snapshot of a raw image in this cluster is cloneable.
            let cloneable = (try? await context.rbd { session in
                try session.pool(parent.pool).withImage(parent.rbdImage) { try $0.isProtected(parentSnapshot) }
            }) ?? false
            if !cloneable {
                mode = .copy
                // Recorded, so that a resumed job goes on copying rather than cloning over a partial copy.
                let jobID = context.jobID
                try await context.store.write { tx in
                    guard var row = try tx.job(jobID) else { return }
                    var params = try row.parameters(CreateVolumeParameters.self)
                    params.mode = .copy
                    row.params = try params.encoded()
                    try tx.update(row)
                }
                context.note("full copy: \(parent.pool)/\(parent.rbdImage)@\(parentSnapshot) cannot be cloned (missing or not protected)")
            }
        }

        try await context.step(0, "snapshot source \(parent.pool)/\(parent.rbdImage)@\(parentSnapshot)") {
            guard fromVolume else { return }
            try await context.rbd { session in
                try session.pool(parent.pool).withImage(parent.rbdImage) { source in
                    if try !source.snapshotExists(parentSnapshot) { try source.createSnapshot(parentSnapshot) }
                    if try !source.isProtected(parentSnapshot) { try source.protectSnapshot(parentSnapshot) }
                }
            }
        }

        if mode == .copy {
            try await context.step(1, "copy \(parent.rbdImage)@\(parentSnapshot) to \(image)", checkpoint: false) {
                let progress = context.progressCallback()
                try await context.rbd { session in
                    let io = try session.pool(pool)
                    // A copy cannot resume: an image without our tag is a partial copy from a crash.
                    var exists = true
                    var owner: String?
                    do {
                        owner = try io.withImage(image) { try $0.metadata(RBDNames.volumeIDKey) }
                    } catch let error as RBDError where error.code == .notFound {
                        exists = false
                        // A removal of a partial copy killed half-way: finish it before copying anew.
                        try io.removeImageIfPresent(name: image)
                    }
                    // The tag is set after the resize: a tagged image is a finished copy.
                    if owner == volumeID { return }
                    if exists { try io.removeImage(name: image) }
                    try session.pool(parent.pool).withImage(parent.rbdImage, snapshot: parentSnapshot, readOnly: true) { source in
                        try source.copy(to: io, name: image, order: order, progress: progress)
                    }
                    try io.withImage(image) { copy in
                        if try copy.size() < size { try copy.resize(to: size) }
                        try tag(copy)
                    }
                }
            }
            return Self.detachAndMarkAvailable(volumeID)
        }

        try await context.step(1, "clone \(parent.rbdImage)@\(parentSnapshot) to \(image)", checkpoint: mode == .cloneAndFlatten) {
            try await context.rbd { session in
                let parentIO = try session.pool(parent.pool)
                let io = try session.pool(pool)
                do {
                    do {
                        try parentIO.clone(
                            parent: parent.rbdImage, snapshot: parentSnapshot, into: io, child: image, order: order, features: features)
                    } catch let error as RBDError where error.code == .invalidArgument {
                        // librbd refuses objects smaller than the parent's (an image store with
                        // bigger chunks): clone with the parent's object size.
                        let parentOrder = try parentIO.withImage(parent.rbdImage, readOnly: true) { try $0.order() }
                        guard parentOrder > order else { throw error }
                        try parentIO.clone(
                            parent: parent.rbdImage, snapshot: parentSnapshot, into: io, child: image, order: parentOrder, features: features)
                    }
                } catch let error as RBDError where error.code == .alreadyExists {}
                try io.withImage(image) { clone in
                    try tag(clone)
                    if try clone.size() < size { try clone.resize(to: size) }
                }
            }
        }

        guard mode == .cloneAndFlatten else { return Self.markAvailable(volumeID) }
        try await context.step(2, "flatten \(image)", checkpoint: false) {
            let progress = context.progressCallback()
            try await context.rbd { session in
                try session.pool(pool).withImage(image) { clone in
                    if try clone.parent() != nil { try clone.flatten(progress: progress) }
                }
            }
        }
        return Self.detachAndMarkAvailable(volumeID)
    }

    /// Where the clone source lives: a volume's image or an image-store image.
    static func parentImage(_ tx: StoreTransaction, _ volume: VolumeRecord) throws -> (pool: String, rbdImage: String)? {
        if let id = volume.parentVolumeID {
            let parent = try tx.requireVolume(id)
            return (parent.pool, parent.rbdImage)
        }
        if let id = volume.parentImageID {
            let parent = try tx.requireImage(id)
            return (parent.pool, parent.rbdImage)
        }
        return nil
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let volumeID = self.volumeID
        var removed = false
        if let volume = try? await context.store.read({ try $0.volume(volumeID) }) {
            let (pool, image) = (volume.pool, volume.rbdImage)
            do {
                try await context.cluster.run { session in
                    try session.pool(pool).removeImageIfPresent(name: image)
                }
                removed = true
            } catch {
                context.logger.error("could not remove \(pool)/\(image) after a failed create: \(error); it stays recorded for deletion")
            }
        }
        let outcome = VolumeLifecycle.Outcome.undone(cancelled: error.isCancellation, started: true, imageRemoved: removed)
        return { tx in try tx.endVolumeJob(.createVolume, outcome, volumeID: volumeID) }
    }

    static func markAvailable(_ volumeID: String) -> Completion {
        { tx in try tx.endVolumeJob(.createVolume, .succeeded(detached: false), volumeID: volumeID) }
    }

    /// The new image no longer depends on its source: forget the link and let the source's
    /// clone snapshot go.
    static func detachAndMarkAvailable(_ volumeID: String) -> Completion {
        { tx in try tx.endVolumeJob(.createVolume, .succeeded(detached: true), volumeID: volumeID) }
    }
}

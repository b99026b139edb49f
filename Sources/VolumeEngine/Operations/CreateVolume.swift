import Foundation
import RBD
import VolumeStore

/// Creates a volume's image: blank, a clone (of a volume's clone snapshot or of a user
/// snapshot), a clone flattened at once, or a full copy — as `ClonePolicy` decided at admission.
struct CreateVolume: Operation {
    let volumeID: String
    let mode: CloneMode

    func run(_ context: JobContext) async throws -> Completion {
        let volumeID = self.volumeID
        let volume = try await context.store.read { try $0.requireVolume(volumeID) }
        let size = UInt64(volume.sizeGB) << 30
        let order = context.settings.imageOrder
        let (pool, image) = (volume.pool, volume.rbdImage)

        guard mode != .blank else {
            try await context.step(0, "create image \(pool)/\(image)", checkpoint: false) {
                try await context.rbd { session in
                    let io = try session.pool(pool)
                    do { try io.createImage(name: image, size: size, order: order) } catch let error as RBDError where error.code == .alreadyExists {}
                    try io.withImage(image) { try $0.setMetadata(RBDNames.volumeIDKey, volumeID) }
                }
            }
            return Self.markAvailable(volumeID)
        }

        guard let parentID = volume.parentVolumeID, let parentSnapshot = volume.parentSnapshot else {
            throw EngineError.internalError("volume \(volumeID) has no clone source recorded")
        }
        let parent = try await context.store.read { try $0.requireVolume(parentID) }
        let fromVolume = volume.sourceKind == "volume"

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
                    var tag: String?
                    do {
                        tag = try io.withImage(image) { try $0.metadata(RBDNames.volumeIDKey) }
                    } catch let error as RBDError where error.code == .notFound {
                        exists = false
                    }
                    if tag == volumeID { return }
                    if exists { try io.removeImage(name: image) }
                    try session.pool(parent.pool).withImage(parent.rbdImage, snapshot: parentSnapshot, readOnly: true) { source in
                        try source.copy(to: io, name: image, order: order, progress: progress)
                    }
                    try io.withImage(image) { copy in
                        if try copy.size() < size { try copy.resize(to: size) }
                        try copy.setMetadata(RBDNames.volumeIDKey, volumeID)
                    }
                }
            }
            return Self.detachAndMarkAvailable(volumeID, parentID: parentID)
        }

        try await context.step(1, "clone \(parent.rbdImage)@\(parentSnapshot) to \(image)", checkpoint: mode == .cloneAndFlatten) {
            try await context.rbd { session in
                let parentIO = try session.pool(parent.pool)
                let io = try session.pool(pool)
                do {
                    try parentIO.clone(parent: parent.rbdImage, snapshot: parentSnapshot, into: io, child: image, order: order)
                } catch let error as RBDError where error.code == .alreadyExists {}
                try io.withImage(image) { clone in
                    try clone.setMetadata(RBDNames.volumeIDKey, volumeID)
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
        return Self.detachAndMarkAvailable(volumeID, parentID: parentID)
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let volumeID = self.volumeID
        var removed = false
        if let volume = try? await context.store.read({ try $0.volume(volumeID) }) {
            let (pool, image) = (volume.pool, volume.rbdImage)
            do {
                try await context.cluster.run { session in
                    do { try session.pool(pool).removeImage(name: image) } catch let error as RBDError where error.code == .notFound {}
                }
                removed = true
            } catch {
                context.logger.error("could not remove \(pool)/\(image) after a failed create: \(error); it stays recorded for deletion")
            }
        }
        let cancelled = if case .cancelled = error { true } else { false }
        return { [removed] tx in
            var volume = try tx.requireVolume(volumeID)
            volume.status = cancelled && removed ? "deleted" : "error"
            guard removed else {
                try tx.update(volume)
                return []
            }
            volume.purged = true
            let parent = volume.parentVolumeID
            volume.parentVolumeID = nil
            volume.parentSnapshot = nil
            try tx.update(volume)
            return try parent.flatMap { try JobQueue.queuePurge(tx, volumeID: $0) }.map { [$0] } ?? []
        }
    }

    static func markAvailable(_ volumeID: String) -> Completion {
        { tx in
            var volume = try tx.requireVolume(volumeID)
            if volume.status == "creating" { volume.status = "available" }
            try tx.update(volume)
            return []
        }
    }

    /// The new image no longer depends on its source: forget the link and let the source's
    /// clone snapshot go.
    static func detachAndMarkAvailable(_ volumeID: String, parentID: String) -> Completion {
        { tx in
            var volume = try tx.requireVolume(volumeID)
            if volume.status == "creating" { volume.status = "available" }
            volume.parentVolumeID = nil
            volume.parentSnapshot = nil
            volume.cloneDepth = 0
            try tx.update(volume)
            return try JobQueue.queuePurge(tx, volumeID: parentID).map { [$0] } ?? []
        }
    }
}

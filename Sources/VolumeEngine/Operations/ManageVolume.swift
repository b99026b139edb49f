import Lifecycle
import RBD
import VolumeStore

/// Adopts an RBD image volumed did not create (Cinder's manage_existing): refuses one that is
/// watched (in use), a `.deleted` leftover or another volume's; renames it `volume-<id>`, tags
/// it, and grows it to whole GiB. Its clone depth is measured on its real parent chain.
struct ManageVolume: Operation {
    let volumeID: String
    let sourceImage: String

    struct Found: Sendable {
        var size: UInt64
        var depth: Int
        var parent: Image.Parent?
        /// The snapshots on the image as found (before volumed made any).
        var adopted: [String] = []
    }

    func run(_ context: JobContext) async throws -> Completion {
        let (volumeID, source) = (self.volumeID, self.sourceImage)
        let volume = try await context.volume(volumeID)
        let (pool, target) = (volume.pool, volume.rbdImage)
        let name = volume.name
        try await context.step(0, "adopt \(pool)/\(source) as \(target)", {
            try await context.rbd { session -> Found in
                let io = try session.pool(pool)
                // After a crash the rename may already have happened (tagged or not yet): only
                // this job makes an image of this volume's name.
                var renamed = true
                do { try io.withImage(target, readOnly: true) { _ in } } catch let error as RBDError where error.code == .notFound { renamed = false }
                let current = renamed ? target : source
                // Read-only: a read-write open would add this daemon's own watch.
                let found = try io.withImage(current, readOnly: true) { image -> Found in
                    if current == source {
                        let watchers = try image.watchers()
                        guard watchers.isEmpty else {
                            throw EngineError.inUse("\(pool)/\(source) is in use: watched by \(watchers.joined(separator: ", "))")
                        }
                        if let owner = try image.metadata(RBDNames.volumeIDKey), owner != volumeID {
                            throw EngineError.conflict("\(pool)/\(source) belongs to volume \(owner)")
                        }
                    }
                    // Its snapshots now are its own (the volume is `managing`: volumed made none yet).
                    return Found(size: try image.size(), depth: 0, parent: try image.parent(), adopted: try image.snapshots().map(\.name))
                }
                var result = found
                result.depth = try Self.depth(session, from: found.parent)
                if current == source { try io.renameImage(from: source, to: target) }
                try io.withImage(target) { image in
                    try image.setMetadata(RBDNames.volumeIDKey, volumeID)
                    if !name.isEmpty { try image.setMetadata(RBDNames.nameKey, name) }
                    if !found.adopted.isEmpty, try image.metadata(RBDNames.adoptedSnapshotsKey) == nil {
                        try image.setMetadata(RBDNames.adoptedSnapshotsKey, found.adopted.joined(separator: "\n"))
                    }
                    let whole = ((found.size + (1 << 30) - 1) >> 30) << 30
                    if whole > found.size || found.size == 0 { try image.resize(to: max(whole, 1 << 30)) }
                }
                return result
            }
        }, record: { tx, found in
            var volume = try tx.requireVolume(volumeID)
            volume.sizeGB = max(1, Int((found.size + (1 << 30) - 1) >> 30))
            volume.cloneDepth = found.depth
            if let parent = found.parent {
                volume.parentSnapshot = parent.snapshot
                if let owner = try tx.unpurgedVolumes().first(where: { $0.pool == parent.pool && $0.rbdImage == parent.image }) {
                    volume.parentVolumeID = owner.id
                } else if let image = try tx.unpurgedImages().first(where: { $0.pool == parent.pool && $0.rbdImage == parent.image }) {
                    volume.parentImageID = image.id
                }
            }
            try tx.update(volume)
        })
        return { tx in try tx.endVolumeJob(.manageVolume, .succeeded(), volumeID: volumeID) }
    }

    /// Clone hops from `parent` down to a flat image (bounded: librbd allows no deeper chains).
    static func depth(_ session: Cluster.Session, from parent: Image.Parent?) throws -> Int {
        var depth = 0
        var next = parent
        while let link = next, depth < 64 {
            depth += 1
            next = try session.pool(link.pool).withImage(link.image, snapshot: link.snapshot, readOnly: true) { try $0.parent() }
        }
        return depth
    }

    /// Puts a renamed image back under its own name; the row is dropped (it was never a volume).
    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let (volumeID, source) = (self.volumeID, self.sourceImage)
        if let volume = try? await context.store.read({ try $0.volume(volumeID) }) {
            do {
                try await context.cluster.run { session in
                    let io = try session.pool(volume.pool)
                    guard (try? io.withImage(volume.rbdImage) { try $0.metadata(RBDNames.volumeIDKey) }) == volumeID else { return }
                    try io.withImage(volume.rbdImage) { image in
                        try image.removeMetadata(RBDNames.volumeIDKey)
                        try image.removeMetadata(RBDNames.nameKey)
                    }
                    try io.renameImage(from: volume.rbdImage, to: source)
                }
            } catch {
                context.logger.error("could not give \(volume.pool)/\(volume.rbdImage) its name \(source) back: \(error)")
            }
        }
        let cancelled = error.kind == .cancelled
        return { tx in
            try tx.endVolumeJob(.manageVolume, .undone(cancelled: cancelled, started: true, imageRemoved: false), volumeID: volumeID)
        }
    }
}

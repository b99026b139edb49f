import Foundation
import Lifecycle
import RBD
import VolumeStore

/// Uploads a raw image file into the image store: create the image, write the data (thin,
/// hashed), then take and protect the snapshot `snap` that clones hang from. A failure or a
/// cancel removes the partial image.
struct CreateImage: Operation {
    let imageID: String
    let path: String
    let sizeBytes: Int64?

    func run(_ context: JobContext) async throws -> Completion {
        let imageID = self.imageID
        let record = try await context.image(imageID)
        let (pool, name) = (record.pool, record.rbdImage)
        let order = context.settings.imageStoreOrder

        try await context.step(0, "create image \(pool)/\(name)") {
            try await context.rbd { session in
                let io = try session.pool(pool)
                do {
                    try io.createImage(name: name, size: UInt64(max(0, sizeBytes ?? 0)), order: order)
                } catch let error as RBDError where error.code == .alreadyExists {}
                try io.withImage(name) { image in
                    try image.setMetadata(RBDNames.imageIDKey, imageID)
                    if !record.name.isEmpty { try image.setMetadata(RBDNames.nameKey, record.name) }
                }
            }
        }

        // The whole write repeats after a crash (it is idempotent); its result is recorded with the checkpoint.
        let upload = ImageUpload(path: path, expectedSize: sizeBytes, chunkSize: 1 << order)
        try await context.step(1, "write \(path) to \(pool)/\(name)", {
            let progress = context.progressCallback(from: 0, to: 0.99)
            return try await context.rbd { session in
                try session.pool(pool).withImage(name) { image in try upload.write(into: image, progress: progress) }
            }
        }, record: { tx, result in
            var image = try tx.requireImage(imageID)
            image.sizeBytes = result.size
            image.checksum = result.sha256
            try tx.update(image)
        })

        let checksum = try await context.store.read { try $0.image(imageID)?.checksum }
        try await context.step(2, "snapshot \(pool)/\(name)@\(RBDNames.imageSnapshot)", checkpoint: false) {
            try await context.rbd { session in
                try session.pool(pool).withImage(name) { image in
                    let snap = RBDNames.imageSnapshot
                    if try !image.snapshotExists(snap) { try image.createSnapshot(snap) }
                    if try !image.isProtected(snap) { try image.protectSnapshot(snap) }
                    if let checksum { try image.setMetadata(RBDNames.checksumKey, checksum) }
                }
            }
        }
        let fsid = context.cluster.fsid ?? "unknown"
        return { tx in
            try tx.endImageJob(.createImage, succeeded: true, imageID: imageID) {
                $0.location = RBDNames.location(fsid: fsid, pool: pool, image: name)
            }
        }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let imageID = self.imageID
        let removed = await ImageRemoval.remove(context, imageID: imageID, refuseClones: false) == nil
        return { tx in try tx.endImageJob(.createImage, succeeded: false, imageID: imageID) { $0.purged = removed } }
    }
}

extension StoreTransaction {
    func requireImage(_ id: String) throws -> ImageRecord {
        guard let image = try image(id) else { throw EngineError.notFound("image \(id) not found") }
        return image
    }
}

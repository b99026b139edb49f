import Foundation
import Lifecycle
import RBD
import VolumeMetrics
import VolumeStore

/// Uploads a raw image the client streams into the image store: create the image, write the
/// data (thin, hashed), then take and protect the snapshot `snap` that clones hang from. A
/// failure, a cancel or a client gone mid-upload removes the partial image.
struct CreateImage: Operation {
    let imageID: String
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

        // The data lives only in the client's connection: a restart before it is all in ends
        // the job (and removes the image); once written, its result is recorded with the checkpoint.
        try await context.step(1, "write the uploaded data to \(pool)/\(name)", {
            guard let source = context.transfer else {
                throw EngineError.invalid("the upload was cut off (volumed restarted before all its data was in): upload the image again")
            }
            let upload = ImageUpload(
                source: source, expectedSize: sizeBytes, maximumSize: context.settings.imageUploadMaximumBytes, chunkSize: 1 << order)
            let progress = context.progressCallback(from: 0, to: 0.99, counting: .uploadBytes)
            do {
                return try await context.rbd(once: true) { session in
                    try session.pool(pool).withImage(name) { image in try upload.write(into: image, progress: progress) }
                }
            } catch let failure as TransferFailure {
                throw context.isCancelled || failure.isCancellation ? EngineError.cancelled("cancelled by request") : EngineError.invalid("upload failed: \(failure.reason)")
            }
        }, record: { tx, result in try Self.record(result, of: imageID, tx) })

        try await context.step(2, "snapshot \(pool)/\(name)@\(RBDNames.imageSnapshot)", checkpoint: false) {
            try await Self.protectSnapshot(context, imageID: imageID, pool: pool, name: name)
        }
        let fsid = context.cluster.fsid ?? "unknown"
        return { tx in
            try tx.endImageJob(.createImage, succeeded: true, imageID: imageID) {
                $0.location = RBDNames.location(fsid: fsid, pool: pool, image: name)
            }
        }
    }

    /// The size and checksum of the data written, recorded with the step that wrote it.
    static func record(_ result: ImageUpload.Result, of imageID: String, _ tx: StoreTransaction) throws {
        var image = try tx.requireImage(imageID)
        image.sizeBytes = result.size
        image.checksum = result.sha256
        try tx.update(image)
    }

    /// Takes and protects the snapshot `snap` clones hang from, and tags the image with its
    /// recorded checksum (for `volumed rebuild-state`).
    static func protectSnapshot(_ context: JobContext, imageID: String, pool: String, name: String) async throws {
        let checksum = try await context.store.read { try $0.image(imageID)?.checksum }
        try await context.rbd { session in
            try session.pool(pool).withImage(name) { image in
                let snap = RBDNames.imageSnapshot
                if try !image.snapshotExists(snap) { try image.createSnapshot(snap) }
                if try !image.isProtected(snap) { try image.protectSnapshot(snap) }
                if let checksum { try image.setMetadata(RBDNames.checksumKey, checksum) }
            }
        }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        // The client may still be sending: its connection drops the rest and replies with the error.
        context.transfer?.fail(error.message)
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

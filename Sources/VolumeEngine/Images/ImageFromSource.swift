import Crypto
import Foundation
import Glibc
import Lifecycle
import RBD
import VolumeStore

/// Makes an image-store image from a volume or one of its snapshots (Nova's `direct_snapshot`,
/// Cinder's upload-to-image): a flat copy (no parent, so it outlives its source) with its own
/// protected `snap` and the sha256 of its bytes, as an upload gets. A volume is read through a
/// snapshot taken for the copy, so it may stay attached and be written meanwhile (the image
/// holds its bytes at that moment, crash-consistent); that snapshot goes at the end.
///
/// Every step repeats safely after a crash: the copy rewrites the whole image (the same bytes
/// land on the same objects) and hashes it anew.
struct ImageFromSource: Operation {
    let imageID: String
    let volumeID: String
    /// The user snapshot to copy; nil copies the volume as it is when the job starts.
    let snapshotID: String?

    func run(_ context: JobContext) async throws -> Completion {
        let imageID = self.imageID
        let record = try await context.image(imageID)
        let volume = try await context.volume(volumeID)
        let (pool, name, order) = (record.pool, record.rbdImage, context.settings.imageStoreOrder)
        let (sourcePool, sourceImage) = (volume.pool, volume.rbdImage)
        let readFrom = snapshotID.map(RBDNames.snapshot) ?? RBDNames.imageSourceSnapshot(for: imageID)

        if snapshotID == nil {
            try await context.step(0, "snapshot \(sourcePool)/\(sourceImage)@\(readFrom) to copy from") {
                try await context.rbd { session in
                    try session.pool(sourcePool).withImage(sourceImage) { image in
                        if try !image.snapshotExists(readFrom) { try image.createSnapshot(readFrom) }
                    }
                }
            }
        }

        try await context.step(1, "copy \(sourcePool)/\(sourceImage)@\(readFrom) into \(pool)/\(name)", {
            let progress = context.progressCallback(from: 0, to: 0.98)
            return try await context.rbd { session -> ImageUpload.Result in
                let target = try session.pool(pool)
                return try session.pool(sourcePool).withImage(sourceImage, snapshot: readFrom, readOnly: true) { source in
                    let size = try source.size()
                    do {
                        try target.createImage(name: name, size: size, order: order)
                    } catch let error as RBDError where error.code == .alreadyExists {}
                    return try target.withImage(name) { image in
                        try image.setMetadata(RBDNames.imageIDKey, imageID)
                        if !record.name.isEmpty { try image.setMetadata(RBDNames.nameKey, record.name) }
                        return try Self.copy(from: source, into: image, size: size, chunkSize: 1 << order, progress: progress)
                    }
                }
            }
        }, record: { tx, result in try CreateImage.record(result, of: imageID, tx) })

        try await context.step(2, "snapshot \(pool)/\(name)@\(RBDNames.imageSnapshot)") {
            try await CreateImage.protectSnapshot(context, imageID: imageID, pool: pool, name: name)
        }
        if snapshotID == nil {
            try await context.step(3, "remove \(sourcePool)/\(sourceImage)@\(readFrom)", checkpoint: false) {
                try await context.removeSnapshotIfPresent(pool: sourcePool, image: sourceImage, snapshot: readFrom)
            }
        }
        context.note("copied from \(snapshotID.map { "snapshot \($0)" } ?? "volume \(volumeID)") (\(sourcePool)/\(sourceImage)@\(readFrom))")
        let fsid = context.cluster.fsid ?? "unknown"
        return { tx in
            try tx.endImageJob(.createImage, succeeded: true, imageID: imageID) {
                $0.location = RBDNames.location(fsid: fsid, pool: pool, image: name)
            }
        }
    }

    /// Removes the partial image and the snapshot taken to copy from.
    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        let imageID = self.imageID
        let removed = await ImageRemoval.remove(context, imageID: imageID, refuseClones: false) == nil
        if snapshotID == nil, let volume = try? await context.volume(volumeID) {
            let snapshot = RBDNames.imageSourceSnapshot(for: imageID)
            do {
                try await context.removeSnapshotIfPresent(pool: volume.pool, image: volume.rbdImage, snapshot: snapshot)
            } catch {
                // A purge of the volume removes it (volumed's own snapshot, wanted by nothing).
                context.logger.error("could not remove \(volume.pool)/\(volume.rbdImage)@\(snapshot): \(error)")
            }
        }
        return { tx in try tx.endImageJob(.createImage, succeeded: false, imageID: imageID) { $0.purged = removed } }
    }

    /// Runs on the blocking pool: reads `source` object by object with several reads in
    /// flight, writes what is not all zeros (thin) with several writes in flight, and hashes
    /// every byte. `progress(done, total)` returns false to stop.
    static func copy(
        from source: borrowing Image, into target: borrowing Image, size: UInt64, chunkSize: Int,
        progress: (UInt64, UInt64) -> Bool
    ) throws -> ImageUpload.Result {
        var reads = ReadAhead(from: 0, to: size, chunkSize: chunkSize, depth: 4)
        var writes = WriteWindow(depth: 4, bufferSize: chunkSize)
        var hasher = SHA256()
        var done: UInt64 = 0
        while let (offset, bytes) = try reads.next(from: source) {
            guard !bytes.isEmpty else { break }
            hasher.update(bufferPointer: bytes)
            if !ImageUpload.isZero(bytes), let from = bytes.baseAddress, let into = writes.buffer.baseAddress {
                into.copyMemory(from: from, byteCount: bytes.count)
                try writes.submit(bytes.count, at: offset, to: target)
            }
            done = offset + UInt64(bytes.count)
            guard progress(done, size) else {
                throw RBDError(errno: ECANCELED, operation: "copy into \(target.pool)/\(target.name)")
            }
        }
        try writes.drain()
        guard done == size else {
            throw RBDError(errno: EIO, operation: "copy from \(source.pool)/\(source.name): read \(done) of \(size) bytes")
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return ImageUpload.Result(size: Int64(size), sha256: digest)
    }
}

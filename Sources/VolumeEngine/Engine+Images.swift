import Foundation
import Lifecycle
import VolumeStore

/// Admission of image-store requests (Glance's side).
extension Engine {
    /// Admits an upload whose data arrives through `upload` (the client's connection).
    public func createImage(name: String?, sizeBytes: Int64?, upload: TransferPipe) async throws -> AcceptedImage {
        let settings = self.settings
        if let sizeBytes, sizeBytes > settings.imageUploadMaximumBytes {
            throw EngineError.invalid("size_bytes \(sizeBytes) is larger than image_upload_max_gb (\(settings.imageUploadMaximumBytes >> 30) GiB)")
        }
        let accepted = try await store.admit { tx -> AcceptedImage in
            let id = newID()
            let image = ImageRecord(
                id: id, name: name ?? "", status: .creating, pool: settings.imagePool,
                rbdImage: RBDNames.storeImage(id), sizeBytes: sizeBytes ?? 0)
            try tx.insert(image)
            let job = JobRecord(
                id: newID(), kind: .createImage, lockKey: "image:\(id)", imageID: id,
                params: try CreateImageParameters(sizeBytes: sizeBytes).encoded())
            try tx.insert(job)
            return AcceptedImage(job: job, image: image)
        }
        attach(upload, to: accepted.job.id)
        await accept(accepted.job, detail: ": upload to \(accepted.image.pool)/\(accepted.image.rbdImage)")
        return accepted
    }

    /// Admits an image made from a volume or one of its snapshots (Nova's `direct_snapshot`,
    /// Cinder's upload-to-image): a flat copy in the image store. The job runs under the source
    /// volume's lock, so nothing that changes or removes the source runs while it reads.
    public func createImage(name: String?, from source: ImageSource) async throws -> AcceptedImage {
        let settings = self.settings
        let accepted = try await store.admit { tx -> AcceptedImage in
            let (volume, snapshot) = try Self.imageSource(tx, source)
            let sizeBytes = Int64(snapshot?.sizeGB ?? volume.sizeGB) << 30
            if sizeBytes > settings.imageUploadMaximumBytes {
                throw EngineError.invalid(
                    "the source holds \(sizeBytes >> 30) GiB, more than image_upload_max_gb (\(settings.imageUploadMaximumBytes >> 30) GiB)")
            }
            let id = newID()
            let image = ImageRecord(
                id: id, name: name ?? "", status: .creating, pool: settings.imagePool,
                rbdImage: RBDNames.storeImage(id), sizeBytes: sizeBytes)
            try tx.insert(image)
            let job = JobRecord(
                id: newID(), kind: .createImage, lockKey: volume.id, volumeID: volume.id, snapshotID: snapshot?.id, imageID: id,
                params: try CreateImageParameters(sizeBytes: sizeBytes, fromVolume: true).encoded())
            try tx.insert(job)
            return AcceptedImage(job: job, image: image)
        }
        let from = accepted.job.snapshotID.map { "snapshot \($0)" } ?? "volume \(accepted.job.volumeID ?? "")"
        await accept(accepted.job, detail: ": \(accepted.image.pool)/\(accepted.image.rbdImage) from \(from)")
        return accepted
    }

    /// The volume (and snapshot) an image is made from, as the lifecycle admits a snapshot of
    /// the volume or a clone from the snapshot: live and available (attached or not), or refused.
    private static func imageSource(_ tx: StoreTransaction, _ source: ImageSource) throws -> (VolumeRecord, SnapshotRecord?) {
        switch source {
        case .volume(let id):
            return (try VolumeLifecycle.admit(.snapshot, to: try tx.volume(id), id: id).volume, nil)
        case .snapshot(let id):
            let snapshot = try SnapshotLifecycle.admit(.cloneFrom, to: try tx.snapshot(id), id: id).snapshot
            return (try tx.requireVolume(snapshot.volumeID), snapshot)
        }
    }

    public func deleteImage(id: String) async throws -> AcceptedImage {
        let accepted = try await store.admit { tx -> AcceptedImage in
            let clones = try tx.clones(ofImage: id).map { "\($0.pool)/\($0.rbdImage)" }
            let (image, prior) = try ImageLifecycle.admit(.delete(clones: clones), to: try tx.image(id), id: id)
            let job = JobRecord(
                id: newID(), kind: .deleteImage, lockKey: "image:\(id)", imageID: id,
                params: try PriorStatusParameters(priorStatus: prior).encoded())
            try tx.update(image)
            try tx.insert(job)
            return AcceptedImage(job: job, image: image)
        }
        await accept(accepted.job, detail: "")
        return accepted
    }

    /// Admits a download sent through `download` (the client's connection); `length` in the
    /// answer is how many bytes it will carry.
    public func exportImage(id: String, offset: Int64, length: Int64?, download: TransferPipe) async throws -> (AcceptedImage, length: Int64) {
        let accepted = try await store.admit { tx -> (AcceptedImage, Int64) in
            let image = try ImageLifecycle.admit(.export(offset: offset), to: try tx.image(id), id: id).image
            let job = JobRecord(
                id: newID(), kind: .exportImage, lockKey: "image:\(id)", imageID: id,
                params: try ExportImageParameters(offset: offset, length: length).encoded())
            try tx.insert(job)
            let available = max(0, image.sizeBytes - offset)
            return (AcceptedImage(job: job, image: image), length.map { min($0, available) } ?? available)
        }
        attach(download, to: accepted.0.job.id)
        await accept(accepted.0.job, detail: " to the client")
        return (accepted.0, length: accepted.1)
    }
}

/// What `image.create` copies an image from, instead of an upload.
public enum ImageSource: Sendable, Equatable {
    case volume(String)
    case snapshot(String)
}

/// An accepted image request: its job and the image row.
public struct AcceptedImage: Sendable {
    public var job: JobRecord
    public var image: ImageRecord
}

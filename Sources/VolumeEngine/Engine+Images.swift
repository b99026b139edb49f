import Foundation
import VolumeStore

/// Admission of image-store requests (Glance's side).
extension Engine {
    public func createImage(name: String?, path: String, sizeBytes: Int64?) async throws -> AcceptedImage {
        guard path.hasPrefix("/") else { throw EngineError.invalid("path must be absolute, got '\(path)'") }
        // Refuse a file the daemon cannot read now, rather than fail the job later.
        guard access(path, R_OK) == 0 else {
            throw EngineError.invalid("the daemon cannot read \(path): \(String(cString: strerror(errno)))")
        }
        let settings = self.settings
        let accepted = try await store.write { tx -> AcceptedImage in
            let id = newID()
            let image = ImageRecord(
                id: id, name: name ?? "", status: "creating", pool: settings.imagePool,
                rbdImage: RBDNames.storeImage(id), sizeBytes: sizeBytes ?? 0)
            try tx.insert(image)
            let job = JobRecord(
                id: newID(), kind: JobKind.createImage.rawValue, lockKey: "image:\(id)", imageID: id,
                params: JobParams(path: path, sizeBytes: sizeBytes).encoded())
            try tx.insert(job)
            return AcceptedImage(job: job, image: image)
        }
        await accept(accepted.job, detail: ": \(path) to \(accepted.image.pool)/\(accepted.image.rbdImage)")
        return accepted
    }

    public func deleteImage(id: String) async throws -> AcceptedImage {
        let accepted = try await store.write { tx -> AcceptedImage in
            guard var image = try tx.image(id), image.status != "deleted" else { throw EngineError.notFound("image \(id) not found") }
            guard image.status == "active" || image.status == "error" else {
                throw EngineError.conflict("image \(id) is \(image.status); delete it when its job has ended")
            }
            let clones = try tx.clones(ofImage: id)
            guard clones.isEmpty else {
                throw EngineError.inUse(
                    "The image cannot be deleted because it is in use through the backend store: \(clones.count) clone(s), e.g. \(clones[0].pool)/\(clones[0].rbdImage)")
            }
            let job = JobRecord(
                id: newID(), kind: JobKind.deleteImage.rawValue, lockKey: "image:\(id)", imageID: id,
                params: JobParams(priorStatus: image.status).encoded())
            image.status = "deleting"
            try tx.update(image)
            try tx.insert(job)
            return AcceptedImage(job: job, image: image)
        }
        await accept(accepted.job, detail: "")
        return accepted
    }

    public func exportImage(id: String, path: String, offset: Int64, length: Int64?) async throws -> AcceptedImage {
        guard path.hasPrefix("/") else { throw EngineError.invalid("path must be absolute, got '\(path)'") }
        let accepted = try await store.write { tx -> AcceptedImage in
            guard let image = try tx.image(id), image.status != "deleted" else { throw EngineError.notFound("image \(id) not found") }
            guard image.status == "active" else { throw EngineError.conflict("image \(id) is \(image.status), not active") }
            guard offset <= image.sizeBytes else {
                throw EngineError.invalid("offset \(offset) is beyond the image's \(image.sizeBytes) bytes")
            }
            let job = JobRecord(
                id: newID(), kind: JobKind.exportImage.rawValue, lockKey: "image:\(id)", imageID: id,
                params: JobParams(path: path, offset: offset, length: length).encoded())
            try tx.insert(job)
            return AcceptedImage(job: job, image: image)
        }
        await accept(accepted.job, detail: " to \(path)")
        return accepted
    }
}

/// An accepted image request: its job and the image row.
public struct AcceptedImage: Sendable {
    public var job: JobRecord
    public var image: ImageRecord
}

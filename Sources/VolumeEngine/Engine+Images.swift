import Foundation
import Lifecycle
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
        let accepted = try await store.admit { tx -> AcceptedImage in
            let id = newID()
            let image = ImageRecord(
                id: id, name: name ?? "", status: .creating, pool: settings.imagePool,
                rbdImage: RBDNames.storeImage(id), sizeBytes: sizeBytes ?? 0)
            try tx.insert(image)
            let job = JobRecord(
                id: newID(), kind: .createImage, lockKey: "image:\(id)", imageID: id,
                params: try CreateImageParameters(path: path, sizeBytes: sizeBytes).encoded())
            try tx.insert(job)
            return AcceptedImage(job: job, image: image)
        }
        await accept(accepted.job, detail: ": \(path) to \(accepted.image.pool)/\(accepted.image.rbdImage)")
        return accepted
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

    public func exportImage(id: String, path: String, offset: Int64, length: Int64?) async throws -> AcceptedImage {
        guard path.hasPrefix("/") else { throw EngineError.invalid("path must be absolute, got '\(path)'") }
        let accepted = try await store.admit { tx -> AcceptedImage in
            let image = try ImageLifecycle.admit(.export(offset: offset), to: try tx.image(id), id: id).image
            let job = JobRecord(
                id: newID(), kind: .exportImage, lockKey: "image:\(id)", imageID: id,
                params: try ExportImageParameters(path: path, offset: offset, length: length).encoded())
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

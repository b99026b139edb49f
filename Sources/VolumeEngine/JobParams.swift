import Foundation
import VolumeStore

/// The operation-specific part of a job row (`job.params`), as JSON.
struct JobParams: Codable, Sendable, Equatable {
    var mode: CloneMode?
    var sizeGB: Int?
    var priorStatus: String?
    /// A file the daemon reads (image.create) or writes (image.export).
    var path: String?
    var sizeBytes: Int64?
    var offset: Int64?
    var length: Int64?
    /// The user's image to adopt (volume.manage), by name.
    var sourceImage: String?
    var force: Bool?

    enum CodingKeys: String, CodingKey {
        case mode, sizeGB = "size_gb", priorStatus = "prior_status", path, sizeBytes = "size_bytes", offset, length
        case sourceImage = "source_image", force
    }

    func encoded() -> String {
        let data = (try? JSONEncoder().encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String) throws -> JobParams {
        try JSONDecoder().decode(JobParams.self, from: Data(text.utf8))
    }
}

extension JobRecord {
    /// The operation that runs this job.
    func operation() throws -> any Operation {
        let params = try JobParams.decode(self.params)
        func require(_ value: String?, _ what: String) throws -> String {
            guard let value else { throw EngineError.internalError("job \(id) (\(kind)) has no \(what)") }
            return value
        }
        switch JobKind(rawValue: kind) {
        case .createVolume:
            return CreateVolume(volumeID: try require(volumeID, "volume"), mode: params.mode ?? .blank)
        case .deleteVolume:
            return DeleteVolume(volumeID: try require(volumeID, "volume"), priorStatus: params.priorStatus ?? "available")
        case .extendVolume:
            guard let size = params.sizeGB else { throw EngineError.internalError("job \(id) has no size") }
            return ExtendVolume(volumeID: try require(volumeID, "volume"), sizeGB: size)
        case .flattenVolume:
            return FlattenVolume(volumeID: try require(volumeID, "volume"))
        case .createSnapshot:
            return CreateSnapshot(snapshotID: try require(snapshotID, "snapshot"))
        case .deleteSnapshot:
            return DeleteSnapshot(snapshotID: try require(snapshotID, "snapshot"), volumeID: try require(volumeID, "volume"),
                                  priorStatus: params.priorStatus ?? "available")
        case .purgeVolume:
            return PurgeVolume(volumeID: try require(volumeID, "volume"))
        case .revertVolume:
            return RevertVolume(volumeID: try require(volumeID, "volume"), snapshotID: try require(snapshotID, "snapshot"))
        case .manageVolume:
            return ManageVolume(volumeID: try require(volumeID, "volume"), sourceImage: try require(params.sourceImage, "source image"))
        case .unmanageVolume:
            return UnmanageVolume(volumeID: try require(volumeID, "volume"))
        case .createImage:
            return CreateImage(imageID: try require(imageID, "image"), path: try require(params.path, "path"), sizeBytes: params.sizeBytes)
        case .deleteImage:
            return DeleteImage(imageID: try require(imageID, "image"), priorStatus: params.priorStatus ?? "active")
        case .exportImage:
            return ExportImage(imageID: try require(imageID, "image"), path: try require(params.path, "path"),
                               offset: params.offset ?? 0, length: params.length)
        case nil:
            throw EngineError.internalError("job \(id) has unknown kind \(kind)")
        }
    }

    /// Whether the job takes one of the `rbd_concurrent_flatten_operations` slots.
    var flattens: Bool {
        switch JobKind(rawValue: kind) {
        case .flattenVolume: true
        case .createVolume: ((try? JobParams.decode(params))?.mode)?.flattens ?? false
        default: false
        }
    }
}

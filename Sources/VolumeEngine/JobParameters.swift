import Foundation
import Lifecycle

/// The operation-specific part of a job row (`job.params`, JSON): one payload type per job
/// kind. Encoding is part of admission: a payload that cannot be written fails the request,
/// never turns into an empty object.
protocol JobParameters: Codable, Sendable, Equatable {}

extension JobParameters {
    func encoded() throws -> String {
        do {
            return String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
        } catch {
            throw EngineError.internalError("cannot record the job's parameters \(self): \(error)")
        }
    }
}

extension JobRecord {
    /// The job's payload, as its kind's type.
    func parameters<P: JobParameters>(_ type: P.Type) throws -> P {
        do {
            return try JSONDecoder().decode(type, from: Data(params.utf8))
        } catch {
            throw EngineError.internalError("job \(id) (\(kind.rawValue)) has unreadable parameters \(params): \(error)")
        }
    }
}

/// For the kinds that need nothing but the row's ids.
struct NoParameters: JobParameters {}

/// volume.create: how the image is made, and its size.
struct CreateVolumeParameters: JobParameters {
    var mode: CloneMode
    var sizeGB: Int
    enum CodingKeys: String, CodingKey { case mode, sizeGB = "size_gb" }
}

/// volume.extend: the new size.
struct ExtendVolumeParameters: JobParameters {
    var sizeGB: Int
    enum CodingKeys: String, CodingKey { case sizeGB = "size_gb" }
}

/// volume.delete, snapshot.delete, image.delete: the status a delete that cannot start gives
/// back (absent in rows written before it was recorded).
struct PriorStatusParameters<Status: Codable & Sendable & Equatable>: JobParameters {
    var priorStatus: Status?
    enum CodingKeys: String, CodingKey { case priorStatus = "prior_status" }
}

/// volume.revert: whether an attached volume may be reverted.
struct RevertVolumeParameters: JobParameters {
    var force: Bool?
}

/// volume.manage: the user's image to adopt, by name.
struct ManageVolumeParameters: JobParameters {
    var sourceImage: String
    enum CodingKeys: String, CodingKey { case sourceImage = "source_image" }
}

/// image.create: the size the client announced, when it did (the data comes on its connection).
struct CreateImageParameters: JobParameters {
    var sizeBytes: Int64?
    /// Set for an image made from a volume (the job's `volume_id`) or, with `snapshot`, from
    /// that snapshot of it (the job's `snapshot_id`); absent for an upload.
    var fromVolume: Bool?
    enum CodingKeys: String, CodingKey { case sizeBytes = "size_bytes", fromVolume = "from_volume" }
}

/// backup.create, backup.restore, backup.delete: the backup; for a restore, whether its
/// volume is a new one made for it.
struct BackupParameters: JobParameters {
    var backupID: String
    var newVolume: Bool?
    enum CodingKeys: String, CodingKey { case backupID = "backup_id", newVolume = "new_volume" }
}

/// image.export: the range sent to the client.
struct ExportImageParameters: JobParameters {
    var offset: Int64?
    var length: Int64?
}

/// service.reconcile: whether to repair what it finds.
struct ReconcileParameters: JobParameters {
    var fix: Bool
}

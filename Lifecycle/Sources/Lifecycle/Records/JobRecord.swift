import Foundation

/// A durable unit of work. `step` is the index of the step to run next, written before that
/// step's effect happens; `params` is the operation's own JSON.
public struct JobRecord: Codable, Sendable, Equatable {
    public var id: String
    public var kind: JobKind
    public var state: JobState
    /// Jobs with the same lock key never run at the same time (the volume they change).
    public var lockKey: String
    public var volumeID: String?
    public var snapshotID: String?
    public var params: String
    public var step: Int
    public var progress: Double
    public var errorKind: FailureKind?
    public var errorMessage: String?
    public var idempotencyKey: String?
    /// With an idempotency key: the request it was given with, in a canonical form.
    public var request: String?
    public var cancelRequested: Bool
    /// The image (Glance side) the job is about, for image jobs.
    public var imageID: String?
    /// Free text about how the job went (e.g. "flattened: clone depth 6 > 5").
    public var note: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, kind, state, lockKey = "lock_key", volumeID = "volume_id", snapshotID = "snapshot_id"
        case params, step, progress, errorKind = "error_kind", errorMessage = "error_message"
        case idempotencyKey = "idempotency_key", request, cancelRequested = "cancel_requested", note, imageID = "image_id"
        case createdAt = "created_at", startedAt = "started_at", finishedAt = "finished_at"
    }

    public init(
        id: String, kind: JobKind, lockKey: String, volumeID: String? = nil, snapshotID: String? = nil,
        imageID: String? = nil, params: String = "{}", idempotencyKey: String? = nil, now: Date = Date()
    ) {
        self.imageID = imageID
        self.id = id
        self.kind = kind
        self.state = .queued
        self.lockKey = lockKey
        self.volumeID = volumeID
        self.snapshotID = snapshotID
        self.params = params
        self.step = 0
        self.progress = 0
        self.idempotencyKey = idempotencyKey
        self.cancelRequested = false
        self.createdAt = now
    }

    public var isFinal: Bool { state.isFinal }
}

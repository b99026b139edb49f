import Foundation
import Lifecycle

/// A volume as clients see it.
public struct Volume: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var sizeGB: Int
    /// `creating`, `available`, `extending`, `deleting`, `deleted` or `error`.
    public var status: String
    public var pool: String
    public var rbdImage: String
    /// The image this volume's image is still a clone of; null when flat.
    public var parent: Parent?
    /// What the volume was made from, kept after a flatten.
    public var source: Source?
    public var cloneDepth: Int
    /// Created without exclusive-lock, so several hosts may attach it.
    public var multiattach: Bool
    /// How many hosts have it attached (`status` is `in-use` while this is above 0).
    public var attachmentCount: Int
    /// The attachments themselves: filled by `volume.get`, null in lists.
    public var attachments: [Attachment]?
    public var createdAt: Date
    public var updatedAt: Date

    /// The parent image: a volume's (`volume_id`) or an image-store image (`image_id`).
    public struct Parent: Sendable, Codable, Equatable {
        public var volumeID: String?
        public var imageID: String?
        public var rbdSnapshot: String
        public init(volumeID: String?, imageID: String? = nil, rbdSnapshot: String) {
            self.volumeID = volumeID
            self.imageID = imageID
            self.rbdSnapshot = rbdSnapshot
        }
        enum CodingKeys: String, CodingKey { case volumeID = "volume_id", imageID = "image_id", rbdSnapshot = "rbd_snapshot" }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(volumeID, forKey: .volumeID)
            try c.encode(imageID, forKey: .imageID)
            try c.encode(rbdSnapshot, forKey: .rbdSnapshot)
        }
    }

    public init(
        id: String, name: String, sizeGB: Int, status: String, pool: String, rbdImage: String,
        parent: Parent?, source: Source?, cloneDepth: Int, multiattach: Bool = false, attachmentCount: Int = 0,
        attachments: [Attachment]? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.multiattach = multiattach
        self.attachmentCount = attachmentCount
        self.attachments = attachments
        self.id = id
        self.name = name
        self.sizeGB = sizeGB
        self.status = status
        self.pool = pool
        self.rbdImage = rbdImage
        self.parent = parent
        self.source = source
        self.cloneDepth = cloneDepth
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, sizeGB = "size_gb", status, pool, rbdImage = "rbd_image", parent, source
        case cloneDepth = "clone_depth", multiattach, attachmentCount = "attachment_count", attachments
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        sizeGB = try c.decode(Int.self, forKey: .sizeGB)
        status = try c.decode(String.self, forKey: .status)
        pool = try c.decode(String.self, forKey: .pool)
        rbdImage = try c.decode(String.self, forKey: .rbdImage)
        parent = try c.decodeIfPresent(Parent.self, forKey: .parent)
        source = try c.decodeIfPresent(Source.self, forKey: .source)
        cloneDepth = try c.decode(Int.self, forKey: .cloneDepth)
        multiattach = try c.decodeIfPresent(Bool.self, forKey: .multiattach) ?? false
        attachmentCount = try c.decodeIfPresent(Int.self, forKey: .attachmentCount) ?? 0
        attachments = try c.decodeIfPresent([Attachment].self, forKey: .attachments)
        createdAt = try c.decode(Date.self, forKey: .createdAt)
        updatedAt = try c.decode(Date.self, forKey: .updatedAt)
    }

    /// Optional fields are written as `null`, never left out: clients may rely on every key.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(sizeGB, forKey: .sizeGB)
        try c.encode(status, forKey: .status)
        try c.encode(pool, forKey: .pool)
        try c.encode(rbdImage, forKey: .rbdImage)
        try c.encode(parent, forKey: .parent)
        try c.encode(source, forKey: .source)
        try c.encode(cloneDepth, forKey: .cloneDepth)
        try c.encode(multiattach, forKey: .multiattach)
        try c.encode(attachmentCount, forKey: .attachmentCount)
        try c.encode(attachments, forKey: .attachments)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}

/// Where a new volume comes from.
public enum Source: Sendable, Equatable, Codable {
    case volume(String)
    case snapshot(String)
    case image(String)
    /// Adopted with `volume.manage`.
    case managed

    enum CodingKeys: String, CodingKey { case volumeID = "volume_id", snapshotID = "snapshot_id", imageID = "image_id", managed }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let id = try container.decodeIfPresent(String.self, forKey: .volumeID) { self = .volume(id) }
        else if let id = try container.decodeIfPresent(String.self, forKey: .imageID) { self = .image(id) }
        else if try container.decodeIfPresent(Bool.self, forKey: .managed) == true { self = .managed }
        else { self = .snapshot(try container.decode(String.self, forKey: .snapshotID)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .volume(let id): try container.encode(id, forKey: .volumeID)
        case .snapshot(let id): try container.encode(id, forKey: .snapshotID)
        case .image(let id): try container.encode(id, forKey: .imageID)
        case .managed: try container.encode(true, forKey: .managed)
        }
    }
}

public struct Snapshot: Sendable, Codable, Equatable {
    public var id: String
    public var volumeID: String
    public var name: String
    /// `creating`, `available`, `deleting`, `deleted` or `error`.
    public var status: String
    public var sizeGB: Int
    public var rbdSnapshot: String
    public var createdAt: Date

    public init(id: String, volumeID: String, name: String, status: String, sizeGB: Int, rbdSnapshot: String, createdAt: Date) {
        self.id = id
        self.volumeID = volumeID
        self.name = name
        self.status = status
        self.sizeGB = sizeGB
        self.rbdSnapshot = rbdSnapshot
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, volumeID = "volume_id", name, status, sizeGB = "size_gb", rbdSnapshot = "rbd_snapshot"
        case createdAt = "created_at"
    }
}

public struct Job: Sendable, Codable, Equatable {
    public var id: String
    public var kind: String
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    public var state: String
    /// 0…1.
    public var progress: Double
    public var error: JobError?
    public var volumeID: String?
    public var snapshotID: String?
    /// How the job went, in words (e.g. why a clone was flattened).
    public var note: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?

    public struct JobError: Sendable, Codable, Equatable {
        public var kind: ErrorKind
        public var message: String
        public init(kind: ErrorKind, message: String) {
            self.kind = kind
            self.message = message
        }
    }

    public init(
        id: String, kind: String, state: String, progress: Double, error: JobError?, volumeID: String?,
        snapshotID: String?, note: String?, createdAt: Date, startedAt: Date?, finishedAt: Date?
    ) {
        self.id = id
        self.kind = kind
        self.state = state
        self.progress = progress
        self.error = error
        self.volumeID = volumeID
        self.snapshotID = snapshotID
        self.note = note
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    /// `state` as the lifecycle's type (nil for a state this client does not know).
    public var jobState: JobState? { JobState(rawValue: state) }
    /// `kind` as the lifecycle's type (nil for a kind this client does not know).
    public var jobKind: JobKind? { JobKind(rawValue: kind) }
    public var isFinal: Bool { jobState?.isFinal ?? false }

    enum CodingKeys: String, CodingKey {
        case id, kind, state, progress, error, volumeID = "volume_id", snapshotID = "snapshot_id", note
        case createdAt = "created_at", startedAt = "started_at", finishedAt = "finished_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(kind, forKey: .kind)
        try c.encode(state, forKey: .state)
        try c.encode(progress, forKey: .progress)
        try c.encode(error, forKey: .error)
        try c.encode(volumeID, forKey: .volumeID)
        try c.encode(snapshotID, forKey: .snapshotID)
        try c.encode(note, forKey: .note)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
    }
}

/// The answer to a mutating call: the job and what it changes.
public struct MutationResult: Sendable, Codable, Equatable {
    public var job: Job
    public var volume: Volume?
    public var snapshot: Snapshot?
    public var image: Image?

    public init(job: Job, volume: Volume? = nil, snapshot: Snapshot? = nil, image: Image? = nil) {
        self.job = job
        self.volume = volume
        self.snapshot = snapshot
        self.image = image
    }

    enum CodingKeys: String, CodingKey { case job, volume, snapshot, image }

    /// Writes `job` and whichever of `volume`/`snapshot` the call is about.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(job, forKey: .job)
        try c.encodeIfPresent(volume, forKey: .volume)
        try c.encodeIfPresent(snapshot, forKey: .snapshot)
        try c.encodeIfPresent(image, forKey: .image)
    }
}

public struct ServiceStatus: Sendable, Codable, Equatable {
    public var version: String
    /// `ok`, `degraded` (cluster unreachable), `starting` (taking the cluster lock) or `standby`.
    public var state: String
    public var clusterFSID: String?
    public var clusterConnected: Bool
    public var pool: String
    public var workers: Int
    public var jobsRunning: Int
    public var jobsQueued: Int
    public var volumes: Int
    public var uptimeSeconds: Double
    /// The one-line state systemd shows (`systemctl status volumed`).
    public var statusLine: String
    /// The options in force (they may change on reload).
    public var settings: Settings
    /// Per-pool capacity, as last measured (refreshed every 30 s); null until first measured.
    public var capacity: [PoolCapacity]?
    /// Where the database is: `local` (a file on this host) or `rados` (shared by every host).
    public var stateStore: String?
    /// The daemon holding the database and the cluster lock: this one when active, the active
    /// one when this one is standby; null while unknown.
    public var holder: Holder?

    /// A daemon holding the cluster lock, as its holder record names it.
    public struct Holder: Sendable, Codable, Equatable {
        public var host: String
        public var pid: Int32
        public var since: Date

        public init(host: String, pid: Int32, since: Date) {
            self.host = host
            self.pid = pid
            self.since = since
        }
    }

    public struct Settings: Sendable, Codable, Equatable {
        public var workers: Int
        public var rbdMaxCloneDepth: Int
        public var rbdFlattenVolumeFromSnapshot: Bool
        public var rbdConcurrentFlattenOperations: Int
        public var logLevel: String

        public init(workers: Int, rbdMaxCloneDepth: Int, rbdFlattenVolumeFromSnapshot: Bool, rbdConcurrentFlattenOperations: Int, logLevel: String) {
            self.workers = workers
            self.rbdMaxCloneDepth = rbdMaxCloneDepth
            self.rbdFlattenVolumeFromSnapshot = rbdFlattenVolumeFromSnapshot
            self.rbdConcurrentFlattenOperations = rbdConcurrentFlattenOperations
            self.logLevel = logLevel
        }

        enum CodingKeys: String, CodingKey {
            case workers, rbdMaxCloneDepth = "rbd_max_clone_depth"
            case rbdFlattenVolumeFromSnapshot = "rbd_flatten_volume_from_snapshot"
            case rbdConcurrentFlattenOperations = "rbd_concurrent_flatten_operations", logLevel = "log_level"
        }
    }

    public init(
        version: String, state: String, clusterFSID: String?, clusterConnected: Bool, pool: String,
        workers: Int, jobsRunning: Int, jobsQueued: Int, volumes: Int, uptimeSeconds: Double,
        statusLine: String, settings: Settings
    ) {
        self.statusLine = statusLine
        self.settings = settings
        self.version = version
        self.state = state
        self.clusterFSID = clusterFSID
        self.clusterConnected = clusterConnected
        self.pool = pool
        self.workers = workers
        self.jobsRunning = jobsRunning
        self.jobsQueued = jobsQueued
        self.volumes = volumes
        self.uptimeSeconds = uptimeSeconds
    }

    enum CodingKeys: String, CodingKey {
        case version, state, clusterFSID = "cluster_fsid", clusterConnected = "cluster_connected", pool, workers
        case jobsRunning = "jobs_running", jobsQueued = "jobs_queued", volumes, uptimeSeconds = "uptime_seconds"
        case statusLine = "status_line", settings, capacity, stateStore = "state_store", holder
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(state, forKey: .state)
        try c.encode(clusterFSID, forKey: .clusterFSID)
        try c.encode(clusterConnected, forKey: .clusterConnected)
        try c.encode(pool, forKey: .pool)
        try c.encode(workers, forKey: .workers)
        try c.encode(jobsRunning, forKey: .jobsRunning)
        try c.encode(jobsQueued, forKey: .jobsQueued)
        try c.encode(volumes, forKey: .volumes)
        try c.encode(uptimeSeconds, forKey: .uptimeSeconds)
        try c.encode(statusLine, forKey: .statusLine)
        try c.encode(settings, forKey: .settings)
        try c.encode(capacity, forKey: .capacity)
        try c.encode(stateStore, forKey: .stateStore)
        try c.encode(holder, forKey: .holder)
    }
}

extension JSONEncoder {
    /// The encoder both ends use: ISO 8601 dates, sorted keys, one line.
    public static func volumed() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension JSONDecoder {
    public static func volumed() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

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
    @Nullable public var parent: Parent?
    /// What the volume was made from, kept after a flatten.
    @Nullable public var source: Source?
    public var cloneDepth: Int
    /// Created without exclusive-lock, so several hosts may attach it.
    public var multiattach: Bool
    /// How many hosts have it attached (`status` is `in-use` while this is above 0).
    public var attachmentCount: Int
    /// The attachments themselves: filled by `volume.get`, null in lists.
    @Nullable public var attachments: [Attachment]?
    public var createdAt: Date
    public var updatedAt: Date
    /// Deleted with deferred deletion: when its image and snapshots go (`volume.undelete` until
    /// then). Absent otherwise.
    public var purgeAt: Date?

    /// The parent image: a volume's (`volume_id`) or an image-store image (`image_id`).
    public struct Parent: Sendable, Codable, Equatable {
        @Nullable public var volumeID: String?
        @Nullable public var imageID: String?
        public var rbdSnapshot: String
        enum CodingKeys: String, CodingKey { case volumeID = "volume_id", imageID = "image_id", rbdSnapshot = "rbd_snapshot" }
    }

    enum CodingKeys: String, CodingKey {
        case id, name, sizeGB = "size_gb", status, pool, rbdImage = "rbd_image", parent, source
        case cloneDepth = "clone_depth", multiattach, attachmentCount = "attachment_count", attachments
        case createdAt = "created_at", updatedAt = "updated_at", purgeAt = "purge_at"
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
    /// The schedule that took it; absent for a user's snapshot.
    public var scheduleID: String?

    enum CodingKeys: String, CodingKey {
        case id, volumeID = "volume_id", name, status, sizeGB = "size_gb", rbdSnapshot = "rbd_snapshot"
        case createdAt = "created_at", scheduleID = "schedule_id"
    }
}

/// A snapshot schedule.
public struct Schedule: Sendable, Codable, Equatable {
    public var id: String
    public var volumeID: String
    public var intervalSeconds: Int
    public var keep: Int
    @Nullable public var lastRunAt: Date?
    public var nextRunAt: Date
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, volumeID = "volume_id", intervalSeconds = "interval_s", keep
        case lastRunAt = "last_run_at", nextRunAt = "next_run_at", createdAt = "created_at"
    }
}

public struct Job: Sendable, Codable, Equatable {
    public var id: String
    public var kind: String
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    public var state: String
    /// 0…1.
    public var progress: Double
    @Nullable public var error: JobError?
    @Nullable public var volumeID: String?
    @Nullable public var snapshotID: String?
    /// How the job went, in words (e.g. why a clone was flattened).
    @Nullable public var note: String?
    public var createdAt: Date
    @Nullable public var startedAt: Date?
    @Nullable public var finishedAt: Date?

    public struct JobError: Sendable, Codable, Equatable {
        public var kind: ErrorKind
        public var message: String
        public init(kind: ErrorKind, message: String) {
            self.kind = kind
            self.message = message
        }
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
}

/// `volume.list` with `paged`: one page, and the marker that asks for the next (null on the last).
public struct VolumePage: Sendable, Codable, Equatable {
    public var volumes: [Volume]
    @Nullable public var nextMarker: String?

    enum CodingKeys: String, CodingKey { case volumes, nextMarker = "next_marker" }
}

/// The answer to a mutating call: the job and what it changes.
public struct MutationResult: Sendable, Codable, Equatable {
    public var job: Job
    public var volume: Volume?
    public var snapshot: Snapshot?
    public var image: Image?
    public var backup: Backup?

    public init(job: Job, volume: Volume? = nil, snapshot: Snapshot? = nil, image: Image? = nil, backup: Backup? = nil) {
        self.job = job
        self.volume = volume
        self.snapshot = snapshot
        self.image = image
        self.backup = backup
    }

    enum CodingKeys: String, CodingKey { case job, volume, snapshot, image, backup }
}

/// A backup of a volume, in the backup pool.
public struct Backup: Sendable, Codable, Equatable {
    public var id: String
    public var volumeID: String
    public var name: String
    /// `creating`, `available`, `deleting`, `deleted` or `error`.
    public var status: String
    public var sizeGB: Int
    /// The backup this one is incremental to; null for a full one.
    @Nullable public var parentID: String?
    public var bytesTransferred: Int64
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, volumeID = "volume_id", name, status, sizeGB = "size_gb", parentID = "parent_id"
        case bytesTransferred = "bytes_transferred", createdAt = "created_at"
    }
}

public struct ServiceStatus: Sendable, Codable, Equatable {
    public var version: String
    /// `ok`, `degraded` (cluster unreachable), `starting` (taking the cluster lock) or `standby`.
    public var state: String
    @Nullable public var clusterFSID: String?
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
    @Nullable public var capacity: [PoolCapacity]?
    /// Where the database is: `local` (a file on this host) or `rados` (shared by every host).
    @Nullable public var stateStore: String?
    /// The daemon holding the database and the cluster lock: this one when active, the active
    /// one when this one is standby; null while unknown.
    @Nullable public var holder: Holder?

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

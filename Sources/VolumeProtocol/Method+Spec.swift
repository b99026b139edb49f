/// One parameter of a method: what `rpc.discover` lists and the dispatcher allows.
public struct Parameter: Sendable, Equatable {
    public var name: String
    public var schema: Schema
    public var required: Bool
    public var summary: String
    /// Accepted only to be refused with a message saying what to do instead.
    public var deprecated: Bool

    public init(_ name: String, _ schema: Schema, required: Bool = false, _ summary: String, deprecated: Bool = false) {
        self.name = name
        self.schema = schema
        self.required = required
        self.summary = summary
        self.deprecated = deprecated
    }

    static func id(_ name: String, of thing: String, required: Bool = true) -> Parameter {
        Parameter(name, .uuid, required: required, "the \(thing)'s id")
    }

    static let wait = Parameter("wait", .boolean, "reply once the job has ended (its failure is then the call's error)")
    static let idempotencyKey = Parameter(
        "idempotency_key", .string(), "the same key with the same parameters returns the first job; with others, conflict")
    static let name = Parameter("name", .string(), "1 to 255 bytes of UTF-8, no control or bidirectional characters")
    static let path = Parameter(
        "path", .string(), "refused: volumed opens no file a client names; send the data on the connection", deprecated: true)
}

/// The definitions the dispatcher checks requests against and `rpc.discover` publishes, so the
/// published protocol cannot drift from the one served.
extension Method {
    /// The parameters the method takes: any other is refused (`invalid_params`, naming it).
    public var parameters: [String] { params.map(\.name) }

    public var params: [Parameter] {
        switch self {
        case .volumeCreate:
            [Parameter("size_gb", .integer(minimum: 1), required: true, "GiB"), .name,
             Parameter("source", .reference("Source"), "a volume, snapshot or image to clone or copy"),
             Parameter("pool", .string(), "one of the configured volume pools (default rbd_pool)"),
             Parameter("multiattach", .boolean, "may be attached to several hosts at once"), .idempotencyKey, .wait]
        case .volumeDelete:
            [.id("volume_id", of: "volume"), Parameter("force", .boolean, "delete even while attached"), .wait]
        case .volumeExtend:
            [.id("volume_id", of: "volume"), Parameter("size_gb", .integer(minimum: 1), required: true, "the new size, larger than now"), .wait]
        case .volumeFlatten, .volumeUnmanage, .volumeUndelete: [.id("volume_id", of: "volume"), .wait]
        case .volumeGet, .volumeUsage: [.id("volume_id", of: "volume")]
        case .volumeList:
            [Parameter("limit", .integer(minimum: 1), "at most this many (never more than max_list_limit)"),
             Parameter("marker", .uuid, "the last volume of the previous page"),
             Parameter("paged", .boolean, "reply {volumes, next_marker} instead of a list"),
             Parameter("deleted", .boolean, "instead: the volumes deleted with deferred deletion that may still be undeleted, with purge_at")]
        case .volumeRevert:
            [.id("volume_id", of: "volume"), .id("snapshot_id", of: "snapshot (one of the volume's)"),
             Parameter("force", .boolean, "revert even while attached"), .wait]
        case .volumeAttach:
            [.id("volume_id", of: "volume"),
             Parameter("connector", .object([.init("host", .string())]), required: true, "os-brick's connector: {host, …}")]
        case .volumeDetach: [.id("volume_id", of: "volume"), .id("attachment_id", of: "attachment")]
        case .volumeManage:
            [Parameter("pool", .string(), "the image's pool (default rbd_pool)"),
             Parameter("rbd_image", .string(), required: true, "the RBD image to adopt"), .name, .wait]
        case .imageCreate:
            [.name, Parameter("upload", .enumeration(["stream"]), "the data follows on the connection after upload.ready (unless source)"),
             Parameter("size_bytes", .integer(minimum: 1), "the exact size, when known (checked; with upload)"),
             Parameter("source", .oneOf([.object([.init("volume_id", .uuid)]), .object([.init("snapshot_id", .uuid)])]),
                       "instead of an upload: a flat copy of a volume (it may be attached) or of a snapshot"),
             .wait, .path]
        case .imageGet: [.id("image_id", of: "image")]
        case .imageList, .serviceStatus, .serviceCapacity, .serviceMetrics, .rpcDiscover: []
        case .imageExport:
            [.id("image_id", of: "image"),
             Parameter("download", .enumeration(["stream"]), required: true, "the data comes on the connection after download.ready"),
             Parameter("offset", .integer(minimum: 0), "first byte"), Parameter("length", .integer(minimum: 1), "bytes from offset"),
             .wait, .path]
        case .imageDelete: [.id("image_id", of: "image"), .wait]
        case .snapshotCreate: [.id("volume_id", of: "volume"), .name, .idempotencyKey, .wait]
        case .snapshotDelete: [.id("snapshot_id", of: "snapshot"), .wait]
        case .snapshotGet: [.id("snapshot_id", of: "snapshot")]
        case .snapshotList: [.id("volume_id", of: "volume", required: false)]
        case .backupCreate:
            [.id("volume_id", of: "volume"), .name,
             Parameter("incremental", .boolean, "only what changed since the volume's previous backup (the default when it has one)"), .wait]
        case .backupRestore:
            [.id("backup_id", of: "backup"), .id("volume_id", of: "volume to restore over (available, detached, big enough; default: a new one)", required: false), .wait]
        case .backupDelete: [.id("backup_id", of: "backup"), .wait]
        case .backupGet: [.id("backup_id", of: "backup")]
        case .backupList: [.id("volume_id", of: "volume", required: false)]
        case .scheduleCreate:
            [.id("volume_id", of: "volume"),
             Parameter("interval_s", .integer(minimum: 1), required: true, "seconds between snapshots (at least schedule_min_interval)"),
             Parameter("keep", .integer(minimum: 1), required: true, "how many of this schedule's snapshots stay (the oldest go)")]
        case .scheduleDelete: [.id("schedule_id", of: "schedule")]
        case .scheduleList: [.id("volume_id", of: "volume", required: false)]
        case .jobGet, .jobCancel, .jobWait, .jobWatch: [.id("job_id", of: "job")]
        case .jobList:
            [.id("volume_id", of: "volume", required: false), Parameter("limit", .integer(minimum: 1), "at most this many (100)"),
             Parameter("watch", .boolean, "after the list, a job.changed notification with the job each time one is queued, moves or ends, until the connection closes")]
        case .serviceReconcile: [Parameter("fix", .boolean, "repair what is safe to repair (needs the rights of a change)")]
        }
    }

    /// What a successful call returns.
    public var result: Schema {
        switch self {
        case .volumeCreate, .volumeDelete, .volumeExtend, .volumeFlatten, .volumeRevert, .volumeManage, .volumeUnmanage, .volumeUndelete,
             .snapshotCreate, .snapshotDelete, .imageCreate, .imageExport, .imageDelete:
            .reference("MutationResult")
        case .volumeGet, .volumeDetach: .reference("Volume")
        case .volumeUsage: .reference("VolumeUsage")
        case .volumeList: .oneOf([.array(.reference("Volume")), .reference("VolumePage")])
        case .volumeAttach: .reference("AttachResult")
        case .snapshotGet: .reference("Snapshot")
        case .snapshotList: .array(.reference("Snapshot"))
        case .backupCreate, .backupRestore, .backupDelete: .reference("MutationResult")
        case .backupGet: .reference("Backup")
        case .backupList: .array(.reference("Backup"))
        case .scheduleCreate, .scheduleDelete: .reference("Schedule")
        case .scheduleList: .array(.reference("Schedule"))
        case .imageGet: .reference("Image")
        case .imageList: .array(.reference("Image"))
        case .jobGet, .jobCancel, .jobWait, .jobWatch: .reference("Job")
        case .jobList: .array(.reference("Job"))
        case .serviceStatus: .reference("ServiceStatus")
        case .serviceCapacity: .array(.reference("PoolCapacity"))
        case .serviceReconcile: .reference("Drift")
        case .serviceMetrics: .reference("MetricsText")
        case .rpcDiscover: .object([.init("openrpc", .string()), .init("info", .any), .init("methods", .array(.any))])
        }
    }

    /// One line on what the method does.
    public var summary: String {
        switch self {
        case .volumeCreate: "Create a volume: empty, or a clone or copy of a volume, snapshot or image."
        case .volumeDelete: "Delete a volume (its image goes once no clone needs it)."
        case .volumeExtend: "Grow a volume."
        case .volumeFlatten: "Copy a clone's shared data from its parent so that it stands alone."
        case .volumeGet: "A volume, with its attachments."
        case .volumeList: "Volumes, oldest first, paged."
        case .volumeRevert: "Roll a volume back to one of its snapshots."
        case .volumeAttach: "Record an attachment and return the connection info os-brick and libvirt need."
        case .volumeDetach: "Remove an attachment."
        case .volumeManage: "Adopt an existing RBD image as a volume."
        case .volumeUnmanage: "Release a volume's image from volumed, keeping it."
        case .volumeUndelete: "Bring back a volume deleted with deferred deletion, within its delay, as it was."
        case .volumeUsage: "Provisioned and really used bytes, as rbd du computes them."
        case .imageCreate: "Upload an image into the image store (the data follows on the connection), or copy one from a volume or snapshot."
        case .imageGet: "An image."
        case .imageList: "Images."
        case .imageExport: "Send an image's bytes on the connection."
        case .imageDelete: "Delete an image (refused while clones of it exist)."
        case .snapshotCreate: "Snapshot a volume."
        case .snapshotDelete: "Delete a snapshot (its RBD snapshot goes once no clone needs it)."
        case .snapshotGet: "A snapshot."
        case .snapshotList: "Snapshots, of one volume or all."
        case .backupCreate: "Back a volume up into the backup pool: in full, or what changed since its previous backup."
        case .backupRestore: "Restore a backup into a new volume, or over an existing one."
        case .backupDelete: "Delete a backup (the others stay readable, in any order)."
        case .backupGet: "A backup."
        case .backupList: "Backups, of one volume or all, oldest first."
        case .scheduleCreate: "Snapshot a volume every interval_s seconds (scheduled-<UTC time>), keeping the newest keep."
        case .scheduleDelete: "End a snapshot schedule (the snapshots it took stay)."
        case .scheduleList: "Snapshot schedules, of one volume or all."
        case .jobGet: "A job."
        case .jobList: "Jobs, newest first."
        case .jobCancel: "Cancel a job."
        case .jobWait: "A job, once it has ended."
        case .jobWatch: "A job now, then job.progress notifications until it ends."
        case .serviceStatus: "The daemon's and the cluster's state."
        case .serviceCapacity: "Each pool's capacity (Cinder's formula)."
        case .serviceMetrics: "Every metric in Prometheus' text format."
        case .serviceReconcile: "Compare the database with the pools; with fix, repair what is safe."
        case .rpcDiscover: "This document: the protocol in OpenRPC."
        }
    }
}

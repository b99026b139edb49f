/// Every method the daemon answers. The raw values are the wire names: a contract with clients.
public enum Method: String, Sendable, CaseIterable {
    case volumeCreate = "volume.create"
    case volumeDelete = "volume.delete"
    case volumeExtend = "volume.extend"
    case volumeFlatten = "volume.flatten"
    case volumeGet = "volume.get"
    case volumeList = "volume.list"
    case volumeRevert = "volume.revert"
    case volumeAttach = "volume.attach"
    case volumeDetach = "volume.detach"
    case volumeManage = "volume.manage"
    case volumeUnmanage = "volume.unmanage"
    case volumeUsage = "volume.usage"
    case imageCreate = "image.create"
    case imageGet = "image.get"
    case imageList = "image.list"
    case imageExport = "image.export"
    case imageDelete = "image.delete"
    case snapshotCreate = "snapshot.create"
    case snapshotDelete = "snapshot.delete"
    case snapshotGet = "snapshot.get"
    case snapshotList = "snapshot.list"
    case jobGet = "job.get"
    case jobList = "job.list"
    case jobCancel = "job.cancel"
    case jobWait = "job.wait"
    case jobWatch = "job.watch"
    case serviceStatus = "service.status"
    case serviceCapacity = "service.capacity"
    /// Prometheus' text format; answered by a standby too (it reports itself).
    case serviceMetrics = "service.metrics"
    /// Needs the rights of a change even without `fix`: it opens every image in the pools.
    case serviceReconcile = "service.reconcile"

    /// Methods that change nothing: open to every user who can connect.
    public var isReadOnly: Bool {
        switch self {
        case .volumeGet, .volumeList, .volumeUsage, .snapshotGet, .snapshotList, .jobGet, .jobList, .jobWait, .jobWatch, .serviceStatus,
             .imageGet, .imageList, .serviceCapacity, .serviceMetrics: true
        default: false
        }
    }

    /// The parameters the method takes: any other is refused (`invalid_params`, naming it).
    public var parameters: [String] {
        switch self {
        case .volumeCreate: ["size_gb", "name", "source", "pool", "multiattach", "idempotency_key", "wait"]
        case .volumeDelete: ["volume_id", "force", "wait"]
        case .volumeExtend: ["volume_id", "size_gb", "wait"]
        case .volumeFlatten: ["volume_id", "wait"]
        case .volumeGet: ["volume_id"]
        case .volumeUsage: ["volume_id"]
        case .volumeList: ["limit", "marker", "paged"]
        case .volumeRevert: ["volume_id", "snapshot_id", "force", "wait"]
        case .volumeAttach: ["volume_id", "connector"]
        case .volumeDetach: ["volume_id", "attachment_id"]
        case .volumeManage: ["pool", "rbd_image", "name", "wait"]
        case .volumeUnmanage: ["volume_id", "wait"]
        // `path` only to refuse it with a message saying how to send the data.
        case .imageCreate: ["name", "upload", "size_bytes", "wait", "path"]
        case .imageGet: ["image_id"]
        case .imageList: []
        case .imageExport: ["image_id", "download", "offset", "length", "wait", "path"]
        case .imageDelete: ["image_id", "wait"]
        case .snapshotCreate: ["volume_id", "name", "idempotency_key", "wait"]
        case .snapshotDelete: ["snapshot_id", "wait"]
        case .snapshotGet: ["snapshot_id"]
        case .snapshotList: ["volume_id"]
        case .jobGet: ["job_id"]
        case .jobList: ["volume_id", "limit"]
        case .jobCancel: ["job_id"]
        case .jobWait: ["job_id"]
        case .jobWatch: ["job_id"]
        case .serviceStatus: []
        case .serviceCapacity: []
        case .serviceMetrics: []
        case .serviceReconcile: ["fix"]
        }
    }
}

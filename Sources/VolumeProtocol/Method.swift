/// Every method the daemon answers. The raw values are the wire names: a contract with clients.
public enum Method: String, Sendable, CaseIterable {
    case volumeCreate = "volume.create"
    case volumeDelete = "volume.delete"
    case volumeExtend = "volume.extend"
    case volumeFlatten = "volume.flatten"
    case volumeGet = "volume.get"
    case volumeList = "volume.list"
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

    /// Methods that change nothing: open to every user who can connect.
    public var isReadOnly: Bool {
        switch self {
        case .volumeGet, .volumeList, .snapshotGet, .snapshotList, .jobGet, .jobList, .jobWait, .jobWatch, .serviceStatus: true
        default: false
        }
    }
}

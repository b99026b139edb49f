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
    /// Brings back a volume deleted with deferred deletion, within its delay.
    case volumeUndelete = "volume.undelete"
    case imageCreate = "image.create"
    case imageGet = "image.get"
    case imageList = "image.list"
    case imageExport = "image.export"
    case imageDelete = "image.delete"
    case snapshotCreate = "snapshot.create"
    case snapshotDelete = "snapshot.delete"
    case snapshotGet = "snapshot.get"
    case snapshotList = "snapshot.list"
    case backupCreate = "backup.create"
    case backupRestore = "backup.restore"
    case backupDelete = "backup.delete"
    case backupGet = "backup.get"
    case backupList = "backup.list"
    case scheduleCreate = "schedule.create"
    case scheduleDelete = "schedule.delete"
    case scheduleList = "schedule.list"
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
    /// The protocol itself as an OpenRPC document (`Method+Spec.swift`, `OpenRPCDocument`).
    case rpcDiscover = "rpc.discover"

    /// Methods that change nothing: open to every user who can connect.
    public var isReadOnly: Bool {
        switch self {
        case .volumeGet, .volumeList, .volumeUsage, .snapshotGet, .snapshotList, .jobGet, .jobList, .jobWait, .jobWatch, .serviceStatus,
             .imageGet, .imageList, .serviceCapacity, .serviceMetrics, .rpcDiscover, .scheduleList, .backupGet, .backupList: true
        default: false
        }
    }
}

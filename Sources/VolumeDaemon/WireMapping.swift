import Lifecycle
import VolumeEngine
import VolumeProtocol
import VolumeStore

/// The one border where database records become wire types and engine errors become JSON-RPC errors.
extension Volume {
    /// An available volume with attachments is `in-use` (Cinder's word); the database keeps the
    /// lifecycle state and the count apart.
    init(_ record: VolumeRecord, attachments: [AttachmentRecord]? = nil) {
        let source: Source? = switch (record.sourceKind, record.sourceID) {
        case (.volume?, let id?): .volume(id)
        case (.snapshot?, let id?): .snapshot(id)
        case (.image?, let id?): .image(id)
        case (.managed?, _): .managed
        default: nil
        }
        let parent: Parent? = if record.parentVolumeID != nil || record.parentImageID != nil {
            Parent(volumeID: record.parentVolumeID, imageID: record.parentImageID, rbdSnapshot: record.parentSnapshot ?? "")
        } else {
            nil
        }
        self.init(
            id: record.id, name: record.name, sizeGB: record.sizeGB,
            status: (record.status == .available && record.attachCount > 0 ? .inUse : record.status).rawValue, pool: record.pool,
            rbdImage: record.rbdImage, parent: parent, source: source, cloneDepth: record.cloneDepth,
            multiattach: record.multiattach, attachmentCount: record.attachCount, attachments: attachments.map { $0.map(Attachment.init) },
            createdAt: record.createdAt, updatedAt: record.updatedAt)
    }
}

extension Attachment {
    init(_ record: AttachmentRecord) {
        self.init(id: record.id, volumeID: record.volumeID, host: record.host, createdAt: record.createdAt)
    }
}

extension Image {
    init(_ record: ImageRecord) {
        self.init(
            id: record.id, name: record.name, status: record.status.rawValue, pool: record.pool, rbdImage: record.rbdImage,
            sizeBytes: record.sizeBytes, checksum: record.checksum, location: record.location, createdAt: record.createdAt)
    }
}

extension VolumeProtocol.PoolCapacity {
    init(_ capacity: VolumeEngine.PoolCapacity) {
        self.init(
            pool: capacity.pool, totalBytes: capacity.totalBytes, freeBytes: capacity.freeBytes, usedBytes: capacity.usedBytes,
            provisionedBytes: capacity.provisionedBytes, quotaBytes: capacity.quotaBytes,
            overSubscriptionRatio: capacity.overSubscriptionRatio)
    }
}

extension Drift {
    init(_ report: DriftReport) {
        func items(_ list: [DriftReport.Item]) -> [Item] { list.map { Item(location: $0.location, id: $0.id, detail: $0.detail) } }
        self.init(
            clean: report.isClean, unknownImages: items(report.unknownImages), missingImages: items(report.missingImages),
            staleSnapshots: items(report.staleSnapshots), missingSnapshots: items(report.missingSnapshots),
            trash: items(report.trash), fixed: report.fixed)
    }
}

extension ConnectionInfo {
    init(_ details: ConnectionDetails) {
        self.init(data: Data(
            name: details.name, hosts: details.hosts, ports: details.ports, clusterName: details.clusterName,
            authEnabled: details.authEnabled, authUsername: details.authUsername, secretUUID: details.secretUUID,
            volumeID: details.volumeID))
    }
}

extension Snapshot {
    init(_ record: SnapshotRecord) {
        self.init(
            id: record.id, volumeID: record.volumeID, name: record.name, status: record.status.rawValue, sizeGB: record.sizeGB,
            rbdSnapshot: record.rbdSnapshot, createdAt: record.createdAt)
    }
}

extension Job {
    init(_ record: JobRecord) {
        let error: JobError? = record.errorKind.map { JobError(kind: ErrorKind($0), message: record.errorMessage ?? "") }
        self.init(
            id: record.id, kind: record.kind.rawValue, state: record.state.rawValue, progress: record.progress, error: error,
            volumeID: record.volumeID, snapshotID: record.snapshotID, note: record.note, createdAt: record.createdAt,
            startedAt: record.startedAt, finishedAt: record.finishedAt)
    }
}

extension ErrorKind {
    /// The wire's word for an engine failure (the one mapping between the two).
    init(_ kind: FailureKind) {
        self = switch kind {
        case .notFound: .notFound
        case .conflict: .conflict
        case .inUse: .inUse
        case .busy: .busy
        case .invalid: .invalidParams
        case .clusterUnavailable: .clusterUnavailable
        case .cancelled: .cancelled
        case .storageUnavailable: .storageUnavailable
        case .internalError: .internalError
        }
    }
}

extension RPCError {
    init(_ error: EngineError) {
        if case .invalid(let message) = error {
            self = .invalidParams(message)
        } else {
            self = .domain(ErrorKind(error.kind), error.message)
        }
    }

    /// Any error from below the dispatcher, as something a client can act on.
    static func from(_ error: any Error) -> RPCError {
        switch error {
        case let error as RPCError: error
        case let error as EngineError: RPCError(error)
        case let refusal as Refusal: RPCError(EngineError(refusal))
        case let error as StoreUnavailable: .domain(.storageUnavailable, error.message)
        default: .domain(.internalError, "internal error: \(error)")
        }
    }
}

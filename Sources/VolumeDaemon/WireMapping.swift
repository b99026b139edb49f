import VolumeEngine
import VolumeProtocol
import VolumeStore

/// The one border where database records become wire types and engine errors become JSON-RPC errors.
extension Volume {
    init(_ record: VolumeRecord) {
        let source: Source? = switch (record.sourceKind, record.sourceID) {
        case ("volume", let id?): .volume(id)
        case ("snapshot", let id?): .snapshot(id)
        default: nil
        }
        self.init(
            id: record.id, name: record.name, sizeGB: record.sizeGB, status: record.status, pool: record.pool,
            rbdImage: record.rbdImage,
            parent: record.parentVolumeID.map { Parent(volumeID: $0, rbdSnapshot: record.parentSnapshot ?? "") },
            source: source, cloneDepth: record.cloneDepth, createdAt: record.createdAt, updatedAt: record.updatedAt)
    }
}

extension Snapshot {
    init(_ record: SnapshotRecord) {
        self.init(
            id: record.id, volumeID: record.volumeID, name: record.name, status: record.status, sizeGB: record.sizeGB,
            rbdSnapshot: record.rbdSnapshot, createdAt: record.createdAt)
    }
}

extension Job {
    init(_ record: JobRecord) {
        let error: JobError? = record.errorKind.map {
            JobError(kind: ErrorKind(rawValue: $0) ?? .internalError, message: record.errorMessage ?? "")
        }
        self.init(
            id: record.id, kind: record.kind, state: record.state, progress: record.progress, error: error,
            volumeID: record.volumeID, snapshotID: record.snapshotID, note: record.note, createdAt: record.createdAt,
            startedAt: record.startedAt, finishedAt: record.finishedAt)
    }
}

extension RPCError {
    init(_ error: EngineError) {
        if case .invalid(let message) = error {
            self = .invalidParams(message)
        } else {
            self = .domain(ErrorKind(rawValue: error.kind) ?? .internalError, error.message)
        }
    }

    /// Any error from below the dispatcher, as something a client can act on.
    static func from(_ error: any Error) -> RPCError {
        switch error {
        case let error as RPCError: error
        case let error as EngineError: RPCError(error)
        default: .domain(.internalError, "internal error: \(error)")
        }
    }
}

import RBD
import VolumeStore

/// Why the engine refused or failed something, in terms an operator understands.
public enum EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(String)
    case conflict(String)
    case inUse(String)
    case busy(String)
    case invalid(String)
    case clusterUnavailable(String)
    case cancelled(String)
    case storageUnavailable(String)
    case internalError(String)

    /// The wire name (`data.kind`) of this error.
    public var kind: String {
        switch self {
        case .notFound: "not_found"
        case .conflict: "conflict"
        case .inUse: "in_use"
        case .busy: "busy"
        case .invalid: "invalid_params"
        case .clusterUnavailable: "cluster_unavailable"
        case .cancelled: "cancelled"
        case .storageUnavailable: "storage_unavailable"
        case .internalError: "internal"
        }
    }

    public var message: String {
        switch self {
        case .notFound(let m), .conflict(let m), .inUse(let m), .busy(let m), .invalid(let m),
             .clusterUnavailable(let m), .cancelled(let m), .storageUnavailable(let m), .internalError(let m):
            m
        }
    }

    public var description: String { message }

    /// Classifies a librbd failure that ended a job step.
    init(_ error: RBDError) {
        switch error.code {
        case .timedOut, .notConnected: self = .clusterUnavailable("ceph cluster unavailable: \(error)")
        case .busy: self = .busy("\(error)")
        case .hasSnapshots: self = .inUse("\(error)")
        case .notFound: self = .notFound("\(error)")
        case .cancelled: self = .cancelled("cancelled: \(error.operation)")
        default: self = .internalError("\(error)")
        }
    }

    /// Any error that escaped a step, as an `EngineError`.
    static func from(_ error: any Error) -> EngineError {
        switch error {
        case let error as EngineError: error
        case let error as RBDError: EngineError(error)
        case let error as StoreUnavailable: .storageUnavailable(error.message)
        case is CancellationError: .cancelled("cancelled: the daemon is stopping")
        default: .internalError("\(error)")
        }
    }
}

import Lifecycle
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

    /// What kind of failure this is (the wire's `data.kind`, a job row's `error_kind`).
    /// The job was cancelled (its rollback is an undo the user asked for, not a failure).
    public var isCancellation: Bool { if case .cancelled = self { true } else { false } }

    public var kind: FailureKind {
        switch self {
        case .notFound: .notFound
        case .conflict: .conflict
        case .inUse: .inUse
        case .busy: .busy
        case .invalid: .invalid
        case .clusterUnavailable: .clusterUnavailable
        case .cancelled: .cancelled
        case .storageUnavailable: .storageUnavailable
        case .internalError: .internalError
        }
    }

    /// The lifecycle's refusal, as the engine's error of the same kind.
    public init(_ refusal: Refusal) {
        self.init(kind: refusal.kind, message: refusal.message)
    }

    public init(kind: FailureKind, message: String) {
        self = switch kind {
        case .notFound: .notFound(message)
        case .conflict: .conflict(message)
        case .inUse: .inUse(message)
        case .busy: .busy(message)
        case .invalid: .invalid(message)
        case .clusterUnavailable: .clusterUnavailable(message)
        case .cancelled: .cancelled(message)
        case .storageUnavailable: .storageUnavailable(message)
        case .internalError: .internalError(message)
        }
    }

    /// A job's recorded end as the error its undo is given.
    init(_ end: JobLifecycle.End) {
        switch end {
        case .succeeded: self = .internalError("a job that succeeded has nothing to undo")
        case .failed(let kind, let message): self.init(kind: kind, message: message)
        case .cancelled(let message): self = .cancelled(message)
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
        case let refusal as Refusal: EngineError(refusal)
        case let error as RBDError: EngineError(error)
        case let error as StoreUnavailable: .storageUnavailable(error.message)
        case is CancellationError: .cancelled("cancelled: the daemon is stopping")
        default: .internalError("\(error)")
        }
    }
}

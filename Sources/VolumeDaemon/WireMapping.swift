import Lifecycle
import VolumeEngine
import VolumeProtocol
import VolumeStore

/// Engine errors become JSON-RPC errors here (records become wire types in VolumeProtocol).
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

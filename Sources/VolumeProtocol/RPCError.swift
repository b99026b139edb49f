/// What went wrong, in a word a script can switch on (`error.data.kind`).
public enum ErrorKind: String, Sendable, Codable, CaseIterable {
    case notFound = "not_found"
    case conflict
    case inUse = "in_use"
    case busy
    case clusterUnavailable = "cluster_unavailable"
    case cancelled
    case permissionDenied = "permission_denied"
    /// The daemon's database cannot take writes (disk full, read-only): retry when fixed.
    case storageUnavailable = "storage_unavailable"
    case invalidParams = "invalid_params"
    /// This daemon is standby (another holds the database and the cluster lock), starting, or
    /// has given up being active: ask the active one, named in the message.
    case standby
    case internalError = "internal"
}

/// A JSON-RPC error object. Protocol errors use the standard codes; domain errors use
/// `-32000` (or `-32602` for bad parameters) with `data.kind` saying which.
public struct RPCError: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var data: ErrorData?

    public struct ErrorData: Sendable, Codable, Equatable {
        public var kind: ErrorKind
        public var jobID: String?

        enum CodingKeys: String, CodingKey { case kind, jobID = "job_id" }

        public init(kind: ErrorKind, jobID: String? = nil) {
            self.kind = kind
            self.jobID = jobID
        }
    }

    public init(code: Int, message: String, kind: ErrorKind? = nil, jobID: String? = nil) {
        self.code = code
        self.message = message
        self.data = kind.map { ErrorData(kind: $0, jobID: jobID) }
    }

    public static let parseErrorCode = -32700
    public static let invalidRequestCode = -32600
    public static let methodNotFoundCode = -32601
    public static let invalidParamsCode = -32602
    public static let internalErrorCode = -32603
    public static let domainErrorCode = -32000

    public static func parseError(_ message: String) -> RPCError { RPCError(code: parseErrorCode, message: message) }
    public static func invalidRequest(_ message: String) -> RPCError { RPCError(code: invalidRequestCode, message: message) }
    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(code: methodNotFoundCode, message: "unknown method '\(method.prefix(100))'")
    }
    public static func invalidParams(_ message: String) -> RPCError {
        RPCError(code: invalidParamsCode, message: message, kind: .invalidParams)
    }
    public static func domain(_ kind: ErrorKind, _ message: String, jobID: String? = nil) -> RPCError {
        RPCError(code: kind == .internalError ? internalErrorCode : domainErrorCode, message: message, kind: kind, jobID: jobID)
    }

    public var kind: ErrorKind? { data?.kind }
    public var description: String { "\(message) (\(data?.kind.rawValue ?? String(code)))" }
}

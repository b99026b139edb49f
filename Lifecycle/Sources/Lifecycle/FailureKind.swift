/// Why the engine refused a request or a job failed. The raw values are the wire's error kinds
/// (`data.kind`) and what a job row stores in `error_kind`.
public enum FailureKind: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case notFound = "not_found"
    case conflict
    case inUse = "in_use"
    case busy
    /// A request that names something impossible (a size that shrinks, a snapshot of another volume).
    case invalid = "invalid_params"
    case clusterUnavailable = "cluster_unavailable"
    case cancelled
    case storageUnavailable = "storage_unavailable"
    case internalError = "internal"

    /// The stored word, also in messages and logs.
    public var description: String { rawValue }
}

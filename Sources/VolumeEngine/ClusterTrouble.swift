import Synchronization

/// What the engine last learned about reaching the cluster: set when a job step finds it
/// unavailable (timed out, not connected), cleared by the next call that succeeds. The status
/// line says `degraded` while it is set.
public final class ClusterTrouble: Sendable {
    private let reason = Mutex<String?>(nil)

    public init() {}

    public var current: String? { reason.withLock { $0 } }

    func report(_ problem: String) { reason.withLock { $0 = problem } }

    func clear() {
        if reason.withLock({ $0 }) != nil { reason.withLock { $0 = nil } }
    }
}

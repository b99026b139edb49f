import Logging
import Synchronization

/// Lets a repeated line out at most once per interval and key (a peer), with how many were held
/// back: a flood of refusals must not push the daemon's critical lines out of journald's rate limit.
final class LogThrottle: Sendable {
    private let interval: Duration
    private let state = Mutex<[String: (last: ContinuousClock.Instant, held: Int)]>([:])

    init(interval: Duration = .seconds(1)) {
        self.interval = interval
    }

    /// Logs `message` now, or counts it for the next line that gets out.
    func warning(_ logger: Logger, key: String = "", _ message: @autoclosure () -> String) {
        let now = ContinuousClock.now
        let held = state.withLock { state -> Int? in
            if let seen = state[key], seen.last.duration(to: now) < interval {
                state[key]?.held += 1
                return nil
            }
            // Keys that have gone quiet are forgotten (a peer per uid; this stays small).
            if state.count > 1_000 { state = state.filter { $0.value.last.duration(to: now) < interval } }
            defer { state[key] = (now, 0) }
            return state[key]?.held ?? 0
        }
        guard let held else { return }
        logger.warning("\(message())\(held > 0 ? " (and \(held) more like it in the last \(interval))" : "")")
    }
}

import Foundation
import Synchronization

/// A loop that does its work, then sleeps as long as the work says (until its next deadline),
/// and can be woken early (`rearm`: the deadlines changed) or ended (`stop`). Sleeping until a
/// known deadline is not polling: nothing runs in between.
final class WakeableTimer: Sendable {
    private let sleeper = Mutex<Task<Void, Never>?>(nil)
    /// Set by `rearm` or `stop` since the work last ran.
    private let changed = Mutex(false)
    private let stopped = Atomic(false)

    /// The deadlines may have changed: run the work again now.
    func rearm() {
        changed.withLock { $0 = true }
        sleeper.withLock { $0 }?.cancel()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        rearm()
    }

    /// Until `stop`: `work` runs and returns how long to sleep before it runs again.
    func run(_ work: () async -> Duration) async {
        while !stopped.load(ordering: .relaxed) {
            changed.withLock { $0 = false }
            let wait = await work()
            let nap = Task<Void, Never> { try? await Task.sleep(for: wait) }
            sleeper.withLock { $0 = nap }
            if changed.withLock({ $0 }) { nap.cancel() }
            await nap.value
        }
    }
}

extension Duration {
    /// From now until `date` (zero when it has passed), plus a few milliseconds so that a
    /// deadline is past, not about to be, when the work runs again.
    static func until(_ date: Date) -> Duration {
        .milliseconds(max(0, Int64(date.timeIntervalSinceNow * 1000)) + 10)
    }
}

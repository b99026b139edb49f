import Synchronization

/// The monotonic time of the last sign of life from any job (lock-free, touched from librbd's
/// progress callbacks on the blocking threads).
final class ActivityClock: Sendable {
    private let lastNanoseconds = Atomic<Int64>(ActivityClock.now())

    func touch() { lastNanoseconds.store(Self.now(), ordering: .relaxed) }

    func sinceLast() -> Duration {
        .nanoseconds(Self.now() - lastNanoseconds.load(ordering: .relaxed))
    }

    private static func now() -> Int64 {
        let elapsed = ContinuousClock.now - Self.origin
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }

    private static let origin = ContinuousClock.now
}

import Foundation

/// Runs blocking `body` (a CLI, a process wait, a socket poll) on a thread of its own, and waits
/// for it without holding one of Swift's cooperative threads. There are only as many of those as
/// cores (two here): two tests blocked in a `ceph osd pool create` or a cluster start would stall
/// every other test of the process, whose deadlines then pass while they never ran.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// `onOwnThread` for a body that cannot throw.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}

import NIOPosix
import Synchronization

/// The threads on which every blocking librbd/librados call runs, so none of them ever
/// occupies Swift's cooperative pool. A call that is already running in C cannot be
/// interrupted: it is bounded by the librados timeouts set on the connection instead.
public final class BlockingPool: Sendable {
    private let pool: NIOThreadPool

    public init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: max(1, threads))
        pool.start()
    }

    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    /// Like `run`, except that a cancelled caller stops waiting at once: the C call goes on on
    /// its thread and its result is dropped. For calls whose caller has a deadline of its own
    /// (renewing a lease), never for steps whose effect must be known.
    public func runAbandoningOnCancel<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let waiter = Mutex<CheckedContinuation<T, any Error>?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                waiter.withLock { $0 = continuation }
                if Task.isCancelled {
                    waiter.withLock { $0.take() }?.resume(throwing: CancellationError())
                    return
                }
                pool.submit { state in
                    let result: Result<T, any Error> = if state == .active { Result { try body() } } else { .failure(CancellationError()) }
                    waiter.withLock { $0.take() }?.resume(with: result)
                }
            }
        } onCancel: {
            waiter.withLock { $0.take() }?.resume(throwing: CancellationError())
        }
    }

    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}

import NIOPosix

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

    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}

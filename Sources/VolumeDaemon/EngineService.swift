import Logging
import ServiceLifecycle
import VolumeEngine

/// Runs the engine's workers as a service, once this daemon holds the cluster lock. A new or
/// lost (empty) database is first rebuilt from the cluster's tags. On graceful shutdown it stops
/// taking jobs, returns once running steps have reached a checkpoint, and releases the lock.
struct EngineService: Service {
    let engine: Engine
    let lease: ClusterLease
    let logger: Logger

    func run() async throws {
        do {
            // A new or lost database is rebuilt before this daemon says it is active.
            try await cancelWhenGracefulShutdown { try await lease.acquire(prepare: { await rebuildIfEmpty() }) }
        } catch is CancellationError {
            return
        }
        if Task.isShuttingDownGracefully { return await lease.release() }
        do {
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await engine.run() }
                    group.addTask { try await lease.keep() }
                    defer { group.cancelAll() }
                    // The engine returns after a stop; the lease loop only ends by losing the lock.
                    try await group.next()
                }
            } onGracefulShutdown: {
                Task { await engine.stop() }
            }
        } catch let lost as ClusterLease.Lost {
            logger.critical("\(lost): stopping jobs at their next checkpoint and exiting")
            await engine.stop()
            throw lost
        }
        await lease.release()
    }

    private func rebuildIfEmpty() async {
        do {
            guard try await engine.store.read({ try $0.isEmpty() }) else { return }
            let summary = try await StateRebuild.run(store: engine.store, cluster: engine.cluster, settings: engine.settings)
            if summary.volumes + summary.snapshots + summary.images > 0 {
                logger.notice("the database was empty: rebuilt \(summary) from the cluster's tags")
            }
        } catch {
            logger.error("could not rebuild the empty database from the cluster: \(error)")
        }
    }
}

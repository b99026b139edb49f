import Glibc
import Logging
import ServiceLifecycle
import VolumeEngine

/// Runs the engine's workers as a service, once this daemon holds the cluster lock and has
/// taken over (predecessor fenced, database open and checked). On graceful shutdown it stops
/// taking jobs, returns once running steps have reached a checkpoint, and releases the lock.
/// A hold that is lost ends the process at once (self-fencing): systemd restarts it as a standby.
struct EngineService: Service {
    let engine: Engine
    let lease: ClusterLease
    let takeover: Takeover
    let logger: Logger

    /// The exit status of a daemon that gave up its hold (EX_TEMPFAIL: restart me).
    static let fencedExitStatus: Int32 = 75

    func run() async throws {
        let predecessor: HolderRecord?
        do {
            predecessor = try await cancelWhenGracefulShutdown { try await lease.acquire() }
        } catch is CancellationError {
            return
        }
        if Task.isShuttingDownGracefully { return await lease.release() }
        try await withThrowingTaskGroup(of: Part.self) { group in
            // Renewed from the moment it is taken: a takeover slowed down by a loaded cluster or
            // host (fencing waits for an OSD map, opening a shared database reads it) must not
            // outlast the deadline and fence the daemon that just took over.
            group.addTask {
                do {
                    try await lease.keep()
                } catch let lost as ClusterLease.Lost {
                    await selfFence(lost)
                }
                return .lease
            }
            defer { group.cancelAll() }
            do {
                try await takeover.run(predecessor: predecessor)
            } catch let refused as Takeover.Refused {
                logger.critical("\(refused.message)")
                lease.fence(refused.message)
                group.cancelAll()
                await lease.release(force: true)
                throw refused
            } catch let lost as ClusterLease.Lost {
                await selfFence(lost)
            }
            lease.activate()
            group.addTask {
                try await engine.run()
                return .engine
            }
            group.addTask {
                // A stop lets running steps reach a checkpoint; the engine then returns.
                try? await gracefulShutdown()
                await engine.stop()
                return .stopRequested
            }
            // The engine returns after a stop; the lease loop only ends by losing the lock.
            while let part = try await group.next(), part == .stopRequested {}
        }
        await lease.release()
    }

    /// Another daemon may be running jobs now: start nothing more, answer as active no more
    /// (the lease says fenced), say why, and exit without waiting for running steps (a call
    /// that reaches the cluster now fails: the successor blocklisted this daemon's clients).
    private func selfFence(_ lost: ClusterLease.Lost) async -> Never {
        logger.critical("self-fencing: \(lost); no step starts from now on, exiting for systemd to restart volumed as a standby")
        lease.fence(lost.reason)
        await engine.stop()
        // Let the STATUS line and the journal entry out.
        try? await Task.sleep(for: .milliseconds(400))
        _exit(Self.fencedExitStatus)
    }
}

extension EngineService {
    /// The concurrent parts of an active daemon, by which one ended.
    private enum Part: Sendable { case engine, lease, stopRequested }
}

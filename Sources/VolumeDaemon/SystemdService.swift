import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Lifecycle
import Systemd
import UnixSignals
import VolumeEngine

/// volumed's conversation with systemd while it runs: a one-line STATUS kept current, WATCHDOG=1
/// only while the daemon is healthy, SIGHUP reloads (RELOADING=1 … READY=1), STOPPING=1 first
/// thing on shutdown. Harmless without systemd: the notifier then sends nothing.
final class SystemdService: Service, Sendable {
    let notifier: Notifier
    let engine: Engine
    let lease: ClusterLease
    let reloader: Reloader
    let logger: Logger
    /// The monitors' last health answer (asked every 5 s, never more than once at a time) and
    /// when the question still waiting for an answer was asked.
    let probe = Mutex<Probe>(Probe())
    /// Pool capacity, refreshed every 30 s while the monitors answer (for `service.status`).
    let capacity = Mutex<[PoolCapacity]?>(nil)

    struct Probe {
        var health: (status: String, unavailable: [String])?
        var askedAt: ContinuousClock.Instant?
    }

    static let probeInterval = Duration.seconds(5)
    /// Returns the heap's free pages when a burst of jobs is over.
    let trimmer = HeapTrimmer()

    init(notifier: Notifier, engine: Engine, lease: ClusterLease, reloader: Reloader, logger: Logger) {
        self.notifier = notifier
        self.engine = engine
        self.lease = lease
        self.reloader = reloader
        self.logger = logger
    }
    /// A job with no sign of life for this long means a wedged worker: stop pinging.
    static let stallLimit = Duration.seconds(300)

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await self.statusLoop() }
                if let interval = Notifier.watchdogInterval() {
                    group.addTask { await self.watchdogLoop(every: interval / 2) }
                }
                group.addTask { await self.reloadLoop() }
                try await gracefulShutdown()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.notifier.stopping(status: "stopping: letting running jobs reach a checkpoint")
        }
    }

    /// The STATUS line, recomputed when jobs start or end and every 30 s for cluster health.
    private func statusLoop() async {
        var last = ""
        let changes = engine.loadChanges
        let leaseChanges = lease.changes
        await withDiscardingTaskGroup { group in
            let (ticks, tick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            group.addTask {
                for await _ in changes { tick.yield() }
            }
            group.addTask {
                for await _ in leaseChanges { tick.yield() }
            }
            group.addTask { await self.probeLoop(tick: tick) }
            group.addTask {
                // Re-evaluates the line even when nothing else changes (a question left unanswered).
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.probeInterval)
                    tick.yield()
                }
                tick.finish()
            }
            for await _ in ticks {
                let (running, queued) = await engine.load()
                trimmer.observe(running: running, queued: queued)
                let line = await statusLine()
                if line != last {
                    notifier.status(line)
                    last = line
                }
                // At most a few updates a second, however busy.
                try? await Task.sleep(for: .milliseconds(250))
                if Task.isCancelled { break }
            }
            group.cancelAll()
        }
    }

    /// Asks the monitors for the cluster's health every few seconds; a question that hangs
    /// (monitors down) is noticed by the status line from `askedAt`.
    private func probeLoop(tick: AsyncStream<Void>.Continuation) async {
        var capacityAt: ContinuousClock.Instant?
        while !Task.isCancelled {
            probe.withLock { $0.askedAt = .now }
            let latest = await engine.clusterHealth()
            probe.withLock { $0 = Probe(health: latest, askedAt: nil) }
            tick.yield()
            if latest != nil, capacityAt.map({ $0.duration(to: .now) > .seconds(30) }) ?? true {
                capacityAt = .now
                if let pools = try? await engine.capacity() { capacity.withLock { $0 = pools } }
            }
            try? await Task.sleep(for: Self.probeInterval)
        }
    }

    /// The monitors' last health status, and whether they answer (no question left hanging).
    var health: (status: String?, answering: Bool) {
        let probe = self.probe.withLock { $0 }
        let hanging = probe.askedAt.map { $0.duration(to: .now) > Self.probeInterval } ?? false
        return (probe.health?.status, probe.health != nil && !hanging)
    }

    func statusLine() async -> String {
        let (running, queued) = await engine.load()
        let jobs = "\(running) job(s) running, \(queued) queued"
        if case .fenced(let reason) = lease.current { return "fenced: \(reason); no step starts, exiting to restart as a standby" }
        if let problem = reloader.lastProblem { return "degraded: \(problem); \(jobs)" }
        guard engine.cluster.isConnected, let fsid = engine.cluster.fsid else {
            return "degraded: ceph cluster unreachable, serving reads, jobs wait; \(jobs)"
        }
        switch lease.current {
        case .standby(let holder):
            return "standby: cluster lock held by \(holder); taking over when it goes"
        case .starting:
            return "starting: taking the cluster lock on \(engine.settings.pool)/\(ClusterLease.object)"
        case .released:
            return "stopping: the cluster lock is released"
        case .held where !lease.isFresh:
            // Past the deadline (a frozen process just woke, or renewals stopped): the lease
            // task fences at its next look; until then this daemon is not active either.
            return "fenced: the cluster lock was not renewed within its deadline; no step starts, exiting to restart as a standby"
        case .fenced, .held:
            break
        }
        let probe = self.probe.withLock { $0 }
        if let asked = probe.askedAt, asked.duration(to: .now) > Self.probeInterval {
            return "degraded: the ceph monitors have not answered for \(asked.duration(to: .now).components.seconds) s; serving reads, jobs wait; \(jobs)"
        }
        if let trouble = engine.clusterTrouble.current {
            return "degraded: ceph cluster not answering job steps (\(trouble)); jobs retry; \(jobs)"
        }
        if let health = probe.health, !health.unavailable.isEmpty {
            return "degraded: cluster \(fsid) \(health.status) (\(health.unavailable.joined(separator: ", "))): data unreachable, jobs wait; \(jobs)"
        }
        let health = probe.health?.status ?? "health unknown"
        return "ready: cluster \(fsid) \(health); pool \(engine.settings.pool); \(jobs)"
    }

    /// Pings at half the watchdog interval, only when the event loop answers and workers move.
    private func watchdogLoop(every period: Duration) async {
        while !Task.isCancelled {
            if await isHealthy() {
                notifier.watchdog()
            } else {
                logger.critical("unhealthy: not pinging the watchdog")
            }
            try? await Task.sleep(for: period)
        }
    }

    private func isHealthy() async -> Bool {
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let answered = try? await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await loop.submit { true }.get() }
            group.addTask {
                try await Task.sleep(for: .seconds(2))
                return false
            }
            defer { group.cancelAll() }
            return try await group.next() ?? false
        }
        guard answered == true else { return false }
        return await engine.isMakingProgress(stallLimit: Self.stallLimit)
    }

    private func reloadLoop() async {
        for await _ in await UnixSignalsSequence(trapping: .sighup) {
            notifier.reloading(status: "reloading the configuration")
            await reloader.reload()
            notifier.ready(status: await statusLine())
        }
    }
}

import Foundation
import Lifecycle
import Logging
import RBD
import ServiceLifecycle
import Systemd
import UnixSignals
import VolumeEngine
import VolumeMetrics
import VolumeProtocol
import VolumeStore

/// volumed put together: configuration → database → cluster connection → engine → socket,
/// run as services that stop gracefully on SIGTERM/SIGINT, with systemd told each step.
public struct Daemon: Sendable {
    public static let version = "0.1.0"

    let configuration: Configuration
    let configurationPath: String
    let logLevel: LogLevelBox
    let logger: Logger
    let notifier = Notifier()

    public init(configuration: Configuration, configurationPath: String, logLevel: LogLevelBox, logger: Logger) {
        self.configuration = configuration
        self.configurationPath = configurationPath
        self.logLevel = logLevel
        self.logger = logger
    }

    public func run() async throws {
        let config = configuration
        try FileManager.default.createDirectory(atPath: config.stateDir, withIntermediateDirectories: true)
        let folderLock = try StateFolderLock(folder: config.stateDir)
        defer { withExtendedLifetime(folderLock) {} }
        let cluster = Cluster(settings: config.connection, blockingThreads: max(4, config.workers * 2), logger: logger)
        let store = try openStore(config, cluster: cluster)
        await connect(cluster)
        let lease = ClusterLease(cluster: cluster, pool: config.rbdPool, lease: .seconds(config.clusterLockLease), logger: logger)
        let exporter = PrometheusExporter()
        let instruments = exporter.instruments
        let engine = Engine(
            store: store, cluster: cluster, settings: config.engine, logger: logger, instruments: instruments, mayRunSteps: { lease.isFresh })
        let takeover = Takeover(lease: lease, store: store, cluster: cluster, settings: config.engine, logger: logger)
        let reloader = Reloader(
            path: configurationPath, configuration: config, engine: engine,
            access: await AccessPolicy(adminGroups: config.adminGroups, logger: logger), logLevel: logLevel, logger: logger)
        let systemd = SystemdService(notifier: notifier, engine: engine, lease: lease, reloader: reloader, logger: logger)
        let startedAt = ContinuousClock.now
        let metrics = MetricsCollector(
            exporter: exporter, engine: engine, version: Self.version, startedAt: startedAt, isActive: { lease.isHeld },
            notServing: { Self.refusal(lease: lease, store: store) }, statusLine: { await systemd.statusLine() },
            health: { systemd.health }, cachedCapacity: { systemd.capacity.withLock { $0 } })
        let dispatcher = Dispatcher(
            engine: engine, access: { reloader.accessPolicy }, configuration: { reloader.current },
            isActive: { lease.isHeld }, notServing: { Self.refusal(lease: lease, store: store) },
            holder: { lease.holder.map { ServiceStatus.Holder(host: $0.host, pid: $0.pid, since: $0.since) } },
            statusLine: { await systemd.statusLine() }, capacity: { systemd.capacity.withLock { $0 } }, startedAt: startedAt,
            version: Self.version, logger: logger, metrics: metrics)

        let listener: SocketServer.Listener
        if let fd = SocketActivation.listeningDescriptor() {
            listener = .inherited(fd: fd)
        } else {
            try FileManager.default.createDirectory(
                atPath: (config.socketPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            listener = .path(config.socketPath, mode: 0o660)
        }
        let notifier = self.notifier
        let limits = SocketServer.Limits(
            maxConnections: config.maxConnections, maxConnectionsPerUser: config.maxConnectionsPerUser,
            idleTimeout: config.connectionIdleTimeout > 0 ? .seconds(Int64(config.connectionIdleTimeout)) : nil)
        let server = SocketServer(listener: listener, limits: limits, dispatcher: dispatcher, logger: logger, instruments: instruments) {
            // Database open, cluster tried, socket listening: ready.
            notifier.ready(status: await systemd.statusLine())
        }
        // Shutdown runs in reverse: systemd hears STOPPING first, then the socket closes, then jobs checkpoint.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: EngineService(engine: engine, lease: lease, takeover: takeover, logger: logger)),
            .init(service: server),
        ]
        if let address = config.metricsListen {
            services.append(.init(service: MetricsHTTPServer(address: address, collector: metrics, logger: logger)))
        }
        services += [
            .init(service: systemd),
            // Returns once connected (at once when already): that ends nothing else.
            .init(service: ClusterReconnector(cluster: cluster, engine: engine, logger: logger), successTerminationBehavior: .ignore),
        ]
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        await cluster.blockingPool.shutdown()
        logger.info("stopped")
    }

    /// The database: a file opened now (it serves reads while the cluster is unreachable at
    /// start), or the shared one in RADOS, which only opens once this daemon holds it.
    private func openStore(_ config: Configuration, cluster: Cluster) throws -> Store {
        switch config.databaseLocation {
        case .local:
            notifier.status("starting: opening the database")
            // A state folder that cannot be written (read-only file system) still serves reads.
            let readOnly = access(config.stateDir, W_OK) != 0
            let store: Store
            do {
                store = try Store(location: config.databaseLocation, readOnly: readOnly)
            } catch where readOnly {
                throw ConfigError(file: config.databasePath, line: nil, option: "state_dir",
                                  message: "the state folder \(config.stateDir) is read-only and the database cannot be opened from it (\(error)); nothing recorded is lost: make it writable and start volumed again")
            }
            if readOnly {
                logger.critical("the state folder \(config.stateDir) is read-only: serving reads, every change is refused")
            }
            logger.info("database open at \(config.databasePath)\(readOnly ? " (read-only)" : "")")
            return store
        case .rados:
            try Self.registerCephVFS(config, logger: logger)
            return Store(unopened: config.databaseLocation)
        }
    }

    /// Loads Ceph's SQLite VFS with a client configured like the daemon's own. Its lock keeps
    /// Ceph's default renewal timeout (30 s; Pacific refuses lower values through the client's
    /// configuration): a successor does not wait for it, it fences the holder and breaks the lock.
    static func registerCephVFS(_ config: Configuration, logger: Logger) throws {
        let context = try Cluster.configurationContext(config.connection, options: [])
        let address = try CephVFS.register(cephContext: context)
        logger.info("Ceph's SQLite VFS is ready (its client \(address))")
    }

    /// Why this daemon answers nothing but `service.status` right now, or nil when it serves.
    static func refusal(lease: ClusterLease, store: Store) -> String? {
        switch lease.current {
        case .standby(let holder):
            return "this volumed is a standby; the active one is \(holder)"
        case .fenced(let reason):
            return "this volumed gave up being active (\(reason)); it restarts as a standby"
        case .starting, .released:
            return store.isOpen ? nil : "this volumed is starting: it does not hold the database yet"
        case .held:
            return lease.isFresh ? nil : "this volumed's hold on the cluster lock is not fresh (it is fencing itself)"
        }
    }

    /// The first connection, with STATUS and EXTEND_TIMEOUT_USEC while within the retries so that
    /// systemd does not kill a daemon that is still allowed to wait for its cluster.
    private func connect(_ cluster: Cluster) async {
        let settings = cluster.settings
        let attemptTime = Duration.seconds(settings.connectTimeout >= 0 ? settings.connectTimeout : 300)
        notifier.extendTimeout(by: attemptTime + .seconds(10), status: "starting: connecting to the ceph cluster (\(settings.cephConf))")
        do {
            try await cluster.connect { [notifier] error, attempt, wait in
                notifier.extendTimeout(
                    by: wait + attemptTime + .seconds(10),
                    status: "starting: ceph cluster unreachable (attempt \(attempt)/\(settings.connectionRetries): \(error)); retrying in \(wait)")
            }
        } catch {
            logger.error("cannot reach the ceph cluster after \(settings.connectionRetries) attempt(s): \(error); serving reads, jobs wait for it")
        }
    }
}

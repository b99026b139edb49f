import Logging
import Synchronization
import Systemd
import VolumeEngine

/// Re-reads the configuration file on SIGHUP. Options that can change live are applied (workers,
/// flatten limit, clone depth, flatten-from-snapshot, log level, admin groups, the cluster retries of
/// jobs started afterwards); others are reported
/// as needing a restart. An invalid file changes nothing: the old configuration stays, and why is
/// in the log and the STATUS line.
final class Reloader: Sendable {
    let path: String
    let engine: Engine
    let access: Mutex<AccessPolicy>
    let logLevel: LogLevelBox
    let logger: Logger
    private let state: Mutex<(current: Configuration, problem: String?)>

    init(path: String, configuration: Configuration, engine: Engine, access: AccessPolicy, logLevel: LogLevelBox, logger: Logger) {
        self.path = path
        self.engine = engine
        self.access = Mutex(access)
        self.logLevel = logLevel
        self.logger = logger
        self.state = Mutex((configuration, nil))
    }

    var current: Configuration { state.withLock { $0.current } }
    /// Why the last reload was refused, until a good one.
    var lastProblem: String? { state.withLock { $0.problem } }
    var accessPolicy: AccessPolicy { access.withLock { $0 } }

    func reload() async {
        let next: Configuration
        do {
            next = try Configuration.load(path: path)
        } catch {
            let problem = "reload refused, keeping the previous configuration: \(error)"
            state.withLock { $0.problem = problem }
            logger.error("\(problem)")
            return
        }
        let previous = current
        let needRestart = Self.restartOnlyChanges(from: previous, to: next)
        var applied = next
        // What cannot change live keeps its running value until a restart.
        for option in Self.restartOnly { option.keep(&applied, previous) }
        await engine.apply(applied.engine)
        logLevel.value = applied.logLevel
        let policy = await AccessPolicy(adminGroups: applied.adminGroups, logger: logger)
        access.withLock { $0 = policy }
        state.withLock { $0 = (applied, nil) }
        logger.notice("configuration reloaded from \(path)", metadata: [
            "workers": "\(applied.workers)", "rbd_max_clone_depth": "\(applied.rbdMaxCloneDepth)",
            "rbd_concurrent_flatten_operations": "\(applied.rbdConcurrentFlattenOperations)",
            "log_level": "\(applied.logLevel)",
        ])
        if !needRestart.isEmpty {
            logger.warning("changed options that take effect at the next restart: \(needRestart.joined(separator: ", "))")
        }
    }

    static func restartOnlyChanges(from a: Configuration, to b: Configuration) -> [String] {
        restartOnly.filter { $0.differs(a, b) }.map(\.name)
    }

    /// The options that take effect only at a restart (the socket, the pools, who volumed is to the cluster).
    static let restartOnly: [RestartOnlyOption] = [
        .init("state_dir", \.stateDir), .init("socket_path", \.socketPath), .init("rbd_pool", \.rbdPool), .init("rbd_user", \.rbdUser),
        .init("rbd_ceph_conf", \.rbdCephConf), .init("rbd_keyring", \.rbdKeyring), .init("rbd_store_chunk_size", \.rbdStoreChunkSize),
        .init("[images] rbd_store_pool", \.imagesPool), .init("[images] rbd_store_chunk_size", \.imagesChunkSize),
        .init("[libvirt] images_rbd_pool", \.imagesRBDPool), .init("rbd_cluster_name", \.rbdClusterName),
        .init("rbd_secret_uuid", \.rbdSecretUUID), .init("cluster_lock_lease", \.clusterLockLease),
        .init("metrics_listen", \.metricsListen),
    ]
}

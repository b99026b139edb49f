import Foundation
import Logging
import RBD
import ServiceLifecycle
import UnixSignals
import VolumeEngine
import VolumeStore

/// volumed put together: configuration → database → cluster connection → engine → socket,
/// run as services that stop gracefully on SIGTERM/SIGINT.
public struct Daemon: Sendable {
    public static let version = "0.1.0"

    let configuration: Configuration
    let logger: Logger

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let config = configuration
        try FileManager.default.createDirectory(atPath: config.stateDir, withIntermediateDirectories: true)
        let store = try Store(path: config.databasePath)
        logger.info("database open at \(config.databasePath)")

        let cluster = Cluster(settings: config.connection, blockingThreads: max(4, config.workers * 2), logger: logger)
        do {
            try await cluster.connect()
        } catch {
            logger.error("cannot reach the ceph cluster yet (\(error)); serving reads, jobs wait for it")
        }
        let engine = Engine(store: store, cluster: cluster, settings: config.engine, logger: logger)
        let dispatcher = Dispatcher(
            engine: engine, access: AccessPolicy(adminGIDs: Self.groupIDs(config.adminGroups, logger: logger)),
            startedAt: .now, version: Self.version, logger: logger)

        let listener: SocketServer.Listener
        if let fd = SocketActivation.listenFD() {
            listener = .inherited(fd: fd)
        } else {
            try FileManager.default.createDirectory(
                atPath: (config.socketPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            listener = .path(config.socketPath, mode: 0o660)
        }
        let server = SocketServer(listener: listener, dispatcher: dispatcher, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: EngineService(engine: engine)),
                    .init(service: server),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        await cluster.blockingPool.shutdown()
        logger.info("stopped")
    }

    static func groupIDs(_ names: [String], logger: Logger) -> Set<UInt32> {
        var ids: Set<UInt32> = []
        for name in names {
            if let group = getgrnam(name) {
                ids.insert(group.pointee.gr_gid)
            } else if let id = UInt32(name) {
                ids.insert(id)
            } else {
                logger.warning("admin group '\(name)' does not exist")
            }
        }
        return ids
    }
}

/// systemd socket activation: the listening socket passed as fd 3 (`LISTEN_FDS`, `LISTEN_PID`).
enum SocketActivation {
    static func listenFD() -> Int32? {
        let environment = ProcessInfo.processInfo.environment
        guard let count = environment["LISTEN_FDS"].flatMap(Int.init), count >= 1 else { return nil }
        if let pid = environment["LISTEN_PID"].flatMap(Int32.init), pid != getpid() { return nil }
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDNAMES")
        return 3
    }
}

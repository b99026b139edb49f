import Foundation
import Lifecycle
import Logging
import RBD
import VolumeEngine
import VolumeStore

/// `volumed rebuild-state` and `volumed migrate-state`: the offline tools for a daemon's database.
public enum StateRebuilder {
    /// A new database filled from the cluster alone, recorded in the cluster as the one that
    /// runs jobs on these pools from now on.
    public static func rebuild(_ config: Configuration) async throws -> StateRebuild.Summary {
        let logger = quietLogger("volumed.rebuild")
        return try await withCluster(config, logger: logger) { cluster in try await rebuild(config, cluster: cluster, logger: logger) }
    }

    private static func rebuild(_ config: Configuration, cluster: Cluster, logger: Logger) async throws -> StateRebuild.Summary {
        try await requireStopped(config, cluster: cluster)
        let store = try await open(config.databaseLocation, config: config, cluster: cluster, logger: logger)
        let summary = try await StateRebuild.run(store: store, cluster: cluster, settings: config.engine)
        let identity = try await store.write { tx in try tx.nextGeneration() }
        try await ClusterLease.recordDatabase(identity, location: store.path, cluster: cluster, pool: config.rbdPool)
        store.close()
        giveToStateDirOwner(config)
        return summary
    }

    /// What `migrate-state` did.
    public struct Migration: Sendable, CustomStringConvertible {
        public var from: String
        public var to: String
        public var identity: DatabaseIdentity
        public var rows: Int
        public var description: String { "copied \(identity) (\(rows) rows) from \(from) to \(to); integrity ok" }
    }

    /// Copies a stopped daemon's database to the other store with SQLite's backup API, checks
    /// the copy (integrity and the same rows), and records the copy in the cluster as the
    /// database that runs jobs from now on. Set `state_store` to `target` before starting again.
    public static func migrate(_ config: Configuration, to target: Configuration.StateStore) async throws -> Migration {
        guard target != config.stateStore else {
            throw Takeover.Refused(message: "state_store is already \(target.rawValue): nothing to migrate")
        }
        let logger = quietLogger("volumed.migrate")
        return try await withCluster(config, logger: logger) { cluster in
            try await migrate(config, to: target, cluster: cluster, logger: logger)
        }
    }

    private static func migrate(
        _ config: Configuration, to target: Configuration.StateStore, cluster: Cluster, logger: Logger
    ) async throws -> Migration {
        try await requireStopped(config, cluster: cluster)
        let source = try await open(config.databaseLocation(config.stateStore), config: config, cluster: cluster, logger: logger)
        let destinationLocation = config.databaseLocation(target)
        let existing = try await open(destinationLocation, config: config, cluster: cluster, logger: logger)
        let empty = try await existing.read { tx in try tx.isEmpty() }
        existing.close()
        guard empty else {
            throw Takeover.Refused(message: "\(existing.path) already holds volumes or images: move it away first")
        }
        try await cluster.blockingPool.run { try source.copy(to: destinationLocation) }
        let destination = try await open(destinationLocation, config: config, cluster: cluster, logger: logger)
        let counts = { (store: Store) in try await store.read { tx in try tx.rowCounts() } }
        let (before, after) = (try await counts(source), try await counts(destination))
        let integrity = try await destination.integrityCheck()
        guard before == after, integrity == "ok" else {
            throw Takeover.Refused(message: "the copy at \(destination.path) does not match (rows \(before) → \(after), integrity \(integrity)); the source is unchanged")
        }
        let identity = try await destination.read { tx in try tx.identity() }
        try await ClusterLease.recordDatabase(identity, location: destination.path, cluster: cluster, pool: config.rbdPool)
        source.close()
        destination.close()
        if target == .local { giveToStateDirOwner(config) }
        return Migration(from: source.path, to: destination.path, identity: identity, rows: after.values.reduce(0, +))
    }

    private static func quietLogger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        return logger
    }

    /// Runs `body` with a connection to the cluster, and closes its threads afterwards.
    private static func withCluster<T: Sendable>(
        _ config: Configuration, logger: Logger, _ body: (Cluster) async throws -> T
    ) async throws -> T {
        let cluster = Cluster(settings: config.connection, blockingThreads: 2, logger: logger)
        do {
            try await cluster.connect()
            let result = try await body(cluster)
            await cluster.blockingPool.shutdown()
            return result
        } catch {
            await cluster.blockingPool.shutdown()
            throw error
        }
    }

    /// A running daemon holds the cluster lock: these tools work on a stopped one's database only.
    private static func requireStopped(_ config: Configuration, cluster: Cluster) async throws {
        let pool = config.rbdPool
        let lockers = try await cluster.run { session in
            try session.pool(pool).lockers(object: ClusterLease.object, name: ClusterLease.lockName)
        }
        if let holder = lockers.first {
            throw Takeover.Refused(message: "a volumed holds the cluster lock on \(pool) (\(holder.client) at \(holder.address)): stop it first (systemctl stop volumed)")
        }
    }

    private static func open(_ location: Store.Location, config: Configuration, cluster: Cluster, logger: Logger) async throws -> Store {
        switch location {
        case .local:
            try FileManager.default.createDirectory(atPath: config.stateDir, withIntermediateDirectories: true)
        case .rados:
            try Daemon.registerCephVFS(config, logger: logger)
        }
        let store = Store(unopened: location)
        try await cluster.blockingPool.run { try store.open() }
        return store
    }

    /// Run as root, the new files would be root's: hand them to whoever owns the state folder
    /// (the volumed user under systemd).
    private static func giveToStateDirOwner(_ config: Configuration) {
        var info = stat()
        guard stat(config.stateDir, &info) == 0 else { return }
        for suffix in ["", "-wal", "-shm"] {
            _ = chown(config.databasePath + suffix, info.st_uid, info.st_gid)
        }
    }
}

import Foundation
import Logging
import RBD
import VolumeEngine
import VolumeStore

/// `volumed rebuild-state`: a new database filled from the cluster alone.
public enum StateRebuilder {
    public static func rebuild(_ config: Configuration) async throws -> StateRebuild.Summary {
        var logger = Logger(label: "volumed.rebuild")
        logger.logLevel = .warning
        try FileManager.default.createDirectory(atPath: config.stateDir, withIntermediateDirectories: true)
        let store = try Store(path: config.databasePath)
        let cluster = Cluster(settings: config.connection, blockingThreads: 2, logger: logger)
        try await cluster.connect()
        let summary = try await StateRebuild.run(store: store, cluster: cluster, settings: config.engine)
        await cluster.blockingPool.shutdown()
        giveToStateDirOwner(config)
        return summary
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

import ArgumentParser
import Foundation
import Logging
import Systemd
import VolumeDaemon

/// `volumed`: runs the daemon in the foreground (the default), or rebuilds a lost database.
@main
struct VolumedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volumed",
        abstract: "Runs the lifecycle of block volumes on Ceph RBD as durable jobs behind a Unix socket.",
        version: Daemon.version,
        subcommands: [Serve.self, RebuildState.self, MigrateState.self],
        defaultSubcommand: Serve.self)

    /// Reads the configuration, or exits with EX_CONFIG naming what is wrong.
    static func load(_ path: String) throws -> VolumeDaemon.Configuration {
        do {
            return try VolumeDaemon.Configuration.load(path: path)
        } catch {
            FileHandle.standardError.write(Data("volumed: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the daemon (the default).")

    @Option(name: .long, help: "The configuration file.")
    var config: String = VolumeDaemon.Configuration.defaultPath

    @Flag(name: .long, help: "Check the configuration file and exit.")
    var checkConfig = false

    func run() async throws {
        let configuration = try VolumedCommand.load(config)
        if checkConfig {
            print("\(config): ok")
            return
        }
        let level = LogLevelBox(configuration.logLevel)
        let sink = JournalLogHandler.detectSink()
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label, sink: sink, level: level) }
        let logger = Logger(label: "volumed")
        do {
            try await Daemon(configuration: configuration, configurationPath: config, logLevel: level, logger: logger).run()
        } catch let held as StateFolderLock.Held {
            logger.critical("volumed stopped: \(held)")
            throw ExitCode(75)  // EX_TEMPFAIL: the other daemon may be gone later
        } catch let refused as Takeover.Refused {
            logger.critical("volumed stopped: \(refused)")
            throw ExitCode(78)  // EX_CONFIG: an operator must choose; systemd does not restart it
        } catch {
            logger.critical("volumed stopped: \(error)")
            throw ExitCode.failure
        }
    }
}

struct RebuildState: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild-state",
        abstract: "Rebuild a lost database from the cluster's RBD metadata tags.",
        discussion: """
            Reads every image in rbd_pool, images_rbd_pool and the image store's pool, and writes the volumes, \
            snapshots and images it finds (with their parents and clone depths) into a new database: \
            state_dir/volumed.sqlite, or the shared one in RADOS with state_store = rados. Refuses when that \
            database already holds anything (move it away first) or a volumed is running on these pools. \
            Jobs and attachments are not in the cluster and are not rebuilt. The cluster then records the new \
            database as the one that runs jobs on these pools.
            """)

    @Option(name: .long, help: "The configuration file.")
    var config: String = VolumeDaemon.Configuration.defaultPath

    func run() async throws {
        let configuration = try VolumedCommand.load(config)
        do {
            let summary = try await StateRebuilder.rebuild(configuration)
            print("rebuilt \(configuration.databaseLocation): \(summary)")
        } catch {
            FileHandle.standardError.write(Data("volumed rebuild-state: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

struct MigrateState: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-state",
        abstract: "Copy a stopped daemon's database to the other store (local file ↔ RADOS) and verify it.",
        discussion: """
            Copies the database of the configured state_store to the other one with SQLite's backup API, \
            compares every table's rows and runs PRAGMA integrity_check on the copy, and records the copy in \
            the cluster as the database that runs jobs on these pools. Then set state_store to the target in \
            the configuration and start volumed (on every host, for rados). Refuses while a volumed holds the \
            cluster lock, or when the target already holds volumes or images. The source is left as it was.
            """)

    @Option(name: .long, help: "The configuration file.")
    var config: String = VolumeDaemon.Configuration.defaultPath

    @Option(name: .long, help: "The store to copy to: rados or local.")
    var to: String

    func run() async throws {
        let configuration = try VolumedCommand.load(config)
        guard let target = VolumeDaemon.Configuration.StateStore(rawValue: to) else {
            FileHandle.standardError.write(Data("volumed migrate-state: --to must be rados or local, not '\(to)'\n".utf8))
            throw ExitCode(64)
        }
        do {
            print(try await StateRebuilder.migrate(configuration, to: target))
        } catch {
            FileHandle.standardError.write(Data("volumed migrate-state: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

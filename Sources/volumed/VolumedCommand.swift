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
        subcommands: [Serve.self, RebuildState.self],
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
            snapshots and images it finds (with their parents and clone depths) into a new database at \
            state_dir/volumed.sqlite. Refuses when that database already holds anything: move it away first. \
            Jobs and attachments are not in the cluster and are not rebuilt.
            """)

    @Option(name: .long, help: "The configuration file.")
    var config: String = VolumeDaemon.Configuration.defaultPath

    func run() async throws {
        let configuration = try VolumedCommand.load(config)
        do {
            let summary = try await StateRebuilder.rebuild(configuration)
            print("rebuilt \(configuration.databasePath): \(summary)")
        } catch {
            FileHandle.standardError.write(Data("volumed rebuild-state: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

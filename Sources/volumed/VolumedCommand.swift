import ArgumentParser
import Foundation
import Logging
import Systemd
import VolumeDaemon

/// `volumed`: runs the daemon in the foreground.
@main
struct VolumedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volumed",
        abstract: "Runs the lifecycle of block volumes on Ceph RBD as durable jobs behind a Unix socket.",
        version: Daemon.version)

    @Option(name: .long, help: "The configuration file.")
    var config: String = VolumeDaemon.Configuration.defaultPath

    @Flag(name: .long, help: "Check the configuration file and exit.")
    var checkConfig = false

    func run() async throws {
        let configuration: VolumeDaemon.Configuration
        do {
            configuration = try VolumeDaemon.Configuration.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("volumed: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
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

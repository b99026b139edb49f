import ArgumentParser
import Foundation
import Logging
import Systemd
import VolumeDaemon

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the daemon (the default).")

    @OptionGroup var config: ConfigOption

    @Flag(name: .long, help: "Check the configuration file and exit.")
    var checkConfig = false

    func run() async throws {
        let configuration = try config.load()
        if checkConfig {
            print("\(config.path): ok")
            return
        }
        let level = LogLevelBox(configuration.logLevel)
        let sink = JournalLogHandler.detectSink()
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label, sink: sink, level: level) }
        let logger = Logger(label: "volumed")
        do {
            try await Daemon(configuration: configuration, configurationPath: config.path, logLevel: level, logger: logger).run()
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

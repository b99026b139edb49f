import ArgumentParser
import Foundation
import VolumeDaemon

/// `--config`, which every subcommand takes.
struct ConfigOption: ParsableArguments {
    @Option(name: .customLong("config"), help: "The configuration file.")
    var path: String = VolumeDaemon.Configuration.defaultPath

    /// Reads the configuration, or exits with EX_CONFIG naming what is wrong.
    func load() throws -> VolumeDaemon.Configuration {
        do {
            return try VolumeDaemon.Configuration.load(path: path)
        } catch {
            FileHandle.standardError.write(Data("volumed: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
    }
}

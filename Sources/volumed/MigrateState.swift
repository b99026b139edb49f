import ArgumentParser
import Foundation
import VolumeDaemon

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

    @OptionGroup var config: ConfigOption

    @Option(name: .long, help: "The store to copy to: rados or local.")
    var to: String

    func run() async throws {
        let configuration = try config.load()
        guard let target = VolumeDaemon.Configuration.StateStore(rawValue: to) else {
            FileHandle.standardError.write(Data("volumed migrate-state: --to must be rados or local, not '\(to)'\n".utf8))
            throw ExitCode(64)
        }
        try await VolumedCommand.tool("migrate-state") { "\(try await StateRebuilder.migrate(configuration, to: target))" }
    }
}

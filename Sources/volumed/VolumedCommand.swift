import ArgumentParser
import Foundation
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

    /// Runs one of volumed's tools: prints what it says, or `volumed <name>: <error>` and exits 1.
    static func tool(_ name: String, _ body: () async throws -> String) async throws {
        do {
            print(try await body())
        } catch {
            FileHandle.standardError.write(Data("volumed \(name): \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

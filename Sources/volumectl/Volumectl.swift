import ArgumentParser
import Foundation
import VolumeClient
import VolumeProtocol

/// `volumectl`: volumed's command-line client.
@main
struct Volumectl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volumectl",
        abstract: "Manage block volumes on Ceph RBD through volumed.",
        discussion: """
            Exit codes: 0 success, 1 the job failed or was cancelled, 2 not found, 3 conflict (busy, in use),
            4 permission denied, 5 cluster unavailable, 6 this volumed is standby (the message names the active one), 64 usage error, 69 volumed not reachable, 70 internal error,
            75 volumed cannot record work (its disk is full or read-only).
            """,
        version: "0.1.0",
        subcommands: [
            VolumeCommand.self, SnapshotCommand.self, ScheduleCommand.self, BackupCommand.self, ImageCommand.self, JobCommand.self, StatusCommand.self,
            CapacityCommand.self, MetricsCommand.self, ReconcileCommand.self, DiscoverCommand.self,
        ])

    /// `volumectl --socket PATH --json volume list` as `ceph -c`, `kubectl --server` and
    /// `docker -H` take their global options: before the subcommand as well as after it.
    static func main() async {
        await main(GlobalOptions.hoisted(Array(CommandLine.arguments.dropFirst())))
    }
}

/// Options every command takes, before or after the subcommand.
struct GlobalOptions: ParsableArguments {
    /// `arguments` with the global options given before the subcommand moved after it, where
    /// every subcommand parses them (anything else stays where it is).
    static func hoisted(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first, first.hasPrefix("-") {
            if first == "--json" || first.hasPrefix("--socket=") {
                leading.append(first)
                rest = rest.dropFirst()
            } else if first == "--socket", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else {
                break
            }
        }
        return Array(rest) + leading
    }

    @Option(name: .long, help: "volumed's socket.")
    var socket: String = ProcessInfo.processInfo.environment["VOLUMED_SOCKET"] ?? "/run/volumed/volumed.sock"

    @Flag(name: .long, help: "Print JSON instead of tables (for scripts).")
    var json = false

    func connect() throws -> VolumeClient {
        do {
            return try VolumeClient(socketPath: socket)
        } catch {
            FileHandle.standardError.write(Data("volumectl: \(error)\n".utf8))
            throw ExitCode(69)
        }
    }
}

/// Options of commands that start a job: the global ones and `--wait`.
struct JobOptions: ParsableArguments {
    @OptionGroup var global: GlobalOptions

    @Flag(name: .long, help: "Wait for the job to end, showing its progress.")
    var wait = false

    /// Calls `method`, which starts a job, and prints what it accepted; with `--wait`, what the
    /// job made of it once it ended (the exit code says how it ended).
    func submit(_ method: String, _ params: [String: JSONValue]) async throws {
        let client = try global.connect()
        try Output.mutation(try await JobProgress.submit(client, method, params, wait: wait, json: global.json), json: global.json)
    }
}

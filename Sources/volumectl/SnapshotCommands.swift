import ArgumentParser
import VolumeProtocol

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Take, list and delete snapshots.",
        subcommands: [Create.self, Delete.self, List.self, Show.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Snapshot a volume.")
        @OptionGroup var options: JobOptions
        @Argument(help: "The volume's id.") var volume: String
        @Option(help: "A name for people.") var name: String?

        func run() async throws {
            try await options.submit("snapshot.create", parameters(["volume_id": .string(volume), "name": .given(name)]))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a snapshot (clones made from it keep working).")
        @OptionGroup var options: JobOptions
        @Argument(help: "The snapshot's id.") var snapshot: String

        func run() async throws { try await options.submit("snapshot.delete", ["snapshot_id": .string(snapshot)]) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List snapshots.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this volume's.") var volume: String?

        func run() async throws {
            try await global.show("snapshot.list", parameters(["volume_id": .given(volume)]), as: [Snapshot].self, with: Output.snapshots)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one snapshot.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The snapshot's id.") var snapshot: String

        func run() async throws {
            try await global.show("snapshot.get", ["snapshot_id": .string(snapshot)], as: Snapshot.self) { $1 ? try Output.snapshots([$0], json: true) : try Output.fields($0) }
        }
    }
}

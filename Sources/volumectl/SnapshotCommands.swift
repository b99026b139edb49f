import ArgumentParser
import VolumeProtocol

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Take, list and delete snapshots.",
        subcommands: [Create.self, Delete.self, List.self, Show.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Snapshot a volume.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var waiting: WaitOptions
        @Argument(help: "The volume's id.") var volume: String
        @Option(help: "A name for people.") var name: String?

        func run() async throws {
            let client = try global.connect()
            var params: [String: JSONValue] = ["volume_id": .string(volume)]
            if let name { params["name"] = .string(name) }
            try Output.mutation(try await JobProgress.submit(client, "snapshot.create", params, wait: waiting.wait, json: global.json), json: global.json)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a snapshot (clones made from it keep working).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var waiting: WaitOptions
        @Argument(help: "The snapshot's id.") var snapshot: String

        func run() async throws {
            let client = try global.connect()
            try Output.mutation(try await JobProgress.submit(client, "snapshot.delete", ["snapshot_id": .string(snapshot)], wait: waiting.wait, json: global.json), json: global.json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List snapshots.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this volume's.") var volume: String?

        func run() async throws {
            var params: [String: JSONValue] = [:]
            if let volume { params["volume_id"] = .string(volume) }
            try Output.snapshots(try await global.connect().run("snapshot.list", params, as: [Snapshot].self), json: global.json)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one snapshot.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The snapshot's id.") var snapshot: String

        func run() async throws {
            let found = try await global.connect().run("snapshot.get", ["snapshot_id": .string(snapshot)], as: Snapshot.self)
            try Output.snapshots([found], json: global.json)
        }
    }
}

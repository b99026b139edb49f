import ArgumentParser
import VolumeProtocol

struct VolumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume", abstract: "Create, clone, grow, flatten, list and delete volumes.",
        subcommands: [Create.self, Clone.self, FromSnapshot.self, Extend.self, Flatten.self, Delete.self, List.self, Show.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a blank volume.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var waiting: WaitOptions
        @Option(help: "Size in GiB.") var size: Int
        @Option(help: "A name for people.") var name: String?
        @Option(name: .customLong("idempotency-key"), help: "Retrying with the same key returns the same job.") var key: String?

        func run() async throws {
            let client = try global.connect()
            var params: [String: JSONValue] = ["size_gb": .int(Int64(size))]
            if let name { params["name"] = .string(name) }
            if let key { params["idempotency_key"] = .string(key) }
            try Output.mutation(try await JobProgress.submit(client, "volume.create", params, wait: waiting.wait, json: global.json), json: global.json)
        }
    }

    struct Clone: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a volume as a clone of another volume.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var waiting: WaitOptions
        @Argument(help: "The source volume's id.") var source: String
        @Option(help: "Size in GiB (default: the source's).") var size: Int?
        @Option(help: "A name for people.") var name: String?

        func run() async throws {
            try await createFrom(.volume(source), size: size, name: name, global: global, wait: waiting.wait)
        }
    }

    struct FromSnapshot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "from-snapshot", abstract: "Create a volume from a snapshot.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var waiting: WaitOptions
        @Argument(help: "The snapshot's id.") var snapshot: String
        @Option(help: "Size in GiB (default: the snapshot's).") var size: Int?
        @Option(help: "A name for people.") var name: String?

        func run() async throws {
            try await createFrom(.snapshot(snapshot), size: size, name: name, global: global, wait: waiting.wait)
        }
    }

    /// `volume.create` from a source, sized like the source unless told otherwise.
    static func createFrom(_ source: Source, size: Int?, name: String?, global: GlobalOptions, wait: Bool) async throws {
        let client = try global.connect()
        var sizeGB = size ?? 0
        let sourceParam: JSONValue
        switch source {
        case .volume(let id):
            sourceParam = .object(["volume_id": .string(id)])
            if size == nil { sizeGB = try await client.run("volume.get", ["volume_id": .string(id)], as: Volume.self).sizeGB }
        case .snapshot(let id):
            sourceParam = .object(["snapshot_id": .string(id)])
            if size == nil { sizeGB = try await client.run("snapshot.get", ["snapshot_id": .string(id)], as: Snapshot.self).sizeGB }
        }
        var params: [String: JSONValue] = ["size_gb": .int(Int64(sizeGB)), "source": sourceParam]
        if let name { params["name"] = .string(name) }
        try Output.mutation(try await JobProgress.submit(client, "volume.create", params, wait: wait, json: global.json), json: global.json)
    }

    struct Extend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Grow a volume (volumes never shrink).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var waiting: WaitOptions
        @Argument(help: "The volume's id.") var volume: String
        @Option(help: "New size in GiB.") var size: Int

        func run() async throws {
            let client = try global.connect()
            let params: [String: JSONValue] = ["volume_id": .string(volume), "size_gb": .int(Int64(size))]
            try Output.mutation(try await JobProgress.submit(client, "volume.extend", params, wait: waiting.wait, json: global.json), json: global.json)
        }
    }

    struct Flatten: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Copy a clone's shared data so it stands alone.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var waiting: WaitOptions
        @Argument(help: "The volume's id.") var volume: String

        func run() async throws {
            let client = try global.connect()
            try Output.mutation(try await JobProgress.submit(client, "volume.flatten", ["volume_id": .string(volume)], wait: waiting.wait, json: global.json), json: global.json)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a volume (its image goes once no clone needs it).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var waiting: WaitOptions
        @Argument(help: "The volume's id.") var volume: String

        func run() async throws {
            let client = try global.connect()
            try Output.mutation(try await JobProgress.submit(client, "volume.delete", ["volume_id": .string(volume)], wait: waiting.wait, json: global.json), json: global.json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List volumes.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try Output.volumes(try await global.connect().run("volume.list", as: [Volume].self), json: global.json)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one volume.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The volume's id.") var volume: String

        func run() async throws {
            let found = try await global.connect().run("volume.get", ["volume_id": .string(volume)], as: Volume.self)
            try Output.volumes([found], json: global.json)
        }
    }
}

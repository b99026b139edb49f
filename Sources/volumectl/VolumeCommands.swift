import ArgumentParser
import Glibc
import VolumeProtocol

struct VolumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume", abstract: "Create, clone, grow, flatten, list and delete volumes.",
        subcommands: [
            Create.self, Clone.self, FromSnapshot.self, FromImage.self, Extend.self, Flatten.self, Revert.self, Delete.self,
            List.self, Usage.self, Show.self, Attach.self, Detach.self, Manage.self, Unmanage.self, Undelete.self,
        ])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a blank volume.")
        @OptionGroup var options: JobOptions
        @Option(help: "Size in GiB.") var size: Int
        @Option(help: "A name for people.") var name: String?
        @Option(help: "Pool (rbd_pool unless told; images_rbd_pool for VM disks).") var pool: String?
        @Flag(help: "Allow several hosts to attach it at once (no exclusive-lock).") var multiattach = false
        @Option(name: .customLong("idempotency-key"), help: "Retrying with the same key returns the same job.") var key: String?

        func run() async throws {
            try await options.submit("volume.create", parameters([
                "size_gb": .int(Int64(size)), "name": .given(name), "pool": .given(pool), "multiattach": .flag(multiattach),
                "idempotency_key": .given(key),
            ]))
        }
    }

    struct Clone: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a volume as a clone of another volume.")
        @OptionGroup var options: CopyOptions
        @Argument(help: "The source volume's id.") var source: String

        func run() async throws { try await options.create(from: .volume(source)) }
    }

    struct FromSnapshot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "from-snapshot", abstract: "Create a volume from a snapshot.")
        @OptionGroup var options: CopyOptions
        @Argument(help: "The snapshot's id.") var snapshot: String

        func run() async throws { try await options.create(from: .snapshot(snapshot)) }
    }

    struct FromImage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "from-image", abstract: "Create a volume (or a VM disk, with --pool vms) as a clone of an image.")
        @OptionGroup var options: CopyOptions
        @Argument(help: "The image's id.") var image: String
        @Option(help: "Pool (rbd_pool unless told; images_rbd_pool for VM disks).") var pool: String?

        func run() async throws { try await options.create(from: .image(image), pool: pool) }
    }

    /// Options of the commands that make a volume from a source.
    struct CopyOptions: ParsableArguments {
        @OptionGroup var job: JobOptions
        @Option(help: "Size in GiB (default: the source's, rounded up to whole GiB).") var size: Int?
        @Option(help: "A name for people.") var name: String?

        /// `volume.create` from `source`, sized like the source unless told otherwise.
        func create(from source: Source, pool: String? = nil) async throws {
            let client = try job.global.connect()
            var sizeGB = size ?? 0
            let sourceParam: JSONValue
            switch source {
            case .volume(let id):
                sourceParam = .object(["volume_id": .string(id)])
                if size == nil { sizeGB = try await client.run("volume.get", ["volume_id": .string(id)], as: Volume.self).sizeGB }
            case .snapshot(let id):
                sourceParam = .object(["snapshot_id": .string(id)])
                if size == nil { sizeGB = try await client.run("snapshot.get", ["snapshot_id": .string(id)], as: Snapshot.self).sizeGB }
            case .image(let id):
                sourceParam = .object(["image_id": .string(id)])
                if size == nil {
                    let bytes = try await client.run("image.get", ["image_id": .string(id)], as: Image.self).sizeBytes
                    sizeGB = max(1, Int((bytes + (1 << 30) - 1) >> 30))
                }
            case .managed:
                throw ValidationError("a managed volume is adopted with 'volume manage', not created")
            }
            try await job.submit(
                "volume.create", parameters(["size_gb": .int(Int64(sizeGB)), "source": sourceParam, "name": .given(name), "pool": .given(pool)]))
        }
    }

    struct Extend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Grow a volume (volumes never shrink).")
        @OptionGroup var options: JobOptions
        @Argument(help: "The volume's id.") var volume: String
        @Option(help: "New size in GiB.") var size: Int

        func run() async throws { try await options.submit("volume.extend", ["volume_id": .string(volume), "size_gb": .int(Int64(size))]) }
    }

    struct Flatten: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Copy a clone's shared data so it stands alone.")
        @OptionGroup var options: JobOptions
        @Argument(help: "The volume's id.") var volume: String

        func run() async throws { try await options.submit("volume.flatten", ["volume_id": .string(volume)]) }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a volume (its image goes once no clone needs it).")
        @OptionGroup var options: JobOptions
        @Argument(help: "The volume's id.") var volume: String
        @Flag(help: "Delete it even while attached (the attachments are dropped).") var force = false

        func run() async throws { try await options.submit("volume.delete", parameters(["volume_id": .string(volume), "force": .flag(force)])) }
    }

    struct Revert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Roll a volume back to one of its snapshots.")
        @OptionGroup var options: JobOptions
        @Argument(help: "The volume's id.") var volume: String
        @Argument(help: "The snapshot's id.") var snapshot: String
        @Flag(help: "Revert even while attached.") var force = false

        func run() async throws {
            try await options.submit(
                "volume.revert", parameters(["volume_id": .string(volume), "snapshot_id": .string(snapshot), "force": .flag(force)]))
        }
    }

    struct Attach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record an attachment and print the connection info for the host.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The volume's id.") var volume: String
        @Option(help: "The host attaching it.") var host: String

        func run() async throws {
            let result = try await global.connect().run(
                "volume.attach", ["volume_id": .string(volume), "connector": .object(["host": .string(host)])], as: AttachResult.self)
            if global.json { return try Output.json(result) }
            let data = result.connectionInfo.data
            print("attachment \(result.attachment.id) on \(result.attachment.host)")
            print("rbd \(data.name) monitors \(zip(data.hosts, data.ports).map { "\($0):\($1)" }.joined(separator: ",")) user \(data.authUsername)")
        }
    }

    struct Detach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End an attachment.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The volume's id.") var volume: String
        @Argument(help: "The attachment's id.") var attachment: String

        func run() async throws {
            try await global.show("volume.detach", ["volume_id": .string(volume), "attachment_id": .string(attachment)], as: Volume.self) {
                try Output.volumes([$0], json: $1)
            }
        }
    }

    struct Manage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Adopt an existing RBD image as a volume (renamed volume-<id>).")
        @OptionGroup var options: JobOptions
        @Argument(help: "The RBD image's name.") var image: String
        @Option(help: "Its pool (default rbd_pool).") var pool: String?
        @Option(help: "A name for people (default: the image's name).") var name: String?

        func run() async throws {
            try await options.submit("volume.manage", parameters(["rbd_image": .string(image), "pool": .given(pool), "name": .given(name)]))
        }
    }

    struct Unmanage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Release a volume's image: it stays in the pool, volumed forgets it.")
        @OptionGroup var options: JobOptions
        @Argument(help: "The volume's id.") var volume: String

        func run() async throws { try await options.submit("volume.unmanage", ["volume_id": .string(volume)]) }
    }

    struct Undelete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring back a volume deleted with deferred deletion (enable_deferred_deletion), before its delay has passed.")
        @OptionGroup var options: JobOptions
        @Argument(help: "The volume's id (volumectl volume list --deleted shows them).") var volume: String

        func run() async throws { try await options.submit("volume.undelete", ["volume_id": .string(volume)]) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List volumes.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only volumes in this status (available, in-use, error, …).") var status: String?
        @Option(help: "Only volumes whose name matches this shell pattern (* ? [..]).") var name: String?
        @Flag(help: "Instead: the volumes deleted with deferred deletion that can still be undeleted, and when they go.") var deleted = false

        func run() async throws {
            if deleted {
                let client = try global.connect()
                var volumes = try await client.run("volume.list", ["deleted": .bool(true)], as: [Volume].self)
                if let name { volumes = volumes.filter { fnmatch(name, $0.name, 0) == 0 } }
                return try Output.deletedVolumes(volumes, json: global.json)
            }
            // Every page (a reply holds at most the daemon's max_list_limit volumes).
            let client = try global.connect()
            var volumes: [Volume] = []
            var marker: String?
            repeat {
                let page = try await client.run("volume.list", parameters(["paged": .bool(true), "marker": .given(marker)]), as: VolumePage.self)
                volumes += page.volumes
                marker = page.nextMarker
            } while marker != nil
            if let status { volumes = volumes.filter { $0.status == status } }
            if let name { volumes = volumes.filter { fnmatch(name, $0.name, 0) == 0 } }
            try Output.volumes(volumes, json: global.json)
        }
    }

    struct Usage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Provisioned and really used bytes of a volume (or of all, with --all), as rbd du computes them.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The volume's id.") var volume: String?
        @Flag(help: "Every volume.") var all = false

        func validate() throws {
            guard (volume == nil) == all else { throw ValidationError("give a volume's id, or --all") }
        }

        func run() async throws {
            let client = try global.connect()
            var ids: [String] = volume.map { [$0] } ?? []
            if all {
                var marker: String?
                repeat {
                    let page = try await client.run("volume.list", parameters(["paged": .bool(true), "marker": .given(marker)]), as: VolumePage.self)
                    ids += page.volumes.map(\.id)
                    marker = page.nextMarker
                } while marker != nil
            }
            var usages: [VolumeUsage] = []
            for id in ids { usages.append(try await client.run("volume.usage", ["volume_id": .string(id)], as: VolumeUsage.self)) }
            if global.json {
                if all { return try Output.json(usages) }
                if let usage = usages.first { return try Output.json(usage) }
                return
            }
            Output.table(["VOLUME", "SNAPSHOT", "PROVISIONED", "USED"], usages.flatMap { usage in
                usage.parts.map { [usage.volumeID, $0.rbdSnapshot ?? "-", Output.bytes($0.provisionedBytes), Output.bytes($0.usedBytes)] }
                    + (usage.parts.count > 1 ? [[usage.volumeID, "(total)", Output.bytes(usage.provisionedBytes), Output.bytes(usage.usedBytes)]] : [])
            })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one volume.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The volume's id.") var volume: String

        func run() async throws {
            try await global.show("volume.get", ["volume_id": .string(volume)], as: Volume.self) { $1 ? try Output.volumes([$0], json: true) : try Output.fields($0) }
        }
    }
}

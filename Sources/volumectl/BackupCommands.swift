import ArgumentParser
import VolumeProtocol

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Back volumes up into the backup pool, restore and delete backups.",
        discussion: "The first backup of a volume is full; the next ones move only what changed since the previous one (--full for a full one).",
        subcommands: [Create.self, Restore.self, Delete.self, List.self, Show.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Back a volume up (it may stay attached).")
        @OptionGroup var options: JobOptions
        @Argument(help: "The volume's id.") var volume: String
        @Option(help: "A name for people.") var name: String?
        @Flag(help: "A full backup even when the volume has an earlier one.") var full = false

        func run() async throws {
            try await options.submit("backup.create", parameters([
                "volume_id": .string(volume), "name": .given(name), "incremental": full ? .bool(false) : nil,
            ]))
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Restore a backup into a new volume, or over --volume.")
        @OptionGroup var options: JobOptions
        @Argument(help: "The backup's id.") var backup: String
        @Option(help: "An available, detached volume at least as big to restore over (its data is replaced).") var volume: String?

        func run() async throws {
            try await options.submit("backup.restore", parameters(["backup_id": .string(backup), "volume_id": .given(volume)]))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a backup (the others stay restorable, in any order).")
        @OptionGroup var options: JobOptions
        @Argument(help: "The backup's id.") var backup: String

        func run() async throws { try await options.submit("backup.delete", ["backup_id": .string(backup)]) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List backups.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this volume's.") var volume: String?

        func run() async throws {
            try await global.show("backup.list", parameters(["volume_id": .given(volume)]), as: [Backup].self, with: Output.backups)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one backup.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The backup's id.") var backup: String

        func run() async throws {
            try await global.show("backup.get", ["backup_id": .string(backup)], as: Backup.self) { $1 ? try Output.json($0) : try Output.fields($0) }
        }
    }
}

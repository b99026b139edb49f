import ArgumentParser
import VolumeProtocol

struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Snapshot a volume on a schedule, keeping the newest few.",
        discussion: "The active volumed takes the snapshots (named scheduled-<UTC time>) and deletes the oldest beyond --keep; never a snapshot of yours.",
        subcommands: [Create.self, Delete.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Snapshot a volume every --interval seconds (the first at once).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The volume's id.") var volume: String
        @Option(help: "Seconds between snapshots (at least the daemon's schedule_min_interval, 300 by default).") var interval: Int
        @Option(help: "How many of this schedule's snapshots stay.") var keep: Int

        func run() async throws {
            try await global.show("schedule.create", [
                "volume_id": .string(volume), "interval_s": .int(Int64(interval)), "keep": .int(Int64(keep)),
            ], as: Schedule.self) { $1 ? try Output.json($0) : try Output.fields($0) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a schedule (the snapshots it took stay).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The schedule's id.") var schedule: String

        func run() async throws {
            try await global.show("schedule.delete", ["schedule_id": .string(schedule)], as: Schedule.self) { $1 ? try Output.json($0) : try Output.schedules([$0], json: false) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List snapshot schedules.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this volume's.") var volume: String?

        func run() async throws {
            try await global.show("schedule.list", parameters(["volume_id": .given(volume)]), as: [Schedule].self, with: Output.schedules)
        }
    }
}

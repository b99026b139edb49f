import ArgumentParser
import VolumeProtocol

struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job", abstract: "Follow, wait for and cancel jobs.",
        subcommands: [List.self, Show.self, Cancel.self, Wait.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recent jobs, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this volume's.") var volume: String?
        @Option(help: "How many.") var limit: Int = 20
        @Flag(help: "Keep watching: the table redrawn as jobs are queued, move and end (with --json or into a pipe, one line per change); Ctrl-C ends.")
        var watch = false

        func run() async throws {
            let params = parameters(["limit": .int(Int64(limit)), "volume_id": .given(volume)])
            if watch { try await JobWatch.run(try global.connect(), params, limit: limit, json: global.json) }
            try await global.show("job.list", params, as: [Job].self, with: Output.jobs)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The job's id.") var job: String

        func run() async throws { try await global.show("job.get", ["job_id": .string(job)], as: Job.self) { $1 ? try Output.jobs([$0], json: true) : try Output.fields($0) } }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a queued or running job.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The job's id.") var job: String

        func run() async throws { try await global.show("job.cancel", ["job_id": .string(job)], as: Job.self) { try Output.jobs([$0], json: $1) } }
    }

    struct Wait: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Wait for a job to end, showing its progress.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The job's id.") var job: String?
        @Flag(help: "Wait until no job is queued or running (follow-up purges included).") var all = false

        func validate() throws {
            guard (job != nil) != all else { throw ValidationError("give a job id or --all") }
        }

        func run() async throws {
            let client = try global.connect()
            guard let job else {
                while true {
                    let pending = try await client.run("job.list", ["limit": .int(10_000)], as: [Job].self).filter { !$0.isFinal }
                    if pending.isEmpty { return }
                    for job in pending { _ = try await client.run("job.wait", ["job_id": .string(job.id)], as: Job.self) }
                }
            }
            let current = try await client.run("job.get", ["job_id": .string(job)], as: Job.self)
            let final = try await JobProgress.follow(current, client: client, json: global.json)
            try Output.jobs([final], json: global.json)
            if final.jobState != .succeeded { throw ExitCode(1) }
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the daemon's and the cluster's state.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let status = try await global.connect().run("service.status", as: ServiceStatus.self)
        if global.json { return try Output.json(status) }
        Output.table(["FIELD", "VALUE"], [
            ["state", status.state], ["cluster", status.clusterFSID ?? "not connected"], ["pool", status.pool],
            ["volumes", String(status.volumes)], ["jobs running", String(status.jobsRunning)],
            ["jobs queued", String(status.jobsQueued)], ["workers", String(status.workers)],
            ["version", status.version], ["uptime", "\(Int(status.uptimeSeconds)) s"],
        ])
    }
}

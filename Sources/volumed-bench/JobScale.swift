import ArgumentParser
import Foundation
import Lifecycle
import VolumeClient
import VolumeProtocol
import VolumeStore

/// `volumed-bench jobs`: issue 11's goals 3 and 4 on a daemon of its own. A database of 1,000
/// volumes with 10 snapshots each and first 1,000, then 1,000,000 finished jobs: `job.list`
/// (newest, and by volume) and `snapshot.list` on both, side by side; the pruning of the jobs
/// older than `job_retention_days`, and `job.list` while it runs; then 10,000 queued jobs
/// (one worker, held by an upload that sends nothing): admission and `service.status` with an
/// empty queue and with the full one.
struct JobScale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "1,000,000 finished jobs, 10,000 queued: lists, pruning, admission, service.status.")

    @OptionGroup var target: Target
    @Option(help: "Finished jobs of the big database.") var jobs = 1_000_000
    @Option(help: "Jobs queued at once.") var queued = 10_000
    @Option(help: "The volumed binary.") var volumed: String
    @Option(help: "A folder for the daemon of this suite.") var scratch: String

    static let volumes = 1_000
    static let small = 1_000
    static func volumeID(_ index: Int) -> String { String(format: "%08x-0000-4000-8000-%012x", index, index) }

    func run() async throws {
        let state = scratch + "/jobs-state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let database = state + "/volumed.sqlite"
        try await seed(database, volumesAndJobs: 0..<Self.small)

        var daemon = try await start(state, retentionDays: 0)
        let before = try await listTimings(daemon.client)
        daemon.stop()
        let (_, seedMs) = try await timed { try await seed(database, volumesAndJobs: Self.small..<jobs) }
        daemon = try await start(state, retentionDays: 0)
        let after = try await listTimings(daemon.client)
        daemon.stop()

        // Pruning: half of the jobs ended more than 30 days ago.
        let due = try await finishedJobs(database, endedBefore: Date().addingTimeInterval(-30 * 86_400))
        daemon = try await start(state, retentionDays: 30, logLevel: "info")
        var duringPrune: [Double] = []
        let pruneDeadline = ContinuousClock.now + .seconds(600)
        var pruned: String?
        while due > 0, pruned == nil, ContinuousClock.now < pruneDeadline {
            duringPrune.append(try await timed { _ = try await daemon.client.call("job.list", .object(["limit": .int(100)])) }.1)
            pruned = daemon.log().split(separator: "\n").first { $0.contains("pruned ") }.map(String.init)
        }
        daemon.stop()
        let left = try await finishedJobs(database, endedBefore: Date())

        // 10,000 queued: one worker, held by an upload that waits for its data.
        daemon = try await start(state, retentionDays: 0, workers: 1)
        let client = daemon.client
        let emptyStatus = try await statusTimings(client)
        let hold = DispatchSemaphore(value: 0)
        let uploader = try VolumeClient(socketPath: daemon.socket)
        let upload = Task {
            try await uploader.upload("image.create", .object(["upload": .string("stream")]), source: {
                hold.wait()
                return nil
            })
        }
        let heldBy = ContinuousClock.now
        while try await client.call("service.status", as: ServiceStatus.self).jobsRunning < 1 {
            guard heldBy.duration(to: .now) < .seconds(30) else { throw ValidationError("the upload never started running") }
            try await Task.sleep(for: .milliseconds(20))
        }
        var admissions: [Double] = []
        var queuedJobs: [String] = []
        for _ in 0..<queued {
            let (reply, ms) = try await timed { try await client.call("volume.create", .object(["size_gb": .int(1)]), as: MutationResult.self) }
            admissions.append(ms)
            queuedJobs.append(reply.job.id)
        }
        let fullStatus = try await statusTimings(client)
        let status = try await client.call("service.status", as: ServiceStatus.self)
        let (_, cancelMs) = try await timed {
            for id in queuedJobs { _ = try await client.call("job.cancel", .object(["job_id": .string(id)])) }
        }
        hold.signal()
        _ = try? await upload.value
        daemon.stop()

        let head = Array(admissions.prefix(200)), tail = Array(admissions.suffix(200))
        print("volumed-bench jobs: \(Self.volumes) volumes with 10 snapshots each; \(Self.small) then \(jobs) finished jobs")
        for (name, small) in before.sorted(by: { $0.key < $1.key }) {
            let big = after[name] ?? []
            print("  " + name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%6.2f ms with %7d jobs, %6.2f ms with %7d (ratio %.2f)",
                         median(small), Self.small, median(big), jobs, median(big) / median(small)))
        }
        print(String(format: "  seeding %d job rows took %.1f s", jobs - Self.small, seedMs / 1000))
        print("  pruning (job_retention_days = 30): \(due) jobs due; daemon's log: \(pruned?.split(separator: ">").last.map(String.init) ?? "no pruning seen within 600 s")")
        print(String(format: "    job.list while it pruned: %d calls, p50 %.2f ms, max %.2f ms; %d finished jobs left", duringPrune.count,
                     median(duringPrune), duringPrune.max() ?? 0, left))
        print(String(format: "  %d queued jobs (workers = 1, held): admission p50 %.2f ms for the first 200, %.2f ms for the last 200 (ratio %.2f)",
                     status.jobsQueued, median(head), median(tail), median(tail) / median(head)))
        print(String(format: "    service.status p50 %.2f ms with an empty queue, %.2f ms with %d queued (ratio %.2f)",
                     median(emptyStatus), median(fullStatus), status.jobsQueued, median(fullStatus) / median(emptyStatus)))
        print(String(format: "    %d queued jobs cancelled in %.1f s (%.0f per second)", queuedJobs.count, cancelMs / 1000, Double(queuedJobs.count) / (cancelMs / 1000)))
    }

    /// The suite's daemon on its seeded database, its log kept for the pruning's line; one job
    /// upload may wait an hour for its data (the worker it holds keeps the queue full).
    func start(_ state: String, retentionDays: Int, workers: Int = 16, logLevel: String = "warning") async throws -> SeededDaemon {
        try await SeededDaemon.start(
            volumed: volumed, target: target, folder: scratch, name: "jobs", state: state, logLevel: logLevel,
            defaults: ["job_retention_days = \(retentionDays)", "workers = \(workers)"], images: ["upload_idle_timeout = 3600"])
    }

    /// Volume and snapshot rows (when the range starts at 0) and finished jobs `range`, spread
    /// over the volumes and over the last 60 days.
    func seed(_ path: String, volumesAndJobs range: Range<Int>) async throws {
        let store = try Store(path: path)
        defer { store.close() }
        if range.lowerBound == 0 {
            try await store.write { tx in
                for index in 0..<Self.volumes {
                    let id = Self.volumeID(index)
                    try tx.insert(VolumeRecord(id: id, name: "seeded-\(index)", sizeGB: 1, status: .available, pool: "images", rbdImage: "volume-\(id)"))
                    for snap in 0..<10 {
                        let sid = String(format: "%08x-0001-4000-8000-%012x", index, snap)
                        try tx.insert(SnapshotRecord(id: sid, volumeID: id, name: "s\(snap)", status: .available, rbdSnapshot: "snapshot-\(sid)", sizeGB: 1))
                    }
                }
            }
        }
        let now = Date()
        for start in stride(from: range.lowerBound, to: range.upperBound, by: 10_000) {
            try await store.write { tx in
                for index in start..<min(range.upperBound, start + 10_000) {
                    // One every 5.2 s back from now: 1,000,000 over 60 days, half older than 30.
                    let ended = now.addingTimeInterval(-Double(index) * 5.184 - 1)
                    var job = JobRecord(id: String(format: "%08x-0002-4000-8000-%012x", index, index), kind: .extendVolume,
                                        lockKey: Self.volumeID(index % Self.volumes), volumeID: Self.volumeID(index % Self.volumes), now: ended.addingTimeInterval(-1))
                    job.state = .succeeded
                    job.startedAt = ended.addingTimeInterval(-0.5)
                    job.finishedAt = ended
                    try tx.insert(job)
                }
            }
        }
    }

    func finishedJobs(_ path: String, endedBefore cutoff: Date) async throws -> Int {
        let store = try Store(path: path)
        defer { store.close() }
        return try await store.read { tx in try tx.countFinishedJobs(endedBefore: cutoff) }
    }

    /// Medians over 20 calls each (a different volume each time for the per-volume lists).
    func listTimings(_ client: VolumeClient) async throws -> [String: [Double]] {
        var times: [String: [Double]] = [:]
        for round in 0..<20 {
            let volume = JSONValue.string(Self.volumeID(round * 37))
            for (name, method, params) in [
                ("job.list {limit: 100}", "job.list", JSONValue.object(["limit": .int(100)])),
                ("job.list {volume_id, limit: 100}", "job.list", .object(["volume_id": volume, "limit": .int(100)])),
                ("snapshot.list {volume_id}", "snapshot.list", .object(["volume_id": volume])),
                ("service.status", "service.status", .object([:])),
            ] {
                let (reply, ms) = try await timed { try await client.call(method, params) }
                if let error = reply.error { throw ValidationError("\(method): \(error.message)") }
                times[name, default: []].append(ms)
            }
        }
        return times
    }

    func statusTimings(_ client: VolumeClient) async throws -> [Double] {
        var times: [Double] = []
        for _ in 0..<50 { times.append(try await timed { _ = try await client.call("service.status") }.1) }
        return times
    }
}

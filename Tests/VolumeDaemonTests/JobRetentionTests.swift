import Foundation
import Lifecycle
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// `job_retention_days` on the real daemon: finished jobs older than it are deleted (in batches,
/// at start), newer ones and unfinished ones stay, and 0 keeps everything.
@Suite(.timeLimit(.minutes(10))) struct JobRetentionTests {
    @Test func finishedJobsOlderThanTheRetentionGoAndTheRestStays() async throws {
        let daemon = try await DaemonProcess.started(defaultExtra: "job_retention_days = 0")
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let old = try await client.createdVolume(["size_gb": .int(1), "name": .string("old")])
        let recent = try await client.createdVolume(["size_gb": .int(1), "name": .string("recent")])
        let jobs = try await client.call("job.list", as: [Job].self)
        let oldJob = try #require(jobs.first { $0.volumeID == old.id })
        let recentJob = try #require(jobs.first { $0.volumeID == recent.id })
        #expect(await daemon.terminate() == 0)

        // 40 days ago: the old volume's create and 5,000 more finished jobs (more than one batch).
        let longAgo = Date().addingTimeInterval(-40 * 86_400)
        let store = try daemon.openDatabase()
        try await store.write { tx in
            guard var row = try tx.job(oldJob.id) else { throw CancellationError() }
            row.createdAt = longAgo
            row.finishedAt = longAgo
            try tx.update(row)
            for index in 0..<5_000 {
                var job = JobRecord(id: "old-\(index)", kind: .createVolume, lockKey: "v-\(index)", now: longAgo)
                job.state = [JobState.succeeded, .failed, .cancelled][index % 3]
                job.finishedAt = longAgo.addingTimeInterval(Double(index))
                try tx.insert(job)
            }
        }
        store.close()

        // Kept for ever with 0: nothing goes.
        try await daemon.start()
        #expect(try await daemon.client().call("job.get", .object(["job_id": .string(oldJob.id)]), as: Job.self).id == oldJob.id)
        #expect(try await daemon.client().call("job.list", .object(["limit": .int(10_000)]), as: [Job].self).count == 5_002)

        // 30 days, applied by a reload: the old ones go, the recent one stays.
        try daemon.setDefault("job_retention_days = 30")
        try await daemon.reload()
        let deadline = ContinuousClock.now + .seconds(30)
        var left = 0
        repeat {
            left = try await daemon.client().call("job.list", .object(["limit": .int(10_000)]), as: [Job].self).count
            if left == 1 { break }
            try await Task.sleep(for: .milliseconds(200))
        } while ContinuousClock.now < deadline
        #expect(left == 1, "only the recent job is left (\(left) are)")
        let gone = try await daemon.client().call("job.get", .object(["job_id": .string(oldJob.id)]))
        #expect(gone.error?.kind == .notFound, "\(String(describing: gone.error))")
        #expect(try await daemon.client().call("job.get", .object(["job_id": .string(recentJob.id)]), as: Job.self).state == "succeeded")
        #expect(daemon.log.contains("pruned 5001 job(s)"), "one log line for the whole prune")
        // The volumes are untouched by the pruning of their jobs.
        #expect(Set(try await daemon.client().call("volume.list", as: [Volume].self).map(\.id)) == [old.id, recent.id])
        #expect(await daemon.terminate() == 0)
    }
}

import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// SIGKILL in the middle of real work, then a restart: every job ends and the pool matches the database.
@Suite(.timeLimit(.minutes(10))) struct CrashRecoveryTests {
    @Test func killedMidFlattenTheJobFinishesAfterRestart() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        var client = try daemon.client()
        let parentID = try await client.createdVolume(["size_gb": .int(2)]).id
        try await daemon.cluster.fill(pool: daemon.pool, image: "volume-\(parentID)", megabytes: 1024)
        let clone = try await client.call(
            "volume.create", .object(["size_gb": .int(2), "source": .object(["volume_id": .string(parentID)]), "wait": .bool(true)]),
            as: MutationResult.self)
        let cloneID = try #require(clone.volume?.id)
        let flatten = try await client.call("volume.flatten", .object(["volume_id": .string(cloneID)]), as: MutationResult.self)

        // Wait until the flatten is visibly under way, then kill the daemon outright.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let job = try await client.call("job.get", .object(["job_id": .string(flatten.job.id)]), as: Job.self)
            if job.state == "running" && job.progress > 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        await daemon.kill()

        try await daemon.start()
        client = try daemon.client()
        let job = try await client.call("job.wait", .object(["job_id": .string(flatten.job.id)]), as: Job.self)
        #expect(job.state == "succeeded")
        let volume = try await client.call("volume.get", .object(["volume_id": .string(cloneID)]), as: Volume.self)
        #expect(volume.parent == nil)
        #expect(volume.status == "available")
        let bytes = try await daemon.cluster.read(pool: daemon.pool, image: "volume-\(cloneID)", offset: 512 << 20, length: 4096)
        #expect(bytes.contains { $0 != 0 }, "the flattened clone holds the parent's data")

        // Let the follow-up purge of the parent's clone snapshot run, then compare pool and database.
        for pending in try await client.call("job.list", as: [Job].self) where !pending.isFinal {
            _ = try await client.call("job.wait", .object(["job_id": .string(pending.id)]))
        }
        let volumes = try await client.call("volume.list", as: [Volume].self)
        #expect(try await daemon.cluster.contents(of: daemon.pool).images == volumes.map(\.rbdImage).sorted())
        #expect(try await daemon.cluster.snapshots(pool: daemon.pool, image: "volume-\(parentID)").isEmpty)
        #expect(volumes.allSatisfy { $0.status == "available" })
    }

    @Test func killedWithJobsInFlightNothingLeaksAndNothingIsStuck() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        var client = try daemon.client()
        let rootID = try await client.createdVolume(["size_gb": .int(1)]).id
        // A burst of mixed jobs, not waited for.
        for index in 0..<12 {
            switch index % 3 {
            case 0: _ = try await client.call("volume.create", .object(["size_gb": .int(1)]))
            case 1: _ = try await client.call("volume.create", .object(["size_gb": .int(1), "source": .object(["volume_id": .string(rootID)])]))
            default: _ = try await client.call("snapshot.create", .object(["volume_id": .string(rootID)]))
            }
        }
        try await Task.sleep(for: .milliseconds(150))
        await daemon.kill()
        try await daemon.start()
        client = try daemon.client()
        // Until none is left: a job's end may queue a follow-up (a purge) after the list was read.
        // A stuck job would never end, and the suite's time limit says so.
        var jobs: [Job] = []
        repeat {
            for job in jobs where !job.isFinal { _ = try await client.call("job.wait", .object(["job_id": .string(job.id)])) }
            jobs = try await client.call("job.list", .object(["limit": .int(1000)]), as: [Job].self)
        } while jobs.contains { !$0.isFinal }
        #expect(jobs.allSatisfy { $0.isFinal })
        let volumes = try await client.call("volume.list", as: [Volume].self)
        #expect(volumes.allSatisfy { $0.status == "available" || $0.status == "error" }, "no volume left in a transitional state")
        #expect(try await daemon.cluster.contents(of: daemon.pool).images == volumes.filter { $0.status != "error" }.map(\.rbdImage).sorted())

        // And deleting everything still empties the pool.
        for snapshot in try await client.call("snapshot.list", as: [Snapshot].self) {
            _ = try await client.call("snapshot.delete", .object(["snapshot_id": .string(snapshot.id), "wait": .bool(true)]))
        }
        for volume in volumes {
            _ = try await client.call("volume.delete", .object(["volume_id": .string(volume.id), "wait": .bool(true)]))
        }
        for job in try await client.call("job.list", as: [Job].self) where !job.isFinal {
            _ = try await client.call("job.wait", .object(["job_id": .string(job.id)]))
        }
        let contents = try await daemon.cluster.contents(of: daemon.pool)
        #expect(contents.images.isEmpty)
        #expect(contents.trash.isEmpty)
    }
}

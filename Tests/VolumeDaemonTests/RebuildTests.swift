import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// The cluster can rebuild the database: tags on every image say what it is.
@Suite(.timeLimit(.minutes(10))) struct RebuildTests {
    /// What must survive a rebuild (timestamps and jobs are not compared).
    struct Summary: Equatable {
        var volumes: [String]
        var snapshots: [String]
        var images: [String]
    }

    static func summary(_ client: VolumeClient) async throws -> Summary {
        let volumes = try await client.call("volume.list", as: [Volume].self).map {
            "\($0.id) \($0.name) \($0.sizeGB) \($0.status) \($0.pool)/\($0.rbdImage) parent=\($0.parent?.volumeID ?? "-")/\($0.parent?.imageID ?? "-")@\($0.parent?.rbdSnapshot ?? "-") source=\(String(describing: $0.source)) depth=\($0.cloneDepth) multi=\($0.multiattach)"
        }.sorted()
        let snapshots = try await client.call("snapshot.list", as: [Snapshot].self).map {
            "\($0.id) \($0.volumeID) \($0.name) \($0.status) \($0.sizeGB) \($0.rbdSnapshot)"
        }.sorted()
        let images = try await client.call("image.list", as: [Image].self).map {
            "\($0.id) \($0.name) \($0.status) \($0.sizeBytes) \($0.checksum ?? "-") \($0.location ?? "-")"
        }.sorted()
        return Summary(volumes: volumes, snapshots: snapshots, images: images)
    }

    @Test func aDeletedDatabaseIsRebuiltFromTheCluster() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        func create(_ params: [String: JSONValue]) async throws -> Volume {
            var params = params
            params["wait"] = .bool(true)
            return try #require(try await client.call("volume.create", .object(params), as: MutationResult.self).volume)
        }
        let file = try TestFiles.rawImage(megabytes: 2)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let image = try #require(try await client.uploadedImage(file, ["name": .string("base")]).image)
        let a = try await create(["size_gb": .int(2), "name": .string("alpha")])
        let snapshot = try #require(try await client.call(
            "snapshot.create", .object(["volume_id": .string(a.id), "name": .string("before upgrade"), "wait": .bool(true)]),
            as: MutationResult.self).snapshot)
        _ = try await client.call("snapshot.create", .object(["volume_id": .string(a.id), "wait": .bool(true)]), as: MutationResult.self)
        let b = try await create(["size_gb": .int(2), "source": .object(["snapshot_id": .string(snapshot.id)])])
        _ = try await create(["size_gb": .int(3), "name": .string("gamma"), "source": .object(["volume_id": .string(b.id)])])
        _ = try await create(["size_gb": .int(1), "source": .object(["image_id": .string(image.id)])])
        _ = try await create(["size_gb": .int(1), "multiattach": .bool(true)])
        // A deleted volume kept for its clone, and a deleted snapshot kept for its clone.
        let e = try await create(["size_gb": .int(1), "name": .string("epsilon")])
        _ = try await create(["size_gb": .int(1), "source": .object(["volume_id": .string(e.id)])])
        _ = try await client.call("volume.delete", .object(["volume_id": .string(e.id), "wait": .bool(true)]), as: MutationResult.self)
        _ = try await client.call("snapshot.delete", .object(["snapshot_id": .string(snapshot.id), "wait": .bool(true)]), as: MutationResult.self)
        for job in try await client.call("job.list", as: [Job].self) where !job.isFinal {
            _ = try await client.call("job.wait", .object(["job_id": .string(job.id)]))
        }
        let before = try await Self.summary(client)
        #expect(before.volumes.count == 6)
        #expect(before.snapshots.count == 1)
        #expect(before.images.count == 1)

        // Lose the database.
        #expect(await daemon.terminate() == 0)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: daemon.directory + "/state/volumed.sqlite" + suffix) }
        let (status, printed) = try await daemon.runTool(["rebuild-state"])
        #expect(status == 0)
        // 7 volumes (the deleted one included), 2 snapshots (the deleted one included), 1 image.
        #expect(printed.contains("7 volume(s), 2 snapshot(s), 1 image(s)"), "\(printed)")

        try await daemon.start()
        let restarted = try daemon.client()
        let after = try await Self.summary(restarted)
        #expect(after.volumes == before.volumes)
        #expect(after.snapshots == before.snapshots)
        #expect(after.images == before.images)
        let drift = try await restarted.call("service.reconcile", as: Drift.self)
        #expect(drift.clean, "\(drift)")

        // A second rebuild into a database that is not empty is refused.
        #expect(try await daemon.runTool(["rebuild-state"]).status != 0)
    }

    @Test func reconcileReportsDriftAndFixesOnlyWhenAsked() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let kept = try #require(try await client.call("volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self).volume)
        let lost = try #require(try await client.call("volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self).volume)
        #expect(try await client.call("service.reconcile", as: Drift.self).clean)

        // Behind volumed's back: a foreign image, a removed volume image, a stray managed-looking snapshot.
        let pool = daemon.pool
        try await daemon.cluster.rbd(["create", "--size", "10M", "\(pool)/someone-elses"])
        try await daemon.cluster.rbd(["rm", "\(pool)/volume-\(lost.id)"])
        let stray = "snapshot-\(UUID().uuidString.lowercased())"
        try await daemon.cluster.rbd(["snap", "create", "\(pool)/volume-\(kept.id)@\(stray)"])

        let drift = try await client.call("service.reconcile", as: Drift.self)
        #expect(!drift.clean)
        #expect(drift.unknownImages.map(\.location) == ["\(pool)/someone-elses"])
        #expect(drift.missingImages.map(\.id) == [lost.id])
        #expect(drift.staleSnapshots.map(\.location) == ["\(pool)/volume-\(kept.id)@\(stray)"])
        #expect(drift.fixed.isEmpty)
        // Nothing changed without fix.
        #expect(try await client.call("volume.get", .object(["volume_id": .string(lost.id)]), as: Volume.self).status == "available")
        #expect(try await daemon.cluster.snapshots(pool: pool, image: "volume-\(kept.id)") == [stray])

        let fixed = try await client.call("service.reconcile", .object(["fix": .bool(true)]), as: Drift.self)
        #expect(fixed.fixed.count == 2)
        for job in try await client.call("job.list", as: [Job].self) where !job.isFinal {
            _ = try await client.call("job.wait", .object(["job_id": .string(job.id)]))
        }
        #expect(try await client.call("volume.get", .object(["volume_id": .string(lost.id)]), as: Volume.self).status == "error")
        #expect(try await daemon.cluster.snapshots(pool: pool, image: "volume-\(kept.id)").isEmpty)
        let after = try await client.call("service.reconcile", as: Drift.self)
        #expect(after.unknownImages.map(\.location) == ["\(pool)/someone-elses"], "unknown images are never touched")
        #expect(after.missingImages.isEmpty && after.staleSnapshots.isEmpty)
    }

    /// Reconcile runs as a job: a report runs beside a running job; a repair waits for it, and
    /// jobs accepted after the repair wait for the repair (it holds every lock).
    @Test func reconcileIsAJobAndARepairRunsAlone() async throws {
        // The upload stays paused while the test looks: never idle long enough to fail on a busy machine.
        let daemon = try await DaemonProcess.started(imagesExtra: "upload_idle_timeout = 600")
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let upload = try PausedUpload(try daemon.client(), megabytes: 1)
        let uploadJob = try #require(await upload.jobID())
        // A report does not wait for the upload still running.
        let report = try await client.call("service.reconcile", as: Drift.self)
        #expect(report.clean)
        let repairing = Task { try await daemon.client().call("service.reconcile", .object(["fix": .bool(true)]), as: Drift.self) }
        var fixJobs: [Job] = []
        while fixJobs.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            fixJobs = try await client.call("job.list", as: [Job].self).filter { $0.kind == "service.reconcile" && $0.state != "succeeded" }
        }
        let later = try await client.call("volume.create", .object(["size_gb": .int(1)]), as: MutationResult.self).job
        try await Task.sleep(for: .milliseconds(500))
        let jobs = try await client.call("job.list", as: [Job].self)
        let fixJob = try #require(jobs.first { $0.id == fixJobs.first?.id })
        #expect(fixJob.state == "queued", "the repair waits for the running upload")
        #expect(jobs.first { $0.id == later.id }?.state == "queued", "a job accepted after the repair waits for it")
        upload.resume()
        #expect(try await repairing.value.clean)
        let ended = try await client.call("job.wait", .object(["job_id": .string(later.id)]), as: Job.self)
        let all = try await client.call("job.list", as: [Job].self)
        func job(_ id: String) throws -> Job { try #require(all.first { $0.id == id }) }
        let (uploaded, fix, created) = (try job(uploadJob), try job(fixJob.id), try job(ended.id))
        #expect(uploaded.state == "succeeded" && fix.state == "succeeded" && created.state == "succeeded")
        #expect(try #require(fix.startedAt) >= (try #require(uploaded.finishedAt)))
        #expect(try #require(created.startedAt) >= (try #require(fix.finishedAt)))
    }
}

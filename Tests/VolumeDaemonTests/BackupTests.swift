import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// Backups on the real cluster: a full one, an incremental one that moves only what changed
/// (of an attached volume), one killed mid-transfer that completes after the restart; each
/// restores byte for byte (into a new volume, and over an existing one); the source and then
/// the backups deleted in any order leave the pool and its trash empty.
@Suite(.timeLimit(.minutes(10))) struct BackupTests {
    @Test func fullAndIncrementalBackupsRestoreByteForByteAndLeaveNothing() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        var client = try daemon.client()
        let cluster = daemon.cluster
        let work = "/tmp/vd-backup-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        func sha256(_ image: String) async throws -> String {
            let file = "\(work)/\(UUID().uuidString.prefix(8)).raw"
            defer { try? FileManager.default.removeItem(atPath: file) }
            try await cluster.rbd(["export", "--no-progress", "\(daemon.pool)/\(image)", file])
            return try await TestFiles.sha256(file)
        }
        func backUp(_ volumeID: String, _ extra: [String: JSONValue] = [:]) async throws -> Backup {
            var params: [String: JSONValue] = ["volume_id": .string(volumeID), "wait": .bool(true)]
            params.merge(extra) { $1 }
            let reply = try await client.call("backup.create", .object(params), as: MutationResult.self)
            #expect(reply.job.state == "succeeded" && reply.job.kind == "backup.create")
            return try #require(reply.backup)
        }

        let volume = try await client.createdVolume(["size_gb": .int(1), "name": .string("db")])
        let none = try await client.call("backup.create", .object(["volume_id": .string(volume.id), "incremental": .bool(true)]))
        #expect(none.error?.kind == .invalidParams, "no earlier backup to be incremental to: \(String(describing: none.error))")

        // Full: the 64 MiB written (whole 4 MiB objects).
        try await cluster.fill(pool: daemon.pool, image: volume.rbdImage, megabytes: 64)
        let sums = [try await sha256(volume.rbdImage)]
        let full = try await backUp(volume.id, ["name": .string("monday")])
        #expect(full.parentID == nil && full.status == "available" && full.name == "monday" && full.sizeGB == 1)
        #expect(full.bytesTransferred == 64 << 20, "\(full.bytesTransferred)")

        // Incremental, of the volume attached: 4 MiB changed, at most 8 MiB moved.
        let attached = try await client.call("volume.attach", .object(["volume_id": .string(volume.id), "connector": .object(["host": .string("hv1")])]))
        #expect(attached.error == nil)
        try await cluster.fill(pool: daemon.pool, image: volume.rbdImage, megabytes: 4, seed: 9)
        let secondSum = try await sha256(volume.rbdImage)
        let incremental = try await backUp(volume.id)
        #expect(incremental.parentID == full.id)
        #expect(incremental.bytesTransferred <= 8 << 20 && incremental.bytesTransferred > 0, "\(incremental.bytesTransferred)")

        // SIGKILL mid-transfer (512 MiB changed): after the restart the job completes.
        try await cluster.fill(pool: daemon.pool, image: volume.rbdImage, megabytes: 512, seed: 11)
        let thirdSum = try await sha256(volume.rbdImage)
        let started = try await client.call("backup.create", .object(["volume_id": .string(volume.id)]), as: MutationResult.self)
        let deadline = ContinuousClock.now + .seconds(60)
        var seen = started.job
        while ContinuousClock.now < deadline {
            seen = try await client.call("job.get", .object(["job_id": .string(started.job.id)]), as: Job.self)
            if seen.isFinal || seen.progress > 0 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(seen.state == "running", "the backup is under way when killed: \(seen.state) \(seen.progress)")
        await daemon.kill()
        try await daemon.start()
        client = try daemon.client()
        let resumed = try await client.call("job.wait", .object(["job_id": .string(started.job.id)]), as: Job.self)
        #expect(resumed.state == "succeeded", "\(resumed.error?.message ?? "")")
        let third = try await client.call("backup.get", .object(["backup_id": .string(try #require(started.backup?.id))]), as: Backup.self)
        #expect(third.parentID == incremental.id && third.status == "available")
        let listed = try await client.call("backup.list", .object(["volume_id": .string(volume.id)]), as: [Backup].self)
        #expect(listed.map(\.id) == [full.id, incremental.id, third.id])

        // Each restores into a new volume as the source was; one restores over an existing volume.
        var restored: [String] = []
        for (backup, sum) in zip([full, incremental, third], sums + [secondSum, thirdSum]) {
            let reply = try await client.call("backup.restore", .object(["backup_id": .string(backup.id), "wait": .bool(true)]), as: MutationResult.self)
            let target = try #require(reply.volume)
            #expect(target.status == "available" && target.sizeGB == 1)
            #expect(try await sha256(target.rbdImage) == sum, "backup \(backup.id) restores as the source was")
            restored.append(target.id)
        }
        let over = try await client.call("backup.restore", .object([
            "backup_id": .string(full.id), "volume_id": .string(restored[2]), "wait": .bool(true),
        ]), as: MutationResult.self)
        #expect(over.volume?.id == restored[2] && over.volume?.status == "available")
        #expect(try await sha256(RBDImageName.volume(restored[2])) == sums[0], "what the volume held beyond the backup is gone")
        let busy = try await client.call("backup.restore", .object(["backup_id": .string(full.id), "volume_id": .string(volume.id)]))
        #expect(busy.error?.kind == .inUse, "not over an attached volume: \(String(describing: busy.error))")

        // The source goes; its backups stay restorable; then they go in any order.
        _ = try await client.call("volume.delete", .object(["volume_id": .string(volume.id), "force": .bool(true), "wait": .bool(true)]), as: MutationResult.self)
        let late = try await client.call("backup.restore", .object(["backup_id": .string(incremental.id), "wait": .bool(true)]), as: MutationResult.self)
        let lateVolume = try #require(late.volume)
        #expect(try await sha256(lateVolume.rbdImage) == secondSum)
        for backup in [incremental, third, full] {
            let deleted = try await client.call("backup.delete", .object(["backup_id": .string(backup.id), "wait": .bool(true)]))
            #expect(deleted.error == nil, "\(String(describing: deleted.error))")
        }
        #expect(try await client.call("backup.list", as: [Backup].self).isEmpty)
        #expect(try await client.call("backup.get", .object(["backup_id": .string(full.id)])).error?.kind == .notFound)
        for id in restored + [lateVolume.id] {
            _ = try await client.call("volume.delete", .object(["volume_id": .string(id), "wait": .bool(true)]), as: MutationResult.self)
        }
        try await Invariants.settle(daemon)
        let contents = try await cluster.contents(of: daemon.pool)
        #expect(contents.images.isEmpty && contents.trash.isEmpty, "\(contents)")
        await daemon.terminate()
        let problems = try await Invariants.check(daemon)
        #expect(problems.isEmpty, "\(problems)")
    }
}

extension BackupTests {
    /// A cancelled backup removes what it wrote (its chain, its snapshot on the volume) and
    /// says error; the next backup is then a full one.
    @Test func aCancelledBackupLeavesNothingAndTheNextIsFull() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let volume = try await client.createdVolume(["size_gb": .int(2)])
        try await daemon.cluster.fill(pool: daemon.pool, image: volume.rbdImage, megabytes: 768)
        let started = try await client.call("backup.create", .object(["volume_id": .string(volume.id)]), as: MutationResult.self)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let job = try await client.call("job.get", .object(["job_id": .string(started.job.id)]), as: Job.self)
            if job.isFinal || job.progress > 0 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        _ = try await client.call("job.cancel", .object(["job_id": .string(started.job.id)]))
        let job = try await client.call("job.wait", .object(["job_id": .string(started.job.id)]), as: Job.self)
        #expect(job.state == "cancelled", "\(job.state) \(job.error?.message ?? "")")
        let backup = try await client.call("backup.get", .object(["backup_id": .string(try #require(started.backup?.id))]), as: Backup.self)
        #expect(backup.status == "error")
        #expect(try await daemon.cluster.contents(of: daemon.pool).images == [volume.rbdImage], "no chain left")
        #expect(try await daemon.cluster.snapshots(pool: daemon.pool, image: volume.rbdImage).isEmpty, "no source snapshot left")
        let next = try await client.call("backup.create", .object(["volume_id": .string(volume.id), "wait": .bool(true)]), as: MutationResult.self)
        #expect(next.backup?.parentID == nil && next.backup?.status == "available")
        try await Invariants.settle(daemon)
        await daemon.terminate()
        let problems = try await Invariants.check(daemon)
        #expect(problems.isEmpty, "\(problems)")
    }
}

/// Volume image names, as volumed gives them.
enum RBDImageName {
    static func volume(_ id: String) -> String { "volume-\(id)" }
}

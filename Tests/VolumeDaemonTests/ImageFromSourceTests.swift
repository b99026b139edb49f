import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// `image.create {source}` on the real cluster: an image made from a snapshot and from an
/// attached volume is flat, holds the source's bytes (checksum included), clones into `vms`
/// after its source is deleted, and leaves no snapshot of its own on the source.
@Suite(.timeLimit(.minutes(10))) struct ImageFromSourceTests {
    @Test func imagesFromASnapshotAndAnAttachedVolumeOutliveTheirSource() async throws {
        let pools = try await ImageStoreDaemon.started()
        defer { pools.cleanUp() }
        let (daemon, imagePool, vmsPool, cluster) = (pools.daemon, pools.imagePool, pools.vmsPool, pools.daemon.cluster)
        let client = try daemon.client()
        let work = "/tmp/vd-from-source-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        /// The sha256 of an RBD image (or snapshot) as the `rbd` CLI exports it.
        func sha256(_ spec: String) async throws -> String {
            let file = "\(work)/\(UUID().uuidString.prefix(8)).raw"
            defer { try? FileManager.default.removeItem(atPath: file) }
            try await cluster.rbd(["export", "--no-progress", spec, file])
            return try await TestFiles.sha256(file)
        }

        // A volume with 24 MiB of data, a snapshot of it, then 8 MiB changed after the snapshot.
        let volume = try await client.createdVolume(["size_gb": .int(1), "name": .string("web")])
        try await cluster.fill(pool: daemon.pool, image: volume.rbdImage, megabytes: 24)
        let snapshot = try #require(try await client.call(
            "snapshot.create", .object(["volume_id": .string(volume.id), "wait": .bool(true)]), as: MutationResult.self).snapshot)
        try await cluster.fill(pool: daemon.pool, image: volume.rbdImage, megabytes: 8, seed: 9)
        let attached = try await client.call("volume.attach", .object(["volume_id": .string(volume.id), "connector": .object(["host": .string("hv1")])]))
        #expect(attached.error == nil)

        // From the snapshot: its bytes, flat, with a protected snap.
        let fromSnapshot = try await client.call("image.create", .object([
            "source": .object(["snapshot_id": .string(snapshot.id)]), "name": .string("golden"), "wait": .bool(true),
        ]), as: MutationResult.self)
        #expect(fromSnapshot.job.state == "succeeded")
        #expect(fromSnapshot.job.snapshotID == snapshot.id && fromSnapshot.job.volumeID == volume.id)
        let golden = try #require(fromSnapshot.image)
        #expect(golden.status == "active" && golden.name == "golden")
        #expect(golden.sizeBytes == 1 << 30)
        #expect(golden.pool == imagePool)
        let snapshotSum = try await sha256("\(daemon.pool)/\(volume.rbdImage)@\(snapshot.rbdSnapshot)")
        #expect(golden.checksum == snapshotSum, "the checksum is the source's bytes")
        #expect(try await sha256("\(imagePool)/\(golden.rbdImage)@snap") == snapshotSum)
        let info = try await cluster.rbd(["info", "--format", "json", "\(imagePool)/\(golden.rbdImage)"])
        #expect(!info.contains("\"parent\""), "flat: \(info)")
        let snapInfo = try await cluster.rbd(["info", "--format", "json", "\(imagePool)/\(golden.rbdImage)@snap"])
        #expect(snapInfo.contains("\"protected\":\"true\""), "\(snapInfo)")
        let usage = try await cluster.rbd(["du", "--format", "json", "\(imagePool)/\(golden.rbdImage)@snap"])
        #expect(usage.contains("\"used_size\":\(24 << 20)"), "thin: only the objects holding data are written: \(usage)")

        // From the attached volume: its bytes now; the snapshot taken for the copy is gone.
        let fromVolume = try await client.call("image.create", .object([
            "source": .object(["volume_id": .string(volume.id)]), "wait": .bool(true),
        ]), as: MutationResult.self)
        let current = try #require(fromVolume.image)
        #expect(current.status == "active")
        #expect(current.checksum == (try await sha256("\(daemon.pool)/\(volume.rbdImage)")))
        #expect(current.checksum != golden.checksum)
        #expect(try await cluster.snapshots(pool: daemon.pool, image: volume.rbdImage) == [snapshot.rbdSnapshot])
        #expect(try await client.call("volume.get", .object(["volume_id": .string(volume.id)]), as: Volume.self).attachmentCount == 1)

        // Refusals: both sources, a source with upload, a missing volume.
        let both = try await client.call("image.create", .object([
            "source": .object(["volume_id": .string(volume.id), "snapshot_id": .string(snapshot.id)]),
        ]))
        #expect(both.error?.kind == .invalidParams)
        let mixed = try await client.call("image.create", .object(["source": .object(["volume_id": .string(volume.id)]), "upload": .string("stream")]))
        #expect(mixed.error?.kind == .invalidParams)
        #expect(mixed.error?.message.contains("upload") == true)

        // The sources go; the images stay and clone into vms with the snapshot's bytes.
        _ = try await client.call("snapshot.delete", .object(["snapshot_id": .string(snapshot.id), "wait": .bool(true)]), as: MutationResult.self)
        _ = try await client.call("volume.delete", .object(["volume_id": .string(volume.id), "force": .bool(true), "wait": .bool(true)]), as: MutationResult.self)
        let gone = try await client.call("image.create", .object(["source": .object(["volume_id": .string(volume.id)])]))
        #expect(gone.error?.kind == .notFound)
        let disk = try #require(try await client.call("volume.create", .object([
            "size_gb": .int(2), "pool": .string(vmsPool), "source": .object(["image_id": .string(golden.id)]), "wait": .bool(true),
        ]), as: MutationResult.self).volume)
        #expect(disk.parent?.imageID == golden.id)
        let head = try await cluster.read(pool: vmsPool, image: disk.rbdImage, offset: 16 << 20, length: 4096)
        let original = try await cluster.read(pool: imagePool, image: golden.rbdImage, offset: 16 << 20, length: 4096)
        #expect(head == original && head.contains { $0 != 0 }, "the clone reads the snapshot's data")

        // Everything deleted: every pool and its trash end empty.
        _ = try await client.call("volume.delete", .object(["volume_id": .string(disk.id), "wait": .bool(true)]), as: MutationResult.self)
        for image in [golden, current] {
            let deleted = try await client.call("image.delete", .object(["image_id": .string(image.id), "wait": .bool(true)]))
            #expect(deleted.error == nil, "\(String(describing: deleted.error))")
        }
        try await Invariants.settle(daemon)
        for pool in [imagePool, vmsPool, daemon.pool] {
            let contents = try await cluster.contents(of: pool)
            #expect(contents.images.isEmpty && contents.trash.isEmpty, "\(pool): \(contents)")
        }
    }

    /// Starts a copy of a 4 GiB volume holding 256 MiB of data; returns once it is under way.
    static func copyUnderWay(_ daemon: DaemonProcess) async throws -> (volume: Volume, job: Job) {
        let client = try daemon.client()
        let volume = try await client.createdVolume(["size_gb": .int(4)])
        try await daemon.cluster.fill(pool: daemon.pool, image: volume.rbdImage, megabytes: 256)
        let accepted = try await client.call("image.create", .object(["source": .object(["volume_id": .string(volume.id)])]), as: MutationResult.self)
        let deadline = ContinuousClock.now + .seconds(60)
        var job = accepted.job
        while ContinuousClock.now < deadline {
            job = try await client.call("job.get", .object(["job_id": .string(accepted.job.id)]), as: Job.self)
            if job.isFinal || job.progress > 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(job.state == "running" && job.progress < 0.9, "the copy is under way: \(job.state) \(job.progress)")
        return (volume, job)
    }

    /// SIGKILL mid-copy: after the restart the copy is redone from its checkpoint and the image
    /// holds the volume's bytes; the snapshot taken for it is gone.
    @Test func aCopyKilledMidwayFinishesAfterTheRestart() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let (volume, started) = try await Self.copyUnderWay(daemon)
        await daemon.kill()
        try await daemon.start()
        let client = try daemon.client()
        let job = try await client.call("job.wait", .object(["job_id": .string(started.id)]), as: Job.self)
        #expect(job.state == "succeeded", "\(job.error?.message ?? "")")
        #expect(daemon.log.contains("resuming 1 unfinished job"), "the job was resumed, not finished before the kill")
        let image = try #require(try await client.call("image.list", as: [Image].self).first)
        #expect(image.status == "active")
        let file = "/tmp/vd-killed-copy-\(UUID().uuidString.prefix(8)).raw"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await daemon.cluster.rbd(["export", "--no-progress", "\(daemon.pool)/\(volume.rbdImage)", file])
        #expect(image.checksum == (try await TestFiles.sha256(file)))
        #expect(try await daemon.cluster.snapshots(pool: daemon.pool, image: volume.rbdImage).isEmpty)
        try await Invariants.settle(daemon)
        await daemon.terminate()
        let problems = try await Invariants.check(daemon)
        #expect(problems.isEmpty, "\(problems)")
    }

    /// A cancelled copy removes the partial image and the snapshot taken on the volume for it.
    @Test func aCancelledCopyLeavesNothing() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let (volume, accepted) = try await Self.copyUnderWay(daemon)
        _ = try await client.call("job.cancel", .object(["job_id": .string(accepted.id)]))
        let job = try await client.call("job.wait", .object(["job_id": .string(accepted.id)]), as: Job.self)
        #expect(job.state == "cancelled", "\(job.state) \(job.error?.message ?? "")")
        try await Invariants.settle(daemon)
        #expect(try await daemon.cluster.snapshots(pool: daemon.pool, image: volume.rbdImage).isEmpty)
        #expect(try await client.call("image.list", as: [Image].self).allSatisfy { $0.status != "active" })
        await daemon.terminate()
        let problems = try await Invariants.check(daemon)
        #expect(problems.isEmpty, "\(problems)")
    }
}

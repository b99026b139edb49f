import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// Glance's side and Nova's boot disks on the real cluster: upload, clone into `volumes` and
/// `vms`, refusal to delete an image in use, export, delete.
@Suite(.timeLimit(.minutes(5))) struct ImageStoreTests {
    @Test func uploadCloneIntoTwoPoolsExportAndDelete() async throws {
        let cluster = try TestCluster.require()
        let imagePool = try await cluster.makePool("img")
        let vmsPool = try await cluster.makePool("vms")
        let daemon = try await DaemonProcess(imagePool: imagePool, vmsPool: vmsPool)
        defer {
            daemon.cleanUp()
            cluster.deletePool(imagePool)
            cluster.deletePool(vmsPool)
        }
        try await daemon.start()
        let client = try daemon.client()

        // 20 MiB plus a tail that is not a whole chunk; every third MiB is zeros.
        let file = try TestFiles.rawImage(megabytes: 20, extraBytes: 12345)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let size = Int64(20 << 20 + 12345)
        let created = try await client.call(
            "image.create", .object(["path": .string(file), "name": .string("debian"), "wait": .bool(true)]), as: MutationResult.self)
        let image = try #require(created.image)
        #expect(image.status == "active")
        #expect(image.sizeBytes == size)
        #expect(image.checksum == (try await TestFiles.sha256(file)))
        let status = try await client.call("service.status", as: ServiceStatus.self)
        #expect(image.location == "rbd://\(status.clusterFSID ?? "")/\(imagePool)/\(image.id)/snap")
        #expect(created.job.state == "succeeded")

        // In the cluster: the image, exact size, a protected `snap`, thin (zero chunks not written),
        // and the image store's object size (8 MiB, order 23).
        let info = try await cluster.rbd(["info", "--format", "json", "\(imagePool)/\(image.id)"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any])
        #expect((json["size"] as? NSNumber)?.int64Value == size)
        #expect((json["order"] as? NSNumber)?.intValue == 23)
        let snaps = try await cluster.rbd(["snap", "ls", "--format", "json", "\(imagePool)/\(image.id)"])
        #expect(snaps.contains("\"name\":\"snap\""))
        let usage = try await cluster.rbd(["du", "--format", "json", "\(imagePool)/\(image.id)@snap"])
        let du = (try JSONSerialization.jsonObject(with: Data(usage.utf8)) as? [String: Any])?["images"] as? [[String: Any]]
        let used = (du?.first?["used_size"] as? NSNumber)?.int64Value ?? 0
        #expect(used > 0 && used < size, "all-zero chunks are skipped (used \(used) of \(size))")

        // A VM disk in `vms` and a volume in `volumes`, both clones of images/<id>@snap.
        let disk = try await client.call("volume.create", .object([
            "size_gb": .int(2), "pool": .string(vmsPool), "source": .object(["image_id": .string(image.id)]), "wait": .bool(true),
        ]), as: MutationResult.self)
        let diskVolume = try #require(disk.volume)
        #expect(diskVolume.pool == vmsPool)
        #expect(diskVolume.parent?.imageID == image.id)
        #expect(diskVolume.cloneDepth == 1)
        #expect(diskVolume.source == .image(image.id))
        let volume = try await client.call("volume.create", .object([
            "size_gb": .int(1), "source": .object(["image_id": .string(image.id)]), "wait": .bool(true),
        ]), as: MutationResult.self)
        let volumeID = try #require(volume.volume?.id)
        for (pool, id) in [(vmsPool, diskVolume.id), (daemon.pool, volumeID)] {
            let parent = try await cluster.rbd(["info", "--format", "json", "\(pool)/volume-\(id)"])
            #expect(parent.contains("\"image\":\"\(image.id)\"") && parent.contains("\"snapshot\":\"snap\""))
        }
        // The clone reads the image's bytes.
        let head = try await cluster.read(pool: vmsPool, image: "volume-\(diskVolume.id)", length: 4096)
        let original = try Data(contentsOf: URL(fileURLWithPath: file)).prefix(4096)
        #expect(head == Array(original))

        // Deleting the image while clones exist is refused, as Glance does.
        let refused = try await client.call("image.delete", .object(["image_id": .string(image.id), "wait": .bool(true)]))
        #expect(refused.error?.kind == .inUse)
        #expect(refused.error?.message.contains("in use through the backend store") == true)
        #expect(try await client.call("image.get", .object(["image_id": .string(image.id)]), as: Image.self).status == "active")

        // Export: the whole image byte for byte, and a range.
        let out = "/tmp/vd-export-\(UUID().uuidString.prefix(8)).raw"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let exported = try await client.call(
            "image.export", .object(["image_id": .string(image.id), "path": .string(out), "wait": .bool(true)]), as: MutationResult.self)
        #expect(try await TestFiles.sha256(out) == image.checksum)
        #expect(exported.job.note?.contains(image.checksum ?? "-") == true)
        _ = try await client.call("image.export", .object([
            "image_id": .string(image.id), "path": .string(out), "offset": .int(1 << 20), "length": .int(3 << 20), "wait": .bool(true),
        ]), as: MutationResult.self)
        let range = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(range == (try Data(contentsOf: URL(fileURLWithPath: file))).subdata(in: (1 << 20)..<(4 << 20)))

        // Once the clones are gone, the image goes, and every pool is empty.
        for id in [diskVolume.id, volumeID] {
            _ = try await client.call("volume.delete", .object(["volume_id": .string(id), "wait": .bool(true)]), as: MutationResult.self)
        }
        let deleted = try await client.call("image.delete", .object(["image_id": .string(image.id), "wait": .bool(true)]), as: MutationResult.self)
        #expect(deleted.image?.status == "deleted")
        #expect(try await client.call("image.list", as: [Image].self).isEmpty)
        for pool in [imagePool, vmsPool, daemon.pool] {
            let contents = try await cluster.contents(of: pool)
            #expect(contents.images.isEmpty && contents.trash.isEmpty, "\(pool) is empty")
        }
    }

    @Test func aFailedUploadLeavesNoImage() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let file = try TestFiles.rawImage(megabytes: 3)
        defer { try? FileManager.default.removeItem(atPath: file) }
        // The announced size is wrong: the job fails and removes the partial image.
        let reply = try await client.call(
            "image.create", .object(["path": .string(file), "size_bytes": .int(1 << 20), "wait": .bool(true)]))
        #expect(reply.error?.kind == .invalidParams)
        #expect(reply.error?.message.contains("size_bytes") == true)
        #expect(try await daemon.cluster.contents(of: daemon.pool).images.isEmpty)
        // A file the daemon cannot read is refused before any job.
        let missing = try await client.call("image.create", .object(["path": .string("/nonexistent/disk.raw")]))
        #expect(missing.error?.kind == .invalidParams)
        #expect(missing.error?.message.contains("/nonexistent/disk.raw") == true)
        let relative = try await client.call("image.create", .object(["path": .string("disk.raw")]))
        #expect(relative.error?.message.contains("absolute") == true)
    }
}

import Dispatch
import Foundation
import Glibc
import Synchronization
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// Glance's side and Nova's boot disks on the real cluster: upload, clone into `volumes` and
/// `vms`, refusal to delete an image in use, export, delete.
@Suite(.timeLimit(.minutes(10))) struct ImageStoreTests {
    @Test func uploadCloneIntoTwoPoolsExportAndDelete() async throws {
        let pools = try await ImageStoreDaemon.started()
        defer { pools.cleanUp() }
        let (daemon, imagePool, vmsPool, cluster) = (pools.daemon, pools.imagePool, pools.vmsPool, pools.daemon.cluster)
        let client = try daemon.client()

        // 20 MiB plus a tail that is not a whole chunk; every third MiB is zeros.
        let file = try TestFiles.rawImage(megabytes: 20, extraBytes: 12345)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let size = Int64(20 << 20 + 12345)
        let created = try await client.uploadedImage(file, ["name": .string("debian")])
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

        // Export on the connection: the whole image byte for byte (zero chunks arrive as
        // holes), and a range.
        let out = "/tmp/vd-export-\(UUID().uuidString.prefix(8)).raw"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let holes = Mutex<UInt64>(0)
        let whole = try await client.download("image.export", .object(["image_id": .string(image.id), "download": .string("stream")]), sink: { piece in
            if case .zeros(let count) = piece { holes.withLock { $0 += count } }
        })
        #expect(whole.error == nil)
        #expect(holes.withLock { $0 } >= 8 << 20, "the all-zero chunks travel as holes")
        let exported = try await client.exportedImage(image.id, to: out)
        #expect(try await TestFiles.sha256(out) == image.checksum)
        #expect(exported.job.note?.contains(image.checksum ?? "-") == true)
        _ = try await client.exportedImage(image.id, to: out, ["offset": .int(1 << 20), "length": .int(3 << 20)])
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
        let daemon = try await DaemonProcess.started(imagesExtra: "image_upload_max_gb = 1")
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let file = try TestFiles.rawImage(megabytes: 3)
        defer { try? FileManager.default.removeItem(atPath: file) }
        // The announced size is wrong: the job fails and removes the partial image.
        let reply = try await client.upload(file: file, "image.create", ["size_bytes": .int(1 << 20), "wait": .bool(true)])
        #expect(reply.error?.kind == .invalidParams)
        #expect(reply.error?.message.contains("size_bytes") == true)
        let short = try await client.upload(file: file, "image.create", ["size_bytes": .int(4 << 20), "wait": .bool(true)])
        #expect(short.error?.message.contains("not the announced size_bytes") == true)
        // Bigger than image_upload_max_gb: holes count too, and nothing is written past it.
        let pieces = Mutex(0)
        let tooBig = try await client.upload("image.create", .object(["upload": .string("stream"), "wait": .bool(true)]), source: {
            pieces.withLock { count -> ImageData? in
                count += 1
                return count <= 3 ? .zeros(512 << 20) : nil
            }
        })
        #expect(tooBig.error?.message.contains("image_upload_max_gb") == true)
        #expect(try await daemon.cluster.contents(of: daemon.pool).images.isEmpty)
        #expect(try await client.call("image.list", as: [Image].self).allSatisfy { $0.status != "active" })
        // The connection goes on after each of these.
        #expect(try await client.call("service.status", as: ServiceStatus.self).state == "ok")
    }

    /// The daemon opens no path a client names: `path` is refused with a message saying how to
    /// send the data, before any job (an admin could otherwise read the keyring or overwrite
    /// the database as the daemon).
    @Test func aPathIsRefusedWithHowToSendTheData() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        for (method, params) in [
            ("image.create", ["path": JSONValue.string("/etc/shadow")]),
            ("image.create", ["path": .string(daemon.directory + "/state/volumed.sqlite"), "upload": .string("stream")]),
            ("image.export", ["image_id": .string("00000000-0000-0000-0000-000000000000"), "path": .string(daemon.directory + "/state/volumed.sqlite")]),
        ] {
            let reply = try await client.call(method, .object(params))
            #expect(reply.error?.code == RPCError.invalidParamsCode, "\(method) \(params)")
            #expect(reply.error?.message.contains("stream") == true)
        }
        let noMode = try await client.call("image.create", .object(["name": .string("x")]))
        #expect(noMode.error?.message.contains("upload: \"stream\"") == true)
        let badMode = try await client.call("image.create", .object(["upload": .string("file")]))
        #expect(badMode.error?.message.contains("must be \"stream\"") == true)
        #expect(try await client.call("job.list", as: [Job].self).isEmpty, "no job for a refused request")
        #expect(FileManager.default.fileExists(atPath: daemon.directory + "/state/volumed.sqlite"))
    }

    /// A client that stops sending: the job fails after upload_idle_timeout and the partial
    /// image is removed; the client, still connected, gets the error. One that hangs up
    /// mid-upload: the job fails at once.
    @Test func aClientThatStopsOrHangsUpFailsTheUploadCleanly() async throws {
        let daemon = try await DaemonProcess.started(imagesExtra: "upload_idle_timeout = 2")
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let sent = Mutex(0)
        let started = ContinuousClock.now
        let stalled = try await client.upload("image.create", .object(["upload": .string("stream"), "name": .string("stalled")]), source: {
            let count = sent.withLock { count in
                count += 1
                return count
            }
            if count == 1 { return .bytes(Data(repeating: 7, count: 1 << 20)) }
            Thread.sleep(forTimeInterval: 5)  // silent for longer than upload_idle_timeout
            return nil
        })
        #expect(stalled.error?.message.contains("upload_idle_timeout") == true)
        #expect(started.duration(to: .now) < .seconds(30))
        let jobs = try await client.call("job.list", as: [Job].self)
        #expect(jobs.first?.state == "failed")

        // Hang up after the first chunk, with a raw socket.
        let socketPath = daemon.socketPath
        let jobID = try await onOwnThread { () throws -> String in
            guard let fd = RawSocket.connect(socketPath) else { throw POSIXError(.ECONNREFUSED) }
            defer { close(fd) }
            let request = #"{"jsonrpc":"2.0","id":1,"method":"image.create","params":{"upload":"stream","name":"cut"}}"# + "\n"
            _ = request.withCString { write(fd, $0, strlen($0)) }
            guard let line = RawSocket.readLine(fd, within: 20_000),
                  let ready = try? JSONDecoder.volumed().decode(RPCNotification.self, from: line),
                  case .object(let params) = ready.params, case .string(let jobID)? = params["job_id"] else {
                throw POSIXError(.EPROTO)
            }
            let data = UploadChunk.data(1 << 16).header + [UInt8](repeating: 9, count: 1 << 16)
            _ = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            return jobID
        }
        let cut = try await client.call("job.wait", .object(["job_id": .string(jobID)]), as: Job.self)
        #expect(cut.state == "failed")
        #expect(cut.error?.message.contains("disconnected") == true)
        #expect(try await daemon.cluster.contents(of: daemon.pool).images.isEmpty, "both partial images are removed")
    }

    /// `job.cancel` in the middle of an upload ends it at once, removes the image, and the
    /// uploading client gets the cancellation as its reply.
    @Test func cancelMidUpload() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let other = try daemon.client()
        let upload = try PausedUpload(try daemon.client(), megabytes: 4)
        let jobID = try #require(await upload.jobID())
        let cancelled = try await other.call("job.cancel", .object(["job_id": .string(jobID)]), as: Job.self)
        #expect(["running", "queued", "cancelled"].contains(cancelled.state))
        let ended = try await other.call("job.wait", .object(["job_id": .string(jobID)]), as: Job.self)
        #expect(ended.state == "cancelled")
        upload.resume()
        #expect(try await upload.reply.value.error?.kind == .cancelled)
        #expect(try await daemon.cluster.contents(of: daemon.pool).images.isEmpty)
    }

    /// SIGKILL mid-upload: the data is gone with the connection, so the restarted daemon ends
    /// the job and removes the partial image (never an image left `creating`).
    @Test func sigkillMidUploadLeavesNoImage() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let upload = try PausedUpload(try daemon.client(), megabytes: 24)
        let jobID = try #require(await upload.jobID())
        await upload.paused()
        // Let the job write some of it, then kill the daemon.
        try await Task.sleep(for: .milliseconds(500))
        await daemon.kill()
        upload.resume()
        _ = try? await upload.reply.value
        try await daemon.start()
        let client = try daemon.client()
        let job = try await client.call("job.wait", .object(["job_id": .string(jobID)]), as: Job.self)
        #expect(job.state == "failed")
        #expect(job.error?.message.contains("upload the image again") == true)
        #expect(try await daemon.cluster.contents(of: daemon.pool).images.isEmpty)
        #expect(try await client.call("image.list", as: [Image].self).allSatisfy { $0.status != "creating" })
    }
}

/// An upload that sends `megabytes` of data, then waits (its client blocked in the middle of
/// the stream) until `resume()`, then ends its data.
struct PausedUpload {
    let reply: Task<RPCResponse, any Error>
    private let readyJobs: AsyncStream<String>
    private let pauses: AsyncStream<Void>
    private let release = DispatchSemaphore(value: 0)

    init(_ client: VolumeClient, megabytes: Int) throws {
        let (readyJobs, readyJob) = AsyncStream.makeStream(of: String.self)
        let (pauses, paused) = AsyncStream.makeStream(of: Void.self)
        self.readyJobs = readyJobs
        self.pauses = pauses
        let release = self.release
        let sent = Mutex(0)
        reply = Task {
            try await client.upload("image.create", .object(["upload": .string("stream")]), ready: { ready in
                if case .object(let params) = ready, case .string(let id)? = params["job_id"] { readyJob.yield(id) }
            }, source: {
                let count = sent.withLock { count in
                    count += 1
                    return count
                }
                if count <= megabytes { return .bytes(Data(repeating: UInt8(truncatingIfNeeded: count), count: 1 << 20)) }
                paused.yield()
                _ = release.wait(timeout: .now() + 600)
                return nil
            })
        }
    }

    /// The upload's job, once the daemon said `upload.ready`.
    func jobID() async -> String? {
        var iterator = readyJobs.makeAsyncIterator()
        return await iterator.next()
    }

    /// Returns once all the data before the pause is sent.
    func paused() async {
        var iterator = pauses.makeAsyncIterator()
        _ = await iterator.next()
    }

    func resume() { release.signal() }
}

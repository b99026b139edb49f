import Foundation
import Glibc
import Lifecycle
import Logging
import VolumeEngine
import VolumeProtocol
import VolumeStore

/// Turns one request line into one reply line: parses the JSON-RPC envelope, checks the
/// caller may call the method, validates params, calls the engine and encodes the answer.
/// Knows nothing of sockets.
public struct Dispatcher: Sendable {
    let engine: Engine
    /// Who may change things; read per request because a reload may change it.
    let access: @Sendable () -> AccessPolicy
    /// The current configuration and STATUS line.
    let configuration: @Sendable () -> Configuration
    /// True while this daemon holds the cluster lock (freshly renewed): it may change things.
    let isActive: @Sendable () -> Bool
    /// Why this daemon answers nothing but `service.status` (standby, fenced, or starting
    /// without its database), or nil: a standby never answers from a copy of its own.
    let notServing: @Sendable () -> String?
    /// The daemon holding the cluster lock (this one, or the active one seen from standby).
    let holder: @Sendable () -> ServiceStatus.Holder?
    let statusLine: @Sendable () async -> String
    /// Pool capacity as last measured in the background.
    let capacity: @Sendable () -> [VolumeEngine.PoolCapacity]?
    let startedAt: ContinuousClock.Instant
    let version: String
    let logger: Logger

    private static let encoder = JSONEncoder.volumed()

    /// The reply to `line` (no line for a notification), and what follows it on the connection.
    func reply(to line: Data, peer: PeerCredentials) async -> Reply {
        let slot = FollowUp.Slot()
        let answer = await answer(to: line, peer: peer, followUp: slot)
        return Reply(line: answer, followUp: slot.take())
    }

    private func answer(to line: Data, peer: PeerCredentials, followUp: FollowUp.Slot) async -> Data? {
        guard !NestingLimit.exceeded(in: line) else {
            return encode(RPCResponse(id: nil, error: .invalidRequest("the request nests deeper than \(NestingLimit.maximumDepth) levels")))
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: line)
        } catch {
            return encode(RPCResponse(id: nil, error: .parseError("parse error: the line is not valid JSON")))
        }
        guard case .object(let object) = value else {
            let message = if case .array = value { "batch requests are not supported: send one request per line" } else { "a request must be a JSON object" }
            return encode(RPCResponse(id: nil, error: .invalidRequest(message)))
        }
        let id: RPCID?
        switch object["id"] {
        case nil, .null?: id = nil
        case .int(let number)?: id = .number(number)
        case .string(let text)?: id = .string(text)
        default: return encode(RPCResponse(id: nil, error: .invalidRequest("id must be a string or an integer")))
        }
        guard object["jsonrpc"] == .string("2.0") else {
            return encode(RPCResponse(id: id, error: .invalidRequest("jsonrpc must be \"2.0\"")))
        }
        guard case .string(let name)? = object["method"] else {
            return encode(RPCResponse(id: id, error: .invalidRequest("method must be a string")))
        }
        let result: Result<any Encodable & Sendable, RPCError>
        if let method = Method(rawValue: name) {
            result = await call(method, params: object["params"], peer: peer, followUp: followUp)
        } else {
            result = .failure(.methodNotFound(name))
        }
        guard let id else { return nil }
        switch result {
        case .success(let value as any JSONWritable): return written(id: id, result: value)
        case .success(let value): return encode(Success(id: id, result: value))
        case .failure(let error): return encode(RPCResponse(id: id, error: error))
        }
    }

    private func call(
        _ method: Method, params: JSONValue?, peer: PeerCredentials, followUp: FollowUp.Slot
    ) async -> Result<any Encodable & Sendable, RPCError> {
        do {
            if !method.isReadOnly, await !access().mayChange(peer) {
                logger.warning("refused \(method.rawValue) to uid \(peer.uid) (pid \(peer.pid)): not root nor in an admin group")
                throw RPCError.domain(
                    .permissionDenied, "\(method.rawValue) needs root or membership in one of admin_groups (uid \(peer.uid) is neither)")
            }
            if method != .serviceStatus, let why = notServing() {
                throw RPCError.domain(.standby, "\(method.rawValue): \(why); ask the active one")
            }
            if !method.isReadOnly, !isActive() {
                throw RPCError.domain(
                    .busy, "\(method.rawValue): this daemon does not hold the cluster lock yet (it is starting); retry in a moment")
            }
            let reader = try ParamReader(params, method: method.rawValue)
            return .success(try await handle(method, reader, peer: peer, followUp: followUp))
        } catch {
            let rpcError = RPCError.from(error)
            if rpcError.kind == .internalError { logger.error("\(method.rawValue) failed: \(error)") }
            return .failure(rpcError)
        }
    }

    private func handle(
        _ method: Method, _ p: ParamReader, peer: PeerCredentials, followUp: FollowUp.Slot
    ) async throws -> any Encodable & Sendable {
        switch method {
        case .volumeCreate:
            try p.allowOnly(["size_gb", "name", "source", "pool", "multiattach", "idempotency_key", "wait"])
            let source: VolumeSource?
            if let object = try p.object("source") {
                try object.allowOnly(["volume_id", "snapshot_id", "image_id"])
                switch (try object.id("volume_id"), try object.id("snapshot_id"), try object.id("image_id")) {
                case (let volume?, nil, nil): source = .volume(volume)
                case (nil, let snapshot?, nil): source = .snapshot(snapshot)
                case (nil, nil, let image?): source = .image(image)
                default: throw RPCError.invalidParams("volume.create: source needs exactly one of volume_id, snapshot_id and image_id")
                }
            } else {
                source = nil
            }
            let accepted = try await engine.createVolume(
                sizeGB: try p.requiredInt("size_gb", in: 1...maximumSizeGB), name: try p.name("name"), source: source,
                pool: try p.poolName("pool"), multiattach: try p.bool("multiattach") ?? false, idempotencyKey: try p.idempotencyKey())
            return try await mutation(accepted, wait: try p.bool("wait") ?? false)
        case .volumeDelete:
            try p.allowOnly(["volume_id", "force", "wait"])
            let accepted = try await engine.deleteVolume(id: try p.requiredID("volume_id"), force: try p.bool("force") ?? false)
            return try await mutation(accepted, wait: try p.bool("wait") ?? false)
        case .volumeRevert:
            try p.allowOnly(["volume_id", "snapshot_id", "force", "wait"])
            let accepted = try await engine.revertVolume(
                id: try p.requiredID("volume_id"), snapshotID: try p.requiredID("snapshot_id"), force: try p.bool("force") ?? false)
            return try await mutation(accepted, wait: try p.bool("wait") ?? false)
        case .volumeAttach:
            try p.allowOnly(["volume_id", "connector"])
            let id = try p.requiredID("volume_id")
            guard let connector = try p.object("connector") else { throw RPCError.invalidParams("volume.attach: connector is required") }
            guard let host = try connector.name("host") else { throw RPCError.invalidParams("volume.attach: connector.host is required") }
            let (attachment, details) = try await engine.attachVolume(id: id, host: host, connector: connector.json())
            guard let volume = try await engine.store.read({ try $0.volume(id) }) else { throw RPCError.domain(.notFound, "volume \(id) not found") }
            return AttachResult(attachment: Attachment(attachment), connectionInfo: ConnectionInfo(details), volume: Volume(volume))
        case .volumeDetach:
            try p.allowOnly(["volume_id", "attachment_id"])
            return Volume(try await engine.detachVolume(id: try p.requiredID("volume_id"), attachmentID: try p.requiredID("attachment_id")))
        case .volumeManage:
            try p.allowOnly(["pool", "rbd_image", "name", "wait"])
            let accepted = try await engine.manageVolume(
                pool: try p.poolName("pool"), image: try p.rbdName("rbd_image"), name: try p.name("name"))
            return try await mutation(accepted, wait: try p.bool("wait") ?? false)
        case .volumeUnmanage:
            try p.allowOnly(["volume_id", "wait"])
            return try await mutation(try await engine.unmanageVolume(id: try p.requiredID("volume_id")), wait: try p.bool("wait") ?? false)
        case .imageCreate:
            try p.allowOnly(["name", "path", "size_bytes", "wait"])
            let accepted = try await engine.createImage(
                name: try p.name("name"), path: try p.requiredString("path"),
                sizeBytes: try p.int("size_bytes", in: 0...(maximumSizeGB << 30)).map(Int64.init))
            return try await imageMutation(accepted, wait: try p.bool("wait") ?? false)
        case .imageGet:
            try p.allowOnly(["image_id"])
            let id = try p.requiredID("image_id")
            guard let image = try await engine.store.read({ try $0.image(id) }), image.status != .deleted else {
                throw RPCError.domain(.notFound, "image \(id) not found")
            }
            return Image(image)
        case .imageList:
            try p.allowOnly([])
            return try await engine.store.read { try $0.visibleImages() }.map(Image.init)
        case .imageExport:
            try p.allowOnly(["image_id", "path", "offset", "length", "wait"])
            let accepted = try await engine.exportImage(
                id: try p.requiredID("image_id"), path: try p.requiredString("path"),
                offset: Int64(try p.int("offset", in: 0...(maximumSizeGB << 30)) ?? 0),
                length: try p.int("length", in: 0...(maximumSizeGB << 30)).map(Int64.init))
            return try await imageMutation(accepted, wait: try p.bool("wait") ?? false)
        case .imageDelete:
            try p.allowOnly(["image_id", "wait"])
            return try await imageMutation(try await engine.deleteImage(id: try p.requiredID("image_id")), wait: try p.bool("wait") ?? false)
        case .serviceCapacity:
            try p.allowOnly([])
            return try await engine.capacity().map(VolumeProtocol.PoolCapacity.init)
        case .serviceReconcile:
            try p.allowOnly(["fix"])
            let fix = try p.bool("fix") ?? false
            if fix {
                guard await access().mayChange(peer) else {
                    throw RPCError.domain(.permissionDenied, "service.reconcile with fix needs root or membership in one of admin_groups")
                }
                guard isActive() else { throw RPCError.domain(.busy, "service.reconcile with fix: this daemon is in standby") }
            }
            return Drift(try await engine.reconcile(fix: fix))
        case .volumeExtend:
            try p.allowOnly(["volume_id", "size_gb", "wait"])
            let accepted = try await engine.extendVolume(
                id: try p.requiredID("volume_id"), sizeGB: try p.requiredInt("size_gb", in: 1...maximumSizeGB))
            return try await mutation(accepted, wait: try p.bool("wait") ?? false)
        case .volumeFlatten:
            try p.allowOnly(["volume_id", "wait"])
            return try await mutation(try await engine.flattenVolume(id: try p.requiredID("volume_id")), wait: try p.bool("wait") ?? false)
        case .volumeGet:
            try p.allowOnly(["volume_id"])
            let id = try p.requiredID("volume_id")
            guard let (volume, attachments) = try await engine.store.read({ tx in
                try tx.volume(id).map { ($0, try tx.attachments(volumeID: id)) }
            }), volume.status != .deleted else {
                throw RPCError.domain(.notFound, "volume \(id) not found")
            }
            return Volume(volume, attachments: attachments)
        case .volumeList:
            // Everything by default; `limit` and `marker` (the last id of the previous page) page
            // through it as Cinder's API does, in the same order.
            try p.allowOnly(["limit", "marker"])
            let limit = try p.int("limit", in: 1...1_000_000)
            let marker = try p.id("marker")
            // Written row by row as the cursor goes: no array of records or of volumes.
            let written = try await engine.store.read { tx -> WrittenJSON? in
                var writer = JSONWriter(capacity: 1 << 16)
                var first = true
                writer.raw("[")
                let found = try tx.forEachVisibleVolume(after: marker, limit: limit) { record in
                    if !first { writer.raw(",") }
                    first = false
                    Volume(record).write(to: &writer)
                }
                writer.raw("]")
                return found ? WrittenJSON(writer) : nil
            }
            guard let written else { throw RPCError.domain(.notFound, "marker volume \(marker ?? "") not found") }
            return written
        case .snapshotCreate:
            try p.allowOnly(["volume_id", "name", "idempotency_key", "wait"])
            let accepted = try await engine.createSnapshot(
                volumeID: try p.requiredID("volume_id"), name: try p.name("name"), idempotencyKey: try p.idempotencyKey())
            return try await mutation(accepted, wait: try p.bool("wait") ?? false)
        case .snapshotDelete:
            try p.allowOnly(["snapshot_id", "wait"])
            return try await mutation(try await engine.deleteSnapshot(id: try p.requiredID("snapshot_id")), wait: try p.bool("wait") ?? false)
        case .snapshotGet:
            try p.allowOnly(["snapshot_id"])
            let id = try p.requiredID("snapshot_id")
            guard let snapshot = try await engine.store.read({ try $0.snapshot(id) }), snapshot.status != .deleted else {
                throw RPCError.domain(.notFound, "snapshot \(id) not found")
            }
            return Snapshot(snapshot)
        case .snapshotList:
            try p.allowOnly(["volume_id"])
            let volumeID = try p.id("volume_id")
            return try await engine.store.read { try $0.visibleSnapshots(volumeID: volumeID) }.map(Snapshot.init)
        case .jobGet:
            try p.allowOnly(["job_id"])
            return Job(try await job(try p.requiredID("job_id")))
        case .jobList:
            try p.allowOnly(["volume_id", "limit"])
            let volumeID = try p.id("volume_id")
            let limit = try p.int("limit", in: 1...10_000) ?? 100
            return try await engine.store.read { try $0.recentJobs(volumeID: volumeID, limit: limit) }.map { Job(engine.presented($0)) }
        case .jobCancel:
            try p.allowOnly(["job_id"])
            return Job(try await engine.cancel(jobID: try p.requiredID("job_id")))
        case .jobWait:
            try p.allowOnly(["job_id"])
            return Job(try await engine.wait(jobID: try p.requiredID("job_id")))
        case .jobWatch:
            try p.allowOnly(["job_id"])
            let id = try p.requiredID("job_id")
            let events = engine.watch(jobID: id)
            let current = try await job(id)
            if !current.isFinal {
                // After the reply, until the job ends or the connection goes.
                followUp.set(FollowUp { notify in
                    for await event in events {
                        switch event {
                        case .progress(let jobID, let progress):
                            try await notify(RPCNotification(method: "job.progress", params: .object([
                                "job_id": .string(jobID), "progress": .double(progress), "state": .string(JobState.running.rawValue),
                            ])))
                        case .finished(let job):
                            try await notify(RPCNotification(method: "job.progress", params: .object([
                                "job_id": .string(job.id), "progress": .double(job.progress), "state": .string(job.state.rawValue),
                            ])))
                        }
                    }
                })
            }
            return Job(current)
        case .serviceStatus:
            try p.allowOnly([])
            return try await status()
        }
    }

    /// The answer to an image job, after it ends when `wait` is set.
    private func imageMutation(_ accepted: AcceptedImage, wait: Bool) async throws -> MutationResult {
        guard wait else { return MutationResult(job: Job(accepted.job), image: Image(accepted.image)) }
        let job = try await finished(accepted.job.id)
        let image = try await engine.store.read { try $0.image(accepted.image.id) }
        return MutationResult(job: Job(job), image: image.map(Image.init))
    }

    /// Waits for a job and turns its failure into the call's error.
    private func finished(_ jobID: String) async throws -> JobRecord {
        let job = try await engine.wait(jobID: jobID)
        if job.state != .succeeded {
            let kind = job.errorKind.map(ErrorKind.init) ?? .internalError
            let message = job.errorMessage ?? "job \(job.id) \(job.state.rawValue)"
            let code = kind == .invalidParams ? RPCError.invalidParamsCode : RPCError.domainErrorCode
            throw RPCError(code: code, message: message, kind: kind, jobID: job.id)
        }
        return job
    }

    private func job(_ id: String) async throws -> JobRecord {
        guard let job = try await engine.store.read({ try $0.job(id) }) else {
            throw RPCError.domain(.notFound, "job \(id) not found")
        }
        return engine.presented(job)
    }

    /// The answer to a mutating call, after the job ends when `wait` is set.
    private func mutation(_ accepted: Accepted, wait: Bool) async throws -> MutationResult {
        guard wait else {
            return MutationResult(job: Job(accepted.job), volume: accepted.volume.map { Volume($0) },
                                  snapshot: accepted.snapshot.map(Snapshot.init))
        }
        let job = try await finished(accepted.job.id)
        let (volume, snapshot) = try await engine.store.read { tx in
            (try accepted.volume.flatMap { try tx.volume($0.id) }, try accepted.snapshot.flatMap { try tx.snapshot($0.id) })
        }
        return MutationResult(job: Job(job), volume: volume.map { Volume($0) }, snapshot: snapshot.map(Snapshot.init))
    }

    func status() async throws -> ServiceStatus {
        let (running, queued) = await engine.load()
        // Nothing from a database this daemon does not hold (a standby's count is the active one's business).
        let volumes = notServing() == nil ? try await engine.store.read { try $0.countVisibleVolumes() } : 0
        let connected = engine.cluster.isConnected
        let config = configuration()
        let line = await statusLine()
        var status = ServiceStatus(
            version: version, state: Self.state(ofStatusLine: line), clusterFSID: engine.cluster.fsid,
            clusterConnected: connected, pool: engine.settings.pool, workers: engine.settings.workers,
            jobsRunning: running, jobsQueued: queued, volumes: volumes,
            uptimeSeconds: Double(startedAt.duration(to: .now).components.seconds), statusLine: line,
            settings: .init(
                workers: config.workers, rbdMaxCloneDepth: config.rbdMaxCloneDepth,
                rbdFlattenVolumeFromSnapshot: config.rbdFlattenVolumeFromSnapshot,
                rbdConcurrentFlattenOperations: config.rbdConcurrentFlattenOperations, logLevel: config.logLevel.rawValue))
        status.capacity = capacity()?.map(VolumeProtocol.PoolCapacity.init)
        status.stateStore = config.stateStore.rawValue
        status.holder = holder()
        return status
    }

    /// `ok`, `standby`, `starting`, `fenced` or `degraded`, from the STATUS line's first word.
    static func state(ofStatusLine line: String) -> String {
        if line.hasPrefix("ready") { return "ok" }
        if line.hasPrefix("standby") { return "standby" }
        if line.hasPrefix("starting") { return "starting" }
        if line.hasPrefix("fenced") { return "fenced" }
        return "degraded"
    }

    private func encode<T: Encodable>(_ value: T) -> Data {
        (try? Self.encoder.encode(value)) ?? Data(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"cannot encode the reply"}}"#.utf8)
    }

    /// The envelope of `Success`, with a result that writes itself (big lists).
    private func written(id: RPCID, result: any JSONWritable) -> Data {
        var writer = JSONWriter(capacity: ((result as? WrittenJSON)?.count ?? 4000) + 96)
        writer.raw(#"{"id":"#)
        switch id {
        case .number(let number): writer.raw(String(number).utf8)
        case .string(let text): writer.string(text)
        }
        writer.raw(#","jsonrpc":"2.0","result":"#)
        result.write(to: &writer)
        writer.raw("}")
        return Data(writer.bytes)
    }

    private struct Success: Encodable {
        let id: RPCID
        let result: any Encodable & Sendable

        enum CodingKeys: String, CodingKey { case jsonrpc, id, result }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode("2.0", forKey: .jsonrpc)
            try container.encode(id, forKey: .id)
            try container.encode(result, forKey: .result)
        }
    }
}

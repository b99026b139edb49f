import Foundation
import Glibc
import Lifecycle
import Logging
import VolumeEngine
import VolumeMetrics
import VolumeProtocol

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
    let capacity: @Sendable () -> [PoolCapacity]?
    let startedAt: ContinuousClock.Instant
    let version: String
    let logger: Logger
    /// `service.metrics`, and where requests are counted by method and outcome.
    let metrics: MetricsCollector
    private var instruments: Instruments { metrics.exporter.instruments }

    private static let encoder = JSONEncoder.volumed()
    /// Refused requests are logged once a second per peer at most.
    let refusals = LogThrottle()

    /// The reply to `line` (no line for a notification), and what follows it on the connection.
    /// `stream` is the connection, for the methods that send data on it besides the reply.
    func reply(to line: Data, peer: PeerCredentials, stream: ClientStream? = nil) async -> Reply {
        let slot = FollowUp.Slot()
        let answer = await answer(to: line, peer: peer, followUp: slot, stream: stream)
        return Reply(line: answer, followUp: slot.take())
    }

    private func answer(to line: Data, peer: PeerCredentials, followUp: FollowUp.Slot, stream: ClientStream?) async -> Data? {
        let began = ContinuousClock.now
        var method = "invalid"
        var outcome = "ok"
        defer { instruments.request(method, outcome: outcome, after: began.duration(to: .now)) }
        func refused(_ id: RPCID?, _ error: RPCError) -> Data {
            outcome = Self.outcome(of: error)
            return encode(RPCResponse(id: id, error: error))
        }
        guard !NestingLimit.exceeded(in: line) else {
            return refused(nil, .invalidRequest("the request nests deeper than \(NestingLimit.maximumDepth) levels"))
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: line)
        } catch {
            return refused(nil, .parseError("parse error: the line is not valid JSON"))
        }
        guard case .object(let object) = value else {
            let message = if case .array = value { "batch requests are not supported: send one request per line" } else { "a request must be a JSON object" }
            return refused(nil, .invalidRequest(message))
        }
        let id: RPCID?
        switch object["id"] {
        case nil, .null?: id = nil
        case .int(let number)?: id = .number(number)
        case .string(let text)?: id = .string(text)
        default: return refused(nil, .invalidRequest("id must be a string or an integer"))
        }
        guard object["jsonrpc"] == .string("2.0") else {
            return refused(id, .invalidRequest("jsonrpc must be \"2.0\""))
        }
        guard case .string(let name)? = object["method"] else {
            return refused(id, .invalidRequest("method must be a string"))
        }
        let result: Result<any Encodable & Sendable, RPCError>
        if let known = Method(rawValue: name) {
            method = known.rawValue
            result = await call(known, params: object["params"], peer: peer, followUp: followUp, stream: stream)
        } else {
            // Not the name a client made up: one label value for them all.
            method = "unknown"
            result = .failure(.methodNotFound(name))
        }
        if case .failure(let error) = result { outcome = Self.outcome(of: error) }
        guard let id else { return nil }
        switch result {
        case .success(let value as any JSONWritable): return written(id: id, result: value)
        case .success(let value): return encode(Success(id: id, result: value))
        case .failure(let error): return encode(RPCResponse(id: id, error: error))
        }
    }

    private func call(
        _ method: Method, params: JSONValue?, peer: PeerCredentials, followUp: FollowUp.Slot, stream: ClientStream?
    ) async -> Result<any Encodable & Sendable, RPCError> {
        do {
            if !method.isReadOnly, await !access().mayChange(peer) {
                refusals.warning(logger, key: "uid \(peer.uid)", "refused \(method.rawValue) to uid \(peer.uid) (pid \(peer.pid)): not root nor in an admin group")
                throw RPCError.domain(
                    .permissionDenied, "\(method.rawValue) needs root or membership in one of admin_groups (uid \(peer.uid) is neither)")
            }
            if ![.serviceStatus, .serviceMetrics, .rpcDiscover].contains(method), let why = notServing() {
                throw RPCError.domain(.standby, "\(method.rawValue): \(why); ask the active one")
            }
            if !method.isReadOnly, !isActive() {
                throw RPCError.domain(
                    .busy, "\(method.rawValue): this daemon does not hold the cluster lock yet (it is starting); retry in a moment")
            }
            let reader = try ParamReader(params, method: method.rawValue)
            try reader.allowOnly(Set(method.parameters))
            let request = Request(params: reader, peer: peer, followUp: followUp, stream: stream)
            return .success(try await Self.handler(for: method)(self)(request))
        } catch {
            let rpcError = RPCError.from(error)
            if rpcError.kind == .internalError { logger.error("\(method.rawValue) failed: \(error)") }
            return .failure(rpcError)
        }
    }

    /// The answer to an image job, after it ends when `wait` is set.
    func imageMutation(_ accepted: AcceptedImage, wait: Bool) async throws -> MutationResult {
        guard wait else { return MutationResult(job: Job(accepted.job), image: Image(accepted.image)) }
        let job = try await finished(accepted.job.id)
        return MutationResult(job: Job(job), image: try await engine.row(of: accepted).map(Image.init))
    }

    /// Waits for a job and turns its failure into the call's error.
    func finished(_ jobID: String) async throws -> JobRecord {
        let job = try await engine.wait(jobID: jobID)
        if job.state != .succeeded {
            let kind = job.errorKind.map(ErrorKind.init) ?? .internalError
            let message = job.errorMessage ?? "job \(job.id) \(job.state.rawValue)"
            let code = kind == .invalidParams ? RPCError.invalidParamsCode : RPCError.domainErrorCode
            throw RPCError(code: code, message: message, kind: kind, jobID: job.id)
        }
        return job
    }

    /// The answer to a mutating call, after the job ends when `wait` is set.
    func mutation(_ accepted: Accepted, wait: Bool) async throws -> MutationResult {
        guard wait else {
            return MutationResult(job: Job(accepted.job), volume: accepted.volume.map { Volume($0) },
                                  snapshot: accepted.snapshot.map(Snapshot.init))
        }
        let job = try await finished(accepted.job.id)
        let (volume, snapshot) = try await engine.rows(of: accepted)
        return MutationResult(job: Job(job), volume: volume.map { Volume($0) }, snapshot: snapshot.map(Snapshot.init))
    }

    func status() async throws -> ServiceStatus {
        let (running, queued) = await engine.load()
        // Nothing from a database this daemon does not hold (a standby's count is the active one's business).
        let volumes = notServing() == nil ? try await engine.visibleVolumeCount() : 0
        let (connected, fsid) = engine.clusterConnection
        let config = configuration()
        let line = await statusLine()
        var status = ServiceStatus(
            version: version, state: Self.state(ofStatusLine: line), clusterFSID: fsid,
            clusterConnected: connected, pool: engine.settings.pool, workers: engine.settings.workers,
            jobsRunning: running, jobsQueued: queued, volumes: volumes,
            uptimeSeconds: Double(startedAt.duration(to: .now).components.seconds), statusLine: line,
            settings: .init(
                workers: config.workers, rbdMaxCloneDepth: config.rbdMaxCloneDepth,
                rbdFlattenVolumeFromSnapshot: config.rbdFlattenVolumeFromSnapshot,
                rbdConcurrentFlattenOperations: config.rbdConcurrentFlattenOperations, logLevel: config.logLevel.rawValue))
        status.capacity = capacity()
        status.stateStore = config.stateStore.rawValue
        status.holder = holder()
        return status
    }

    /// The error's kind, or the JSON-RPC error's name for a request refused before its method ran.
    static func outcome(of error: RPCError) -> String {
        if let kind = error.kind { return kind.rawValue }
        switch error.code {
        case -32700: return "parse_error"
        case -32600: return "invalid_request"
        case -32601: return "method_not_found"
        case -32602: return "invalid_params"
        default: return "internal_error"
        }
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

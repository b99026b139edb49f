import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization
import VolumeMetrics

/// `GET /metrics` over HTTP on `metrics_listen`, for Prometheus: the text `service.metrics`
/// gives, and nothing else (any other path is 404, any other method 405). Unauthenticated and
/// read-only, so it listens only where the operator says; one request per connection, at most
/// `maxConnections` at once, and a client that sends nothing for `idleTimeout` is dropped.
struct MetricsHTTPServer: Service {
    let address: ListenAddress
    let collector: MetricsCollector
    let logger: Logger
    static let maxConnections = 16
    static let idleTimeout = TimeAmount.seconds(10)

    private typealias Exchange = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// The endpoint's address cannot be listened on (taken, or not this host's).
    struct CannotListen: Error, CustomStringConvertible {
        let address: ListenAddress
        let reason: any Error
        var description: String {
            "metrics_listen = \(address): cannot listen there (\(reason)); free the port, or choose another address in volumed.conf"
        }
    }

    func run() async throws {
        let server: NIOAsyncChannel<Exchange, Never>
        do {
            server = try await bind()
        } catch {
            throw CannotListen(address: address, reason: error)
        }
        logger.info("serving metrics on http://\(address)/metrics")
        try await serve(server)
    }

    private func bind() async throws -> NIOAsyncChannel<Exchange, Never> {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: Self.idleTimeout))
                    try channel.pipeline.syncOperations.addHandler(CloseWhenIdle())
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try Exchange(wrappingChannelSynchronously: channel)
                }
            }
    }

    private func serve(_ server: NIOAsyncChannel<Exchange, Never>) async throws {
        let open = OpenCount()
        let serverChannel = server.channel
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { exchanges in
                    for try await exchange in exchanges {
                        guard open.value.add(1, ordering: .relaxed).newValue <= Self.maxConnections else {
                            open.value.subtract(1, ordering: .relaxed)
                            exchange.channel.close(promise: nil)
                            continue
                        }
                        group.addTask {
                            defer { open.value.subtract(1, ordering: .relaxed) }
                            await self.answer(exchange)
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
    }

    private func answer(_ exchange: Exchange) async {
        try? await exchange.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let request): head = request
                case .body: continue  // a scrape has none; whatever comes is dropped
                case .end: break
                }
                guard case .end = part else { continue }
                guard let request = head else { return }
                let (status, body) = await response(to: request)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: status == .ok ? PrometheusExporter.contentType : "text/plain; charset=utf-8")
                headers.add(name: "Content-Length", value: String(body.utf8.count))
                headers.add(name: "Connection", value: "close")
                if status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
                try await outbound.write(.head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
                if request.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body)))) }
                try await outbound.write(.end(nil))
                return
            }
        }
    }

    private func response(to request: HTTPRequestHead) async -> (HTTPResponseStatus, String) {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        guard path == "/metrics" else { return (.notFound, "volumed serves only /metrics here\n") }
        guard request.method == .GET || request.method == .HEAD else { return (.methodNotAllowed, "GET /metrics\n") }
        return (.ok, await collector.exposition())
    }
}

/// Connections being answered.
private final class OpenCount: Sendable {
    let value = Atomic<Int>(0)
}

/// Closes a connection on the idle event (a client that connected and sends nothing).
private final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOPosix
import ServiceLifecycle
import Synchronization
import VolumeMetrics
import VolumeProtocol

/// The Unix stream socket clients talk to: newline-delimited JSON-RPC, one request per line.
///
/// Requests on one connection run concurrently (replies carry their id), up to
/// `maximumInFlight` at a time; a line longer than `maximumLineLength` gets an error reply and
/// the connection goes on. On graceful shutdown the listener closes first, every connection
/// stops reading (idle ones close at once), and in-flight requests get up to
/// `shutdownGrace` to send their replies before their connections close.
public final class SocketServer: Service, Sendable {
    public enum Listener: Sendable {
        /// Bind this path (an existing socket file is replaced).
        case path(String, mode: mode_t)
        /// A socket already bound and listening, passed by systemd (`LISTEN_FDS`).
        case inherited(fd: Int32)
    }

    public static let maximumLineLength = 1 << 20
    static let maximumInFlight = 64
    static let shutdownGrace = TimeAmount.seconds(5)

    /// What no client may exceed, so that none can starve the others.
    public struct Limits: Sendable {
        public var maxConnections: Int
        /// Connections one uid may hold: one user cannot take every slot from the others.
        public var maxConnectionsPerUser: Int
        /// Nil: idle connections stay open.
        public var idleTimeout: TimeAmount?

        public init(maxConnections: Int = 256, maxConnectionsPerUser: Int = 64, idleTimeout: TimeAmount? = .seconds(300)) {
            self.maxConnections = maxConnections
            self.maxConnectionsPerUser = maxConnectionsPerUser
            self.idleTimeout = idleTimeout
        }
    }

    let listener: Listener
    let limits: Limits
    let dispatcher: Dispatcher
    let logger: Logger
    let ready: @Sendable () async -> Void
    /// Connections open, accepted and refused (the metrics).
    let instruments: Instruments
    /// Open connections, so that a shutdown can close them (an idle client must not keep the daemon up).
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
    /// Connections accepted but not yet taken by `serve` (the server's stream hands them over
    /// later). Held so that one the stream drops when serving is cancelled (a daemon stopping
    /// because its takeover was refused, a client connecting at that moment) is closed here
    /// rather than deinited unfinished, which NIO traps on (swift-nio#2637).
    private let unserved = Mutex<[ObjectIdentifier: NIOAsyncChannel<Frame, ByteBuffer>]>([:])
    /// Open connections by the peer's uid.
    private let connectionsByUser = Mutex<[UInt32: Int]>([:])
    /// Refused connections are logged once a second at most.
    let refusals = LogThrottle()

    public init(
        listener: Listener, limits: Limits = Limits(), dispatcher: Dispatcher, logger: Logger, instruments: Instruments = .none,
        ready: @escaping @Sendable () async -> Void = {}
    ) {
        self.instruments = instruments
        self.listener = listener
        self.limits = limits
        self.dispatcher = dispatcher
        self.logger = logger
        self.ready = ready
    }

    public func run() async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // Large reads for uploads; small connections stay small (the buffer adapts).
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16384, maximum: 1 << 20))
        let idleTimeout = limits.idleTimeout
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                let requests = RequestsInFlight()
                let framing = FramingSwitch()
                if let idleTimeout {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idleTimeout))
                }
                try channel.pipeline.syncOperations.addHandler(
                    ByteToMessageHandler(RequestFrameDecoder(maximumLength: Self.maximumLineLength, framing: framing)))
                // Counts requests in every case; closes idle connections only with a timeout
                // (without IdleStateHandler no idle event comes).
                try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser(requests: requests))
                let asyncChannel = try NIOAsyncChannel<Frame, ByteBuffer>(wrappingChannelSynchronously: channel)
                self.unserved.withLock { $0[ObjectIdentifier(channel)] = asyncChannel }
                return Connection(channel: asyncChannel, requests: requests, framing: framing)
            }
        }
        let server: NIOAsyncChannel<Connection, Never>
        switch listener {
        case .path(let path, let mode):
            server = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            chmod(path, mode)
            logger.info("listening on \(path)")
        case .inherited(let fd):
            server = try await bootstrap.bind(fd, childChannelInitializer: initializer)
            logger.info("listening on the socket passed by systemd (fd \(fd))")
        }
        await ready()
        let serverChannel = server.channel
        do {
            try await serve(server, closing: serverChannel)
        } catch {
            await closeUnserved()
            throw error
        }
        await closeUnserved()
    }

    /// Hands each accepted connection to `serve` until the listener closes.
    private func serve(_ server: NIOAsyncChannel<Connection, Never>, closing serverChannel: any Channel) async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
            for channel in self.connections.withLock({ Array($0.values) }) {
                channel.close(mode: .input, promise: nil)
                channel.eventLoop.scheduleTask(in: Self.shutdownGrace) { channel.close(promise: nil) }
            }
        }
    }

    /// Closes the connections accepted that serving never took (it was cancelled).
    private func closeUnserved() async {
        let left = unserved.withLock { pending in
            defer { pending.removeAll() }
            return Array(pending.values)
        }
        for connection in left { try? await connection.executeThenClose { _, _ in } }
    }

    private func serve(_ accepted: Connection) async {
        let connection = accepted.channel
        let key = ObjectIdentifier(connection.channel)
        unserved.withLock { $0[key] = nil }
        let open = connections.withLock { connections -> Int in
            connections[key] = connection.channel
            instruments.set(.connections, to: Double(connections.count))
            return connections.count
        }
        defer {
            connections.withLock { connections in
                connections[key] = nil
                instruments.set(.connections, to: Double(connections.count))
            }
        }
        guard open <= limits.maxConnections else {
            instruments.count(.connectionsRefused, [("reason", "max_connections")])
            await refuse(connection, open: open - 1)
            return
        }
        let requests = accepted.requests
        let framing = accepted.framing
        let uploads = UploadRoute()
        let channel = connection.channel
        let resumeDecoding: @Sendable () -> Void = { channel.pipeline.fireChannelRead(ByteBuffer()) }
        let peer = await PeerCredentials.of(connection.channel)
        let ofUser = connectionsByUser.withLock { counts -> Int in
            counts[peer.uid, default: 0] += 1
            return counts[peer.uid, default: 0]
        }
        defer {
            connectionsByUser.withLock { counts in
                counts[peer.uid, default: 1] -= 1
                if counts[peer.uid] == 0 { counts[peer.uid] = nil }
            }
        }
        guard ofUser <= limits.maxConnectionsPerUser else {
            instruments.count(.connectionsRefused, [("reason", "max_connections_per_user")])
            await refuse(connection, uid: peer.uid, open: ofUser - 1)
            return
        }
        instruments.count(.connectionsAccepted)
        do {
            try await connection.executeThenClose { inbound, outbound in
                let writer = LineWriter(outbound: outbound)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    var inFlight = 0
                    do {
                        for try await frame in inbound {
                            switch frame {
                            case .data(let bytes):
                                await uploads.deliver(.bytes(ReceivedBytes(buffer: bytes)))
                                continue
                            case .zeros(let count):
                                await uploads.deliver(.zeros(count))
                                continue
                            case .end:
                                uploads.end()
                                continue
                            case .line, .tooLong:
                                break
                            }
                            if inFlight >= Self.maximumInFlight {
                                try await group.next()
                                inFlight -= 1
                            }
                            inFlight += 1
                            let stream = ClientStream(writer: writer, framing: framing, uploads: uploads, resumeDecoding: resumeDecoding)
                            // Counted in flight when decoded (IdleConnectionCloser); ended here.
                            group.addTask {
                                defer { requests.end() }
                                switch frame {
                                case .line(let buffer):
                                    guard buffer.readableBytes > 0 else { return }
                                    let mayUpload = RequestFrameDecoder.mayStartUpload(buffer)
                                    let reply = await self.dispatcher.reply(to: Data(buffer: buffer), peer: peer, stream: stream)
                                    // Not an upload after all (or refused): the decoder paused
                                    // after the line goes on with lines.
                                    if mayUpload, !stream.receivedChunks {
                                        framing.decide(.lines)
                                        resumeDecoding()
                                    }
                                    if let line = reply.line { try await writer.write(line) }
                                    if let followUp = reply.followUp {
                                        await Self.run(followUp, writer: writer, until: connection.channel.closeFuture)
                                    }
                                case .tooLong(let limit):
                                    let error = RPCResponse(id: nil, error: .invalidRequest("request line longer than \(limit) bytes; it was skipped"))
                                    try await writer.write(JSONEncoder.volumed().encode(error))
                                case .data, .zeros, .end:
                                    return  // routed above
                                }
                            }
                        }
                    } catch {
                        uploads.disconnected()
                        throw error
                    }
                    uploads.disconnected()
                    try await group.waitForAll()
                }
                // The client is done sending: let every reply reach it before the connection
                // closes (closing at once would drop a large reply still being written).
                try? await connection.channel.close(mode: .output).get()
            }
        } catch {
            logger.debug("connection closed: \(error)")
        }
    }
}

extension SocketServer {
    /// Runs a request's follow-up (its notifications) until it ends or the connection closes,
    /// whichever comes first.
    /// A failed write (the client went) ends it too.
    static func run(_ followUp: FollowUp, writer: LineWriter, until closed: EventLoopFuture<Void>) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await followUp.run { notification in try await writer.write(JSONEncoder.volumed().encode(notification)) }
            }
            group.addTask { try? await closed.get() }
            await group.next()
            group.cancelAll()
        }
    }
}

/// Writes whole lines to a connection; safe to call from several tasks, which take turns (a
/// download holds the connection for all its chunks with `exclusive`).
struct LineWriter: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let gate = AsyncGate()

    init(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.outbound = outbound
    }

    func write(_ data: Data) async throws {
        let buffer = Self.buffer(data)
        try await gate.withTurn { try await outbound.write(buffer) }
    }

    /// Runs `body` with the connection's output to itself.
    func exclusive(_ body: (NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> Void) async throws {
        try await gate.withTurn { try await body(outbound) }
    }

    /// `data` and its newline.
    static func buffer(_ data: Data) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(data.count + 1)
        buffer.writeBytes(data)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }
}

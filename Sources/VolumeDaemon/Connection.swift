import Foundation
import NIOCore
import Synchronization
import VolumeProtocol

/// An accepted client connection: its channel, and how many of its requests are being answered
/// (a connection is idle only when none is: a long `job.wait` is not idleness).
struct Connection: Sendable {
    let channel: NIOAsyncChannel<Frame, ByteBuffer>
    let requests: RequestsInFlight
    /// How the decoder frames what follows a possible upload request.
    let framing: FramingSwitch
}

/// The requests of one connection being answered right now (their follow-ups included).
final class RequestsInFlight: Sendable {
    private let count = Atomic<Int>(0)
    func begin() { count.add(1, ordering: .relaxed) }
    func end() { count.subtract(1, ordering: .relaxed) }
    var isIdle: Bool { count.load(ordering: .relaxed) == 0 }
}

/// Counts each request as in flight the moment its line is decoded (not when the connection's
/// task gets to it, which on a starved machine can be seconds later), and closes a connection
/// that has neither sent nor received anything for the idle timeout (`IdleStateHandler` says
/// so, again every timeout) and has no request in flight. The connection's task ends each
/// request it was given (`RequestsInFlight.end`).
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = Frame
    typealias InboundOut = Frame
    let requests: RequestsInFlight

    init(requests: RequestsInFlight) {
        self.requests = requests
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .line, .tooLong: requests.begin()
        case .data, .zeros, .end: break  // an upload's data: its request is in flight already
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent, requests.isIdle {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

extension SocketServer {
    /// One connection too many: it gets an error line saying so, and is closed (never a hang).
    func refuse(_ connection: NIOAsyncChannel<Frame, ByteBuffer>, open: Int) async {
        refusals.warning(logger, "refused a connection: \(open) open, max_connections is \(self.limits.maxConnections)")
        await refuse(connection, saying: "volumed has \(open) connections open, its max_connections: close idle ones or retry later")
    }

    /// One connection too many for its user.
    func refuse(_ connection: NIOAsyncChannel<Frame, ByteBuffer>, uid: UInt32, open: Int) async {
        refusals.warning(logger, key: "uid \(uid)",
                         "refused a connection of uid \(uid): it has \(open) open, max_connections_per_user is \(self.limits.maxConnectionsPerUser)")
        await refuse(connection, saying: "uid \(uid) has \(open) connections open, the most one user may (max_connections_per_user): close idle ones or retry later")
    }

    private func refuse(_ connection: NIOAsyncChannel<Frame, ByteBuffer>, saying message: String) async {
        let error = RPCResponse(id: nil, error: .domain(.busy, message))
        try? await connection.executeThenClose { _, outbound in
            if let line = try? JSONEncoder.volumed().encode(error) { try await LineWriter(outbound: outbound).write(line) }
        }
    }
}

import NIOCore
import NIOEmbedded
import Testing
@testable import VolumeDaemon

/// The idle rule without a daemon: a connection is closed on an idle event only while none of
/// its requests is being answered (a long `job.wait` sends and receives nothing for minutes).
@Suite struct IdleConnectionTests {
    static func channel(_ requests: RequestsInFlight) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: IdleConnectionCloser(requests: requests))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test func anIdleConnectionIsClosed() throws {
        let channel = try Self.channel(RequestsInFlight())
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
        #expect(!channel.isActive)
    }

    @Test func aConnectionWaitingForAReplyStaysOpenUntilItsRequestsEnd() throws {
        let requests = RequestsInFlight()
        let channel = try Self.channel(requests)
        // Two request lines decoded: in flight from that moment, before any task takes them.
        try channel.writeInbound(Frame.line(ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"job.wait"}"#)))
        try channel.writeInbound(Frame.line(ByteBuffer(string: #"{"jsonrpc":"2.0","id":2,"method":"job.wait"}"#)))
        #expect(try channel.readInbound(as: Frame.self) != nil, "the frame goes on to the connection's task")
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
        #expect(channel.isActive, "two requests in flight")
        requests.end()
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
        #expect(channel.isActive, "one still in flight")
        requests.end()
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
        #expect(!channel.isActive, "idle now: the next idle event closes it")
    }
}

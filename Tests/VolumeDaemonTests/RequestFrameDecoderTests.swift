import NIOCore
import NIOEmbedded
import Testing
import VolumeProtocol
@testable import VolumeDaemon

/// The connection's framing without a daemon: lines, the pause after a possible upload request,
/// then chunks (data in pieces, holes, the end) and lines again.
@Suite struct RequestFrameDecoderTests {
    static func channel(_ framing: FramingSwitch) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(RequestFrameDecoder(maximumLength: 1024, framing: framing)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    static func frames(_ channel: EmbeddedChannel) throws -> [String] {
        var frames: [String] = []
        while let frame = try channel.readInbound(as: Frame.self) {
            switch frame {
            case .line(let line): frames.append("line \(String(buffer: line))")
            case .tooLong(let limit): frames.append("too long \(limit)")
            case .data(let bytes): frames.append("data \(bytes.readableBytes)")
            case .zeros(let count): frames.append("zeros \(count)")
            case .end: frames.append("end")
            }
        }
        return frames
    }

    @Test func anUploadRequestPausesThenChunksThenLinesAgain() throws {
        let framing = FramingSwitch()
        let channel = try Self.channel(framing)
        var bytes = ByteBuffer(string: "{\"method\":\"image.create\",\"params\":{\"upload\":\"stream\"}}\n")
        bytes.writeBytes(UploadChunk.data(5).header + Array("hello".utf8))
        bytes.writeBytes(UploadChunk.zeros(1 << 30).header)
        bytes.writeBytes(UploadChunk.data(3).header + Array("abc".utf8))
        bytes.writeBytes(UploadChunk.end.header)
        bytes.writeString("{\"method\":\"service.status\"}\n")
        try channel.writeInbound(bytes)
        // Paused after the request: the bytes that follow wait for the handler's decision.
        #expect(try Self.frames(channel) == [#"line {"method":"image.create","params":{"upload":"stream"}}"#])
        framing.decide(.chunks)
        try channel.writeInbound(ByteBuffer())
        #expect(try Self.frames(channel) == ["data 5", "zeros 1073741824", "data 3", "end", #"line {"method":"service.status"}"#])
    }

    @Test func aPayloadSplitAcrossReadsArrivesInPieces() throws {
        let framing = FramingSwitch()
        let channel = try Self.channel(framing)
        try channel.writeInbound(ByteBuffer(string: "{\"upload\":\"stream\"}\n"))
        framing.decide(.chunks)
        try channel.writeInbound(ByteBuffer(bytes: UploadChunk.data(10).header + [1, 2, 3, 4]))
        try channel.writeInbound(ByteBuffer(bytes: [5, 6, 7, 8, 9, 10] + UploadChunk.end.header.prefix(3)))
        try channel.writeInbound(ByteBuffer(bytes: Array(UploadChunk.end.header.dropFirst(3))))
        #expect(try Self.frames(channel) == [#"line {"upload":"stream"}"#, "data 4", "data 6", "end"])
    }

    /// A line that only mentions "upload" (a name) pauses too, and goes on when its reply says lines.
    @Test func aLineThatIsNoUploadGoesOnWithLines() throws {
        let framing = FramingSwitch()
        let channel = try Self.channel(framing)
        try channel.writeInbound(ByteBuffer(string: "{\"name\":\"upload\"}\n{\"id\":2}\n"))
        #expect(try Self.frames(channel) == [#"line {"name":"upload"}"#])
        framing.decide(.lines)
        try channel.writeInbound(ByteBuffer())
        #expect(try Self.frames(channel) == [#"line {"id":2}"#])
        // Lines that do not name it never pause.
        try channel.writeInbound(ByteBuffer(string: "{\"id\":3}\n{\"id\":4,\"params\":{\"uploads\":1}}\n{\"id\":5}\n"))
        #expect(try Self.frames(channel) == [#"line {"id":3}"#, #"line {"id":4,"params":{"uploads":1}}"#, #"line {"id":5}"#])
    }

    @Test func chunkHeadersAreBigEndianWithTheTopBitForHoles() {
        #expect(UploadChunk.data(0x0102).header == [0, 0, 0, 0, 0, 0, 1, 2])
        #expect(UploadChunk.zeros(6 << 20).header == [0x80, 0, 0, 0, 0, 0x60, 0, 0])
        #expect(UploadChunk.end.header == [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(UploadChunk(header: 0x8000_0000_0000_0010) == .zeros(16))
        #expect(UploadChunk(header: 16) == .data(16))
        #expect(UploadChunk(header: 0) == .end)
    }
}

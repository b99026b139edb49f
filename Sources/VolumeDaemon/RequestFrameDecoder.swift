import NIOCore
import Synchronization
import VolumeProtocol

/// One request line, the news that a line was longer than allowed, or a piece of an upload's
/// chunked data.
enum Frame: Sendable {
    case line(ByteBuffer)
    case tooLong(limit: Int)
    /// Upload bytes (a chunk's payload arrives in as many pieces as the socket reads give).
    case data(ByteBuffer)
    /// A hole: that many zero bytes, sent as a length only.
    case zeros(UInt64)
    /// The zero-length chunk that ends an upload's data: lines follow again.
    case end
}

/// Tells a decoder paused after a possible upload request how the bytes that follow are framed.
/// The request's handler decides (`chunks` once the upload is admitted); the connection's task
/// decides `lines` for every other request after its reply.
final class FramingSwitch: Sendable {
    enum Framing: Sendable { case lines, chunks }
    private let decision = Mutex<Framing?>(nil)
    func decide(_ framing: Framing) { decision.withLock { $0 = framing } }
    func take() -> Framing? { decision.withLock { $0.take() } }
}

/// Splits a connection's bytes into `\n`-terminated request lines (a trailing `\r` is dropped),
/// and after an upload request into its chunks (`UploadChunk` framing). A line longer than
/// `maximumLength` is reported once as `.tooLong` and skipped up to its newline, so the
/// connection goes on with the next request and memory stays bounded.
///
/// After a line that may be an upload (it holds `"upload"`), decoding pauses until the
/// `FramingSwitch` says what follows (a client sends nothing more before `upload.ready` or the
/// request's error); whoever decides fires an empty read to resume it.
struct RequestFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = Frame

    private enum State {
        case lines
        case discarding
        case paused
        case chunkHeader
        case chunkPayload(remaining: UInt64)
    }

    let maximumLength: Int
    let framing: FramingSwitch
    private var state = State.lines

    init(maximumLength: Int, framing: FramingSwitch) {
        self.maximumLength = maximumLength
        self.framing = framing
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        switch state {
        case .lines, .discarding:
            return decodeLine(context: context, buffer: &buffer)
        case .paused:
            switch framing.take() {
            case .chunks?: state = .chunkHeader
            case .lines?: state = .lines
            case nil:
                // A client that sends ahead of the answer gets no unbounded buffer.
                if buffer.readableBytes > maximumLength { throw UploadChunk.FramingError.sentBeforeReady }
                return .needMoreData
            }
            return .continue
        case .chunkHeader:
            guard let header = buffer.readInteger(as: UInt64.self) else { return .needMoreData }
            switch UploadChunk(header: header) {
            case .end:
                state = .lines
                context.fireChannelRead(wrapInboundOut(.end))
            case .zeros(let count):
                context.fireChannelRead(wrapInboundOut(.zeros(count)))
            case .data(let count):
                state = .chunkPayload(remaining: count)
            }
            return .continue
        case .chunkPayload(let remaining):
            guard buffer.readableBytes > 0 else { return .needMoreData }
            let take = Int(min(UInt64(buffer.readableBytes), remaining))
            guard let piece = buffer.readSlice(length: take) else { return .needMoreData }
            state = remaining == UInt64(take) ? .chunkHeader : .chunkPayload(remaining: remaining - UInt64(take))
            context.fireChannelRead(wrapInboundOut(.data(piece)))
            return .continue
        }
    }

    private mutating func decodeLine(context: ChannelHandlerContext, buffer: inout ByteBuffer) -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if case .discarding = state {
                buffer.moveReaderIndex(to: buffer.writerIndex)
            } else if buffer.readableBytes > maximumLength {
                context.fireChannelRead(wrapInboundOut(.tooLong(limit: maximumLength)))
                state = .discarding
                buffer.moveReaderIndex(to: buffer.writerIndex)
            }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        if case .discarding = state {
            state = .lines
            buffer.moveReaderIndex(forwardBy: length + 1)
            return .continue
        }
        if length > maximumLength {
            buffer.moveReaderIndex(forwardBy: length + 1)
            context.fireChannelRead(wrapInboundOut(.tooLong(limit: maximumLength)))
            return .continue
        }
        guard var line = buffer.readSlice(length: length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
        if Self.mayStartUpload(line) { state = .paused }
        context.fireChannelRead(wrapInboundOut(.line(line)))
        return .continue
    }

    /// At end of input, a last line without its newline still counts as a request.
    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0, case .lines = state {
            let line = buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()
            context.fireChannelRead(wrapInboundOut(.line(line)))
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }

    private static let uploadKey = Array(#""upload""#.utf8)

    /// Whether the line names the `upload` parameter (a cheap look; the dispatcher decides).
    static func mayStartUpload(_ line: ByteBuffer) -> Bool {
        let bytes = line.readableBytesView
        guard bytes.count >= uploadKey.count else { return false }
        var index = bytes.startIndex
        while let found = bytes[index...].firstIndex(of: UInt8(ascii: "\"")) {
            if bytes.distance(from: found, to: bytes.endIndex) < uploadKey.count { return false }
            if bytes[found..<(found + uploadKey.count)].elementsEqual(uploadKey) { return true }
            index = found + 1
        }
        return false
    }
}

import Foundation
import NIOCore
import Synchronization
import VolumeEngine
import VolumeProtocol

/// What a request's handler may do with its connection beyond the one reply: push
/// notifications before it, receive an upload's chunks, send a download's chunks. One per
/// request; the connection's task makes it and reads back whether the handler took the
/// chunks that follow the request (else it resumes line framing itself).
final class ClientStream: Sendable {
    let writer: LineWriter
    let framing: FramingSwitch
    let uploads: UploadRoute
    /// Fires an empty read so that a paused decoder looks at the switch again.
    let resumeDecoding: @Sendable () -> Void
    private let tookChunks = Atomic<Bool>(false)

    init(writer: LineWriter, framing: FramingSwitch, uploads: UploadRoute, resumeDecoding: @escaping @Sendable () -> Void) {
        self.writer = writer
        self.framing = framing
        self.uploads = uploads
        self.resumeDecoding = resumeDecoding
    }

    var receivedChunks: Bool { tookChunks.load(ordering: .relaxed) }

    func notify(_ notification: RPCNotification) async throws {
        try await writer.write(JSONEncoder.volumed().encode(notification))
    }

    /// Sends `ready`, then routes the chunks the client sends to `pipe`; returns once the last
    /// one came (or the connection ended, which fails the pipe).
    func receiveUpload(ready: RPCNotification, into pipe: TransferPipe) async throws {
        try await notify(ready)
        tookChunks.store(true, ordering: .relaxed)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            uploads.begin(pipe, done: done)
            framing.decide(.chunks)
            resumeDecoding()
        }
    }

    /// Sends `ready`, then every piece of `pipe` as chunks, then the end chunk, with the
    /// connection to itself. A job that fails midway ends the data early (its error is the
    /// reply); a client gone fails the pipe, which stops the job.
    func sendDownload(ready: RPCNotification, from pipe: TransferPipe) async throws {
        let line = try JSONEncoder.volumed().encode(ready)
        try await writer.exclusive { outbound in
            do {
                try await outbound.write(LineWriter.buffer(line))
                while let piece = try? await pipe.receive() {
                    var buffer = ByteBuffer()
                    switch piece {
                    case .bytes(let bytes):
                        buffer.reserveCapacity(8 + bytes.count)
                        buffer.writeBytes(UploadChunk.data(UInt64(bytes.count)).header)
                        _ = bytes.withUnsafeBytes { buffer.writeBytes($0) }
                    case .zeros(let count):
                        buffer.writeBytes(UploadChunk.zeros(count).header)
                    }
                    try await outbound.write(buffer)
                }
                try await outbound.write(ByteBuffer(bytes: UploadChunk.end.header))
            } catch {
                pipe.fail("the client went away mid-download")
                throw error
            }
        }
    }
}

/// Where a connection's upload chunks go: the pipe of the upload being received, if any. The
/// connection's task feeds it (`deliver`) and ends it (`end`, `disconnected`). The handler
/// waiting for the data is released at the end chunk, at a disconnect, or as soon as the
/// transfer fails (the job failed or was cancelled): it replies with the error while the rest
/// of the client's chunks are read and dropped up to the end chunk.
final class UploadRoute: Sendable {
    private struct Upload {
        let pipe: TransferPipe
        /// The handler waiting, until released.
        var waiting: CheckedContinuation<Void, Never>?
        /// The job stopped taking data: the rest is read and dropped.
        var dropping = false
    }
    private let current = Mutex<(upload: Upload?, closed: Bool)>((nil, false))

    func begin(_ pipe: TransferPipe, done: CheckedContinuation<Void, Never>) {
        let open = current.withLock { state -> Bool in
            if !state.closed { state.upload = Upload(pipe: pipe, waiting: done) }
            return !state.closed
        }
        guard open else {
            pipe.fail("the client disconnected before all the data was sent")
            done.resume()
            return
        }
        pipe.onFailure { [weak self] _ in self?.release(pipe) }
    }

    /// Hands one frame's data to the upload (waiting for room: backpressure on the client).
    func deliver(_ piece: TransferPiece) async {
        guard let (pipe, dropping) = current.withLock({ $0.upload.map { ($0.pipe, $0.dropping) } }), !dropping else { return }
        do {
            try await pipe.send(piece)
        } catch {
            release(pipe)
        }
    }

    /// The end chunk: the data is complete.
    func end() {
        guard let upload = current.withLock({ $0.upload.take() }) else { return }
        upload.pipe.finish()
        upload.waiting?.resume()
    }

    /// The connection ended (or failed) with an upload still open.
    func disconnected() {
        guard let upload = current.withLock({ state in
            state.closed = true
            return state.upload.take()
        }) else { return }
        upload.pipe.fail("the client disconnected before all the data was sent")
        upload.waiting?.resume()
    }

    /// The transfer failed: drop what still comes, and let the handler reply.
    private func release(_ pipe: TransferPipe) {
        let waiting = current.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.upload?.pipe === pipe else { return nil }
            state.upload?.dropping = true
            defer { state.upload?.waiting = nil }
            return state.upload?.waiting
        }
        waiting?.resume()
    }
}

/// Upload bytes as the socket read them, handed to the job without a copy.
struct ReceivedBytes: TransferBytes {
    let buffer: ByteBuffer
    var count: Int { buffer.readableBytes }
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeReadableBytes(body)
    }
}

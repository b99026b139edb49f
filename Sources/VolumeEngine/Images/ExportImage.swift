import Crypto
import Foundation
import Glibc
import Lifecycle
import RBD
import VolumeMetrics
import VolumeStore

/// Streams an image's `snap` (or a byte range of it) to the client's connection, object by
/// object; all-zero objects travel as holes. The job's note gives the byte count and the sha256
/// of what was sent. A client that stops reading fails the job after `upload_idle_timeout`.
struct ExportImage: Operation {
    let imageID: String
    let offset: Int64
    let length: Int64?

    func run(_ context: JobContext) async throws -> Completion {
        let imageID = self.imageID
        let record = try await context.image(imageID)
        let (pool, name, offset, length) = (record.pool, record.rbdImage, self.offset, self.length)
        guard let sink = context.transfer else {
            throw EngineError.invalid("the download was cut off (volumed restarted before it began): ask for it again")
        }
        let chunkSize = 1 << context.settings.imageStoreOrder
        var summary = ""
        try await context.step(0, "send \(pool)/\(name)@\(RBDNames.imageSnapshot) to the client", checkpoint: false) {
            let progress = context.progressCallback(counting: .downloadBytes)
            do {
                summary = try await context.rbd(once: true) { session in
                    try session.pool(pool).withImage(name, snapshot: RBDNames.imageSnapshot, readOnly: true) { image in
                        let size = Int64(try image.size())
                        guard offset <= size else {
                            throw EngineError.invalid("offset \(offset) is beyond the image's \(size) bytes")
                        }
                        let end = length.map { min(size, offset + $0) } ?? size
                        return try Self.send(image, from: offset, to: end, into: sink, chunkSize: chunkSize, progress: progress)
                    }
                }
            } catch let failure as TransferFailure {
                throw context.isCancelled || failure.isCancellation ? EngineError.cancelled("cancelled by request") : EngineError.invalid("download failed: \(failure.reason)")
            } catch {
                sink.fail("the export failed")
                throw error
            }
        }
        context.note(summary)
        return { _ in [] }
    }

    /// Runs on the blocking pool; returns "sent N bytes, sha256 …".
    private static func send(
        _ image: borrowing Image, from start: Int64, to end: Int64, into sink: TransferPipe, chunkSize: Int,
        progress: (UInt64, UInt64) -> Bool
    ) throws -> String {
        var hasher = SHA256()
        var reads = ReadAhead(from: UInt64(start), to: UInt64(end), chunkSize: chunkSize, depth: 4)
        var sent: UInt64 = 0
        while let (_, bytes) = try reads.next(from: image) {
            guard !bytes.isEmpty else { break }
            hasher.update(bufferPointer: bytes)
            try sink.sendBlocking(ImageUpload.isZero(bytes) ? .zeros(UInt64(bytes.count)) : .bytes(Array(bytes)))
            sent += UInt64(bytes.count)
            guard progress(sent, UInt64(end - start)) else {
                throw RBDError(errno: ECANCELED, operation: "export of \(image.pool)/\(image.name)")
            }
        }
        let position = start + Int64(sent)
        sink.finishBlocking()
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return "sent \(position - start) bytes, sha256 \(digest)"
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        context.transfer?.fail(error.message)
        return { _ in [] }
    }
}

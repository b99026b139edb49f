import Crypto
import Foundation
import Glibc
import Lifecycle
import RBD
import VolumeStore

/// Streams an image's `snap` (or a byte range of it) into a file, chunk by chunk; zero chunks
/// become holes. The job's note gives the byte count and the sha256 of what was written.
struct ExportImage: Operation {
    let imageID: String
    let path: String
    let offset: Int64
    let length: Int64?

    func run(_ context: JobContext) async throws -> Completion {
        let imageID = self.imageID
        let record = try await context.image(imageID)
        let (pool, name, path, offset, length) = (record.pool, record.rbdImage, self.path, self.offset, self.length)
        let chunkSize = 1 << context.settings.imageStoreOrder
        var summary = ""
        try await context.step(0, "export \(pool)/\(name)@\(RBDNames.imageSnapshot) to \(path)", checkpoint: false) {
            let progress = context.progressCallback()
            summary = try await context.rbd { session in
                try session.pool(pool).withImage(name, snapshot: RBDNames.imageSnapshot, readOnly: true) { image in
                    let size = Int64(try image.size())
                    guard offset <= size else {
                        throw EngineError.invalid("offset \(offset) is beyond the image's \(size) bytes")
                    }
                    let end = length.map { min(size, offset + $0) } ?? size
                    return try Self.copy(image, from: offset, to: end, into: path, chunkSize: chunkSize, progress: progress)
                }
            }
        }
        context.note(summary)
        return { _ in [] }
    }

    /// Runs on the blocking pool; returns "N bytes, sha256 …".
    private static func copy(
        _ image: borrowing Image, from start: Int64, to end: Int64, into path: String, chunkSize: Int,
        progress: (UInt64, UInt64) -> Bool
    ) throws -> String {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw EngineError.invalid("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var position = start
        while position < end {
            let want = Int(min(Int64(chunkSize), end - position))
            let got = try image.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), at: UInt64(position))
            guard got > 0 else { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[..<got])
            hasher.update(bufferPointer: chunk)
            if !ImageUpload.isZero(chunk) {
                var written = 0
                while written < got {
                    let n = pwrite(fd, chunk.baseAddress.map { $0 + written }, got - written, off_t(position - start) + off_t(written))
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw EngineError.internalError("cannot write \(path): \(String(cString: strerror(errno)))")
                    }
                    written += n
                }
            }
            position += Int64(got)
            guard progress(UInt64(position - start), UInt64(end - start)) else {
                throw RBDError(errno: ECANCELED, operation: "export to \(path)")
            }
        }
        guard ftruncate(fd, off_t(position - start)) == 0, fsync(fd) == 0 else {
            throw EngineError.internalError("cannot finish \(path): \(String(cString: strerror(errno)))")
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return "exported \(position - start) bytes to \(path), sha256 \(digest)"
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion {
        unlink(path)
        return { _ in [] }
    }
}

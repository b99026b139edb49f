import Crypto
import Foundation
import Glibc
import RBD

/// Writes the bytes a client streams into an RBD image, the way Glance's RBD store does, with
/// all the state of the upload in this value: whole objects (the store's chunk size) written
/// with several asynchronous writes in flight (as `rbd import` does), all-zero objects and
/// holes skipped (thin), the image grown while writing when the size is not known and trimmed
/// to the exact size at the end, and a sha256 of every byte, holes included.
struct ImageUpload {
    let source: TransferPipe
    /// The size the client announced (`size_bytes`): the data must be exactly that long.
    let expectedSize: Int64?
    /// `image_upload_max_gb`, in bytes.
    let maximumSize: Int64
    let chunkSize: Int
    /// Asynchronous writes in flight (`rbd import` keeps 10; a few whole objects suffice here).
    static let depth = 8

    struct Result: Sendable {
        var size: Int64
        var sha256: String
    }

    /// Where the upload stands: bytes received, and the bytes of `window.buffer` not yet written.
    private struct Cursor {
        var offset: UInt64 = 0
        var filled = 0
        var imageSize: UInt64
        var hasher = SHA256()
        var start: UInt64 { offset - UInt64(filled) }
    }

    /// Runs on the blocking pool. `progress(done, total)` returns false to stop.
    func write(into image: borrowing Image, progress: (UInt64, UInt64) -> Bool) throws -> Result {
        var window = WriteWindow(depth: Self.depth, bufferSize: chunkSize)
        var cursor = Cursor(imageSize: try image.size())
        let total = UInt64(max(0, expectedSize ?? 0))
        while let piece = try source.receiveBlocking() {
            try admit(piece.count, after: cursor.offset)
            switch piece {
            case .bytes(let bytes):
                try bytes.withUnsafeBytes { raw in
                    var used = 0
                    while used < raw.count {
                        let take = min(raw.count - used, chunkSize - cursor.filled)
                        if let base = raw.baseAddress, let target = window.buffer.baseAddress {
                            (target + cursor.filled).copyMemory(from: base + used, byteCount: take)
                        }
                        used += take
                        cursor.filled += take
                        cursor.offset += UInt64(take)
                        if cursor.filled == chunkSize { try flush(&window, &cursor, image) }
                    }
                }
            case .zeros(let count):
                try flush(&window, &cursor, image)
                Self.hashZeros(count, into: &cursor.hasher)
                cursor.offset += count
            }
            guard progress(cursor.offset, max(total, cursor.offset)) else {
                throw RBDError(errno: ECANCELED, operation: "upload into \(image.pool)/\(image.name)")
            }
        }
        try flush(&window, &cursor, image)
        try window.drain()
        if let expectedSize, Int64(cursor.offset) != expectedSize {
            throw EngineError.invalid("the upload sent \(cursor.offset) bytes, not the announced size_bytes \(expectedSize)")
        }
        if cursor.imageSize != cursor.offset { try image.resize(to: cursor.offset, allowShrink: true) }
        let digest = cursor.hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return Result(size: Int64(cursor.offset), sha256: digest)
    }

    /// Refuses data beyond the announced size or the configured maximum, before writing any of it.
    private func admit(_ count: UInt64, after offset: UInt64) throws {
        let end = offset + count
        if let expectedSize, end > UInt64(max(0, expectedSize)) {
            throw EngineError.invalid("the upload holds more than the announced size_bytes \(expectedSize)")
        }
        if end > UInt64(maximumSize) {
            throw EngineError.invalid("the upload is larger than image_upload_max_gb (\(maximumSize >> 30) GiB)")
        }
    }

    /// Writes what the buffer holds unless it is all zeros, growing the image first when needed,
    /// and hashes it while the write is in flight (the buffer stays untouched until it is done).
    private func flush(_ window: inout WriteWindow, _ cursor: inout Cursor, _ image: borrowing Image) throws {
        guard cursor.filled > 0 else { return }
        defer { cursor.filled = 0 }
        let data = UnsafeRawBufferPointer(rebasing: window.buffer[..<cursor.filled])
        defer { cursor.hasher.update(bufferPointer: data) }
        guard !Self.isZero(data) else { return }
        if cursor.offset > cursor.imageSize {
            // Grow ahead (doubling, at most 8 GiB at a time) so a stream of unknown size does
            // not resize for every object; trimmed at the end. Writes in flight finish first.
            try window.drain()
            cursor.imageSize = max(cursor.offset, cursor.imageSize + min(max(cursor.imageSize, 16 << 20), 8 << 30))
            try image.resize(to: cursor.imageSize)
        }
        try window.submit(cursor.filled, at: cursor.start, to: image)
    }

    private static let zeroBlock = [UInt8](repeating: 0, count: 1 << 20)

    private static func hashZeros(_ count: UInt64, into hasher: inout SHA256) {
        var left = count
        zeroBlock.withUnsafeBytes { zeros in
            while left > 0 {
                let take = Int(min(left, UInt64(zeros.count)))
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: zeros[..<take]))
                left -= UInt64(take)
            }
        }
    }

    /// True when every byte is zero (checked eight bytes at a time).
    static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let words = bytes.count / 8
        for index in 0..<words where bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) != 0 { return false }
        for index in (words * 8)..<bytes.count where bytes[index] != 0 { return false }
        return true
    }
}

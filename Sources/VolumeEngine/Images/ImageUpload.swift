import Crypto
import Foundation
import Glibc
import RBD

/// Writes a raw image file into an RBD image the way Glance's RBD store does, with all the
/// state of the upload in this value (never on a shared object): chunks of the store's object
/// size, all-zero chunks skipped (thin), the image grown while writing when the size is not
/// known and trimmed to the exact size at the end, and a sha256 of every byte read.
struct ImageUpload {
    let path: String
    /// The size the caller announced, checked against what the file holds.
    let expectedSize: Int64?
    let chunkSize: Int

    struct Result: Sendable {
        var size: Int64
        var sha256: String
    }

    /// The file's size when it is a regular file (for progress), else nil.
    static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    /// Runs on the blocking pool. `progress(done, total)` returns false to stop.
    func write(into image: borrowing Image, progress: (UInt64, UInt64) -> Bool) throws -> Result {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw EngineError.invalid("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let total = UInt64(max(0, expectedSize ?? Self.fileSize(path) ?? 0))
        var hasher = SHA256()
        var imageSize = try image.size()
        var offset: UInt64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try Self.fill(buffer, from: fd, path: path)
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[..<count])
            hasher.update(bufferPointer: chunk)
            if let expectedSize, Int64(offset) + Int64(count) > expectedSize {
                throw EngineError.invalid("\(path) holds more than the announced size_bytes \(expectedSize)")
            }
            if !Self.isZero(chunk) {
                let end = offset + UInt64(count)
                if end > imageSize {
                    // Grow ahead (doubling, at most 8 GiB at a time) so a stream of unknown size
                    // does not resize for every chunk; trimmed at the end.
                    imageSize = max(end, imageSize + min(max(imageSize, 16 << 20), 8 << 30))
                    try image.resize(to: imageSize)
                }
                try image.write(chunk, at: offset)
            }
            offset += UInt64(count)
            guard progress(offset, max(total, offset)) else {
                throw RBDError(errno: ECANCELED, operation: "upload of \(path)")
            }
        }
        if let expectedSize, Int64(offset) != expectedSize {
            throw EngineError.invalid("\(path) holds \(offset) bytes, not the announced size_bytes \(expectedSize)")
        }
        if imageSize != offset { try image.resize(to: offset, allowShrink: true) }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return Result(size: Int64(offset), sha256: digest)
    }

    /// Reads until `buffer` is full or the file ends; returns the byte count.
    private static func fill(_ buffer: UnsafeMutableRawBufferPointer, from fd: Int32, path: String) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            guard let base = buffer.baseAddress else { return 0 }
            let n = read(fd, base + filled, buffer.count - filled)
            if n < 0 {
                if errno == EINTR { continue }
                throw EngineError.invalid("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            filled += n
        }
        return filled
    }

    /// True when every byte is zero (checked eight bytes at a time).
    static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let words = bytes.count / 8
        for index in 0..<words where bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) != 0 { return false }
        for index in (words * 8)..<bytes.count where bytes[index] != 0 { return false }
        return true
    }
}

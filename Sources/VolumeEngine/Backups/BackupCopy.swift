import Glibc
import RBD

/// Copies the extents librbd's diff names from one image state to another, 4 MiB at a time:
/// written extents are read and written, discarded ones discarded (the target stays thin).
/// Runs on the blocking pool; `progress(done, total)` returns false to stop. Returns the bytes
/// written. Repeating it after a crash writes the same bytes again (the source is a snapshot).
enum BackupCopy {
    static func copy(
        _ extents: [Image.Extent], from source: borrowing Image, to target: borrowing Image, progress: (UInt64, UInt64) -> Bool
    ) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        let total = extents.filter(\.exists).reduce(UInt64(0)) { $0 + $1.length }
        var done: UInt64 = 0
        for extent in extents {
            guard extent.exists else {
                try target.discard(at: extent.offset, length: extent.length)
                continue
            }
            var offset = extent.offset
            let end = extent.offset + extent.length
            while offset < end {
                let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[..<Int(min(UInt64(buffer.count), end - offset))])
                let read = try source.read(into: piece, at: offset)
                guard read == piece.count else {
                    throw RBDError(errno: EIO, operation: "read \(piece.count) bytes at \(offset) of \(source.pool)/\(source.name): got \(read)")
                }
                try target.write(UnsafeRawBufferPointer(piece), at: offset)
                offset += UInt64(piece.count)
                done += UInt64(piece.count)
                guard progress(done, total) else { throw RBDError(errno: ECANCELED, operation: "copy into \(target.pool)/\(target.name)") }
            }
        }
        return Int64(done)
    }
}

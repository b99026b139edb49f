import Foundation
import Glibc
import Synchronization
import VolumeProtocol

/// Reads a raw image from a file (or standard input) with the caller's own rights, as the
/// pieces an upload sends: holes the file system knows of (`SEEK_DATA`) travel as lengths only,
/// a regular file's data is sent by the kernel (`sendfile`), and standard input's all-zero
/// pieces travel as lengths too.
public final class ImageFileSource: Sendable {
    private struct State {
        var offset: Int64 = 0
        var seekable: Bool
    }
    let fd: Int32
    /// The size of a regular file (for a progress bar), else nil.
    public let size: Int64?
    private let state: Mutex<State>
    static let pieceSize = 4 << 20
    /// `SEEK_DATA` (Linux), which Glibc does not export to Swift.
    static let seekData: Int32 = 3
    /// `SEEK_HOLE`.
    static let seekHole: Int32 = 4

    /// `-` is standard input.
    public init(path: String) throws {
        if path == "-" {
            fd = STDIN_FILENO
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw TransferError("cannot open \(path): \(String(cString: strerror(errno)))") }
        }
        var info = stat()
        let regular = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        size = regular ? Int64(info.st_size) : nil
        state = Mutex(State(seekable: regular))
    }

    deinit { if fd != STDIN_FILENO { close(fd) } }

    /// The next piece, or nil at the end (runs on the client's thread: it blocks).
    public func next() throws -> ImageData? {
        try state.withLock { state -> ImageData? in
            if state.seekable, let size, state.offset < size {
                let data = lseek(fd, off_t(state.offset), Self.seekData)
                let hole = data < 0 ? size : min(Int64(data), size)  // ENXIO: a hole up to the end
                if hole > state.offset {
                    defer { state.offset = hole }
                    return .zeros(UInt64(hole - state.offset))
                }
                // Data up to the next hole: the kernel sends it from the page cache.
                let nextHole = lseek(fd, off_t(state.offset), Self.seekHole)
                let dataEnd = nextHole < 0 ? size : min(Int64(nextHole), size)
                let count = Int(min(dataEnd - state.offset, Int64(Self.pieceSize * 2)))
                defer { state.offset += Int64(count) }
                return .fileRange(fd: fd, offset: state.offset, count: count)
            }
            if state.seekable { return nil }
            var bytes = Data(count: Self.pieceSize)
            var filled = 0
            while filled < bytes.count {
                let got = bytes.withUnsafeMutableBytes { raw -> Int in
                    guard let base = raw.baseAddress else { return 0 }
                    return state.seekable ? pread(fd, base + filled, raw.count - filled, off_t(state.offset) + off_t(filled))
                        : read(fd, base + filled, raw.count - filled)
                }
                if got < 0 {
                    if errno == EINTR { continue }
                    throw TransferError("cannot read the image: \(String(cString: strerror(errno)))")
                }
                if got == 0 { break }
                filled += got
            }
            guard filled > 0 else { return nil }
            state.offset += Int64(filled)
            bytes.count = filled
            let zero = bytes.withUnsafeBytes { raw in raw.allSatisfy { $0 == 0 } }
            return zero ? .zeros(UInt64(filled)) : .bytes(bytes)
        }
    }
}

/// Writes a downloaded image to a file (holes stay holes) or to standard output (zeros written).
public final class ImageFileSink: Sendable {
    let fd: Int32
    let seekable: Bool
    private let written = Mutex<Int64>(0)

    /// `-` is standard output.
    public init(path: String) throws {
        if path == "-" {
            fd = STDOUT_FILENO
        } else {
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
            guard fd >= 0 else { throw TransferError("cannot write \(path): \(String(cString: strerror(errno)))") }
        }
        var info = stat()
        seekable = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    deinit { if fd != STDOUT_FILENO { close(fd) } }

    public func write(_ piece: ImageData) throws {
        try written.withLock { offset in
            switch piece {
            case .zeros(let count) where seekable:
                offset += Int64(count)
            case .zeros(let count):
                let zeros = Data(count: Int(min(count, 1 << 20)))
                var left = count
                while left > 0 {
                    let take = Int(min(left, UInt64(zeros.count)))
                    try writeAll(zeros.prefix(take), at: offset)
                    offset += Int64(take)
                    left -= UInt64(take)
                }
            case .bytes(let data):
                try writeAll(data, at: offset)
                offset += Int64(data.count)
            case .fileRange:
                throw TransferError("a download carries bytes, not file ranges")
            }
        }
    }

    /// Bytes written so far (holes included).
    public var position: UInt64 { UInt64(written.withLock { $0 }) }

    /// Sets the file's length (a trailing hole) and flushes it to disk.
    public func finish() throws {
        guard seekable else { return }
        let length = written.withLock { $0 }
        guard ftruncate(fd, off_t(length)) == 0, fsync(fd) == 0 else {
            throw TransferError("cannot finish the file: \(String(cString: strerror(errno)))")
        }
    }

    private func writeAll(_ data: Data, at offset: Int64) throws {
        try data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var done = 0
            while done < raw.count {
                let n = seekable ? pwrite(fd, base + done, raw.count - done, off_t(offset) + off_t(done))
                    : Glibc.write(fd, base + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw TransferError("cannot write the image: \(String(cString: strerror(errno)))")
                }
                done += n
            }
        }
    }
}

public struct TransferError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension VolumeClient {
    /// Uploads `file` (`-`: standard input) with `method`'s `params` (`upload: "stream"` added).
    public func upload(file: String, _ method: String = "image.create", _ params: [String: JSONValue] = [:],
                       sent: (@Sendable (UInt64) -> Void)? = nil) async throws -> RPCResponse {
        let source = try ImageFileSource(path: file)
        var params = params
        params["upload"] = .string("stream")
        return try await upload(method, .object(params), source: { try source.next() }, sent: sent)
    }

    /// Downloads with `method`'s `params` (`download: "stream"` added) into `file` (`-`: standard output).
    public func download(_ method: String = "image.export", _ params: [String: JSONValue], to file: String,
                         ready: (@Sendable (JSONValue) -> Void)? = nil,
                         received: (@Sendable (UInt64) -> Void)? = nil) async throws -> RPCResponse {
        let sink = try ImageFileSink(path: file)
        var params = params
        params["download"] = .string("stream")
        let response = try await download(method, .object(params), ready: ready, sink: { piece in
            try sink.write(piece)
            received?(sink.position)
        })
        try sink.finish()
        return response
    }
}

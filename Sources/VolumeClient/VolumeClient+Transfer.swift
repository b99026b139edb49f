import Foundation
import Glibc
import VolumeProtocol

/// A piece of image data a client sends or receives: bytes, or a run of zeros (a hole).
public enum ImageData: Sendable, Equatable {
    case bytes(Data)
    case zeros(UInt64)
    /// `count` bytes of an open file from `offset`, sent by the kernel (`sendfile`) without
    /// passing through the client's memory (uploads only).
    case fileRange(fd: Int32, offset: Int64, count: Int)
}

/// Uploads and downloads: image data on the connection itself (`UploadChunk` framing), so
/// the daemon never opens a file; the client reads and writes files with its own rights.
extension VolumeClient {
    /// Sends `method` (with `upload: "stream"` in `params`), then, once the daemon says
    /// `upload.ready` (its params go to `ready`), every piece `source` returns until it returns nil; then returns the
    /// reply. A refused request returns its error reply at once and sends no data. `source`
    /// runs on the client's own thread and may block (it reads a file); `sent` gets the bytes
    /// sent so far (holes included).
    public func upload(
        _ method: String, _ params: JSONValue, ready: (@Sendable (JSONValue) -> Void)? = nil,
        source: @escaping @Sendable () throws -> ImageData?,
        sent: (@Sendable (UInt64) -> Void)? = nil, notifications: (@Sendable (RPCNotification) -> Void)? = nil
    ) async throws -> RPCResponse {
        await takeTurn()
        defer { endTurn() }
        let id = try await sendRequest(method, params)
        let answer = try await awaitReady(UploadChunk.uploadReady, id: id, notifications: notifications)
        if let refused = answer.response { return refused }
        ready?(answer.params ?? .null)
        let fd = self.fd
        try await onQueue {
            var total: UInt64 = 0
            while let piece = try source() {
                switch piece {
                case .bytes(let data):
                    guard !data.isEmpty else { continue }
                    try Self.sendAll(fd, UploadChunk.data(UInt64(data.count)).header)
                    try data.withUnsafeBytes { try Self.sendAll(fd, $0) }
                    total += UInt64(data.count)
                case .zeros(let count):
                    guard count > 0 else { continue }
                    try Self.sendAll(fd, UploadChunk.zeros(count).header)
                    total += count
                case .fileRange(let file, let offset, let count):
                    guard count > 0 else { continue }
                    try Self.sendAll(fd, UploadChunk.data(UInt64(count)).header)
                    try Self.sendFile(fd, from: file, offset: offset, count: count)
                    total += UInt64(count)
                }
                sent?(total)
            }
            try Self.sendAll(fd, UploadChunk.end.header)
        }
        return try await awaitResponse(id: id, notifications: notifications)
    }

    /// Sends `method` (with `download: "stream"` in `params`); once the daemon says
    /// `download.ready` (its params go to `ready`), hands every piece of data to `sink`, then
    /// returns the reply (the job's end, or its error when it failed midway). `sink` runs on
    /// the client's own thread and may block (it writes a file).
    public func download(
        _ method: String, _ params: JSONValue, ready: (@Sendable (JSONValue) -> Void)? = nil,
        sink: @escaping @Sendable (ImageData) throws -> Void, notifications: (@Sendable (RPCNotification) -> Void)? = nil
    ) async throws -> RPCResponse {
        await takeTurn()
        defer { endTurn() }
        let id = try await sendRequest(method, params)
        let answer = try await awaitReady(UploadChunk.downloadReady, id: id, notifications: notifications)
        if let refused = answer.response { return refused }
        ready?(answer.params ?? .null)
        let fd = self.fd
        let leftover = buffer
        buffer = try await onQueue {
            var reader = SocketReader(fd: fd, pending: leftover)
            while true {
                switch UploadChunk(header: try reader.header()) {
                case .end: return reader.rest
                case .zeros(let count): try sink(.zeros(count))
                case .data(var count):
                    while count > 0 {
                        let take = Int(min(count, 8 << 20))
                        try sink(.bytes(try reader.exactly(take)))
                        count -= UInt64(take)
                    }
                }
            }
        }
        return try await awaitResponse(id: id, notifications: notifications)
    }

    func sendRequest(_ method: String, _ params: JSONValue) async throws -> Int64 {
        let id = nextID
        nextID += 1
        var line = try JSONEncoder.volumed().encode(RPCRequest(id: .number(id), method: method, params: params))
        line.append(UInt8(ascii: "\n"))
        try await send(line)
        return id
    }

    /// Reads lines until the notification `method` (its params) or the reply to `id` (a refusal).
    private func awaitReady(
        _ method: String, id: Int64, notifications: (@Sendable (RPCNotification) -> Void)?
    ) async throws -> (params: JSONValue?, response: RPCResponse?) {
        while true {
            switch try classify(try await nextLine()) {
            case .notification(let notification) where notification.method == method: return (notification.params, nil)
            case .notification(let notification): notifications?(notification)
            case .response(let response) where response.id == .number(id): return (nil, response)
            case .response: continue
            }
        }
    }

    /// Reads lines until the reply to `id`.
    func awaitResponse(id: Int64, notifications: (@Sendable (RPCNotification) -> Void)?) async throws -> RPCResponse {
        while true {
            switch try classify(try await nextLine()) {
            case .notification(let notification): notifications?(notification)
            case .response(let response) where response.id == .number(id): return response
            case .response: continue
            }
        }
    }

    enum Incoming {
        case notification(RPCNotification)
        case response(RPCResponse)
    }

    func classify(_ line: Data) throws -> Incoming {
        if let notification = try? JSONDecoder.volumed().decode(RPCNotification.self, from: line),
           (try? JSONDecoder().decode(IDProbe.self, from: line))?.id == nil {
            return .notification(notification)
        }
        guard let response = try? JSONDecoder.volumed().decode(RPCResponse.self, from: line) else {
            throw ClientError.badReply(String(decoding: line, as: UTF8.self))
        }
        return .response(response)
    }

    /// Sends exactly `count` bytes of `file` from `offset` (a file that shrank meanwhile fails:
    /// the chunk's length is already sent).
    static func sendFile(_ fd: Int32, from file: Int32, offset: Int64, count: Int) throws {
        var position = off_t(offset)
        var left = count
        while left > 0 {
            let sent = Glibc.sendfile(fd, file, &position, left)
            if sent < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE || errno == ECONNRESET { throw ClientError.connectionClosed }
                throw TransferError("cannot send the image: \(String(cString: strerror(errno)))")
            }
            if sent == 0 { throw TransferError("the file became shorter while it was being sent") }
            left -= sent
        }
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try sendAll(fd, $0) }
    }

    static func sendAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer) throws {
        guard let base = raw.baseAddress else { return }
        var offset = 0
        while offset < raw.count {
            // MSG_NOSIGNAL: a daemon gone away is an error here, not a SIGPIPE that kills the client.
            let written = Glibc.send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            if written < 0 {
                if errno == EINTR { continue }
                throw ClientError.connectionClosed
            }
            offset += written
        }
    }
}

/// Exact reads from the socket, starting with what the line reader had already buffered.
private struct SocketReader {
    let fd: Int32
    var pending: Data

    var rest: Data { pending }

    mutating func header() throws -> UInt64 {
        try exactly(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// `count` bytes: what is buffered first, the rest read straight into the result.
    mutating func exactly(_ count: Int) throws -> Data {
        if pending.count >= count {
            let result = Data(pending.prefix(count))
            pending = Data(pending.dropFirst(count))
            return result
        }
        var result = Data(count: count)
        var filled = pending.count
        result.replaceSubrange(0..<filled, with: pending)
        pending = Data()
        try result.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
            guard let base = raw.baseAddress else { return }
            while filled < count {
                let got = read(fd, base + filled, count - filled)
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else { throw VolumeClient.ClientError.connectionClosed }
                filled += got
            }
        }
        return result
    }
}

import Dispatch
import Foundation
import Glibc
import VolumeProtocol

/// A connection to volumed's socket. Calls are made one at a time; notifications that arrive
/// while waiting for a reply (e.g. `job.progress`) go to `onNotification`.
public final class VolumeClient: @unchecked Sendable {
    // Safety: `fd` is immutable after init and the buffer is only touched by `call`, which
    // callers use one at a time (documented above); reads run on one dispatch queue.
    private let fd: Int32
    private var buffer = Data()
    private var nextID: Int64 = 1
    private let queue = DispatchQueue(label: "volumed.client")
    public var onNotification: @Sendable (RPCNotification) -> Void = { _ in }

    public enum ClientError: Error, CustomStringConvertible {
        case cannotConnect(String, Int32)
        case connectionClosed
        case badReply(String)

        public var description: String {
            switch self {
            case .cannotConnect(let path, let errno):
                "cannot connect to \(path): \(String(cString: strerror(errno))) (is volumed running?)"
            case .connectionClosed: "volumed closed the connection"
            case .badReply(let text): "unreadable reply from volumed: \(text.prefix(200))"
            }
        }
    }

    public init(socketPath: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError.cannotConnect(socketPath, errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw ClientError.cannotConnect(socketPath, ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let error = errno
            close(fd)
            throw ClientError.cannotConnect(socketPath, error)
        }
    }

    deinit { close(fd) }

    /// Sends one request and returns its reply (result or error).
    public func call(_ method: String, _ params: JSONValue = .object([:])) async throws -> RPCResponse {
        let id = nextID
        nextID += 1
        let request = RPCRequest(id: .number(id), method: method, params: params)
        var line = try JSONEncoder.volumed().encode(request)
        line.append(UInt8(ascii: "\n"))
        try await sendRaw(line)
        while true {
            let reply = try await readLine()
            if let notification = try? JSONDecoder.volumed().decode(RPCNotification.self, from: reply),
               (try? JSONDecoder().decode(IDProbe.self, from: reply))?.id == nil {
                onNotification(notification)
                continue
            }
            guard let response = try? JSONDecoder.volumed().decode(RPCResponse.self, from: reply) else {
                throw ClientError.badReply(String(decoding: reply, as: UTF8.self))
            }
            if response.id == .number(id) { return response }
        }
    }

    /// Calls and decodes the result as `T`, throwing the reply's `RPCError` if it is one.
    public func call<T: Decodable>(_ method: String, _ params: JSONValue = .object([:]), as type: T.Type) async throws -> T {
        let response = try await call(method, params)
        if let error = response.error { throw error }
        let data = try JSONEncoder.volumed().encode(response.result ?? .null)
        return try JSONDecoder.volumed().decode(T.self, from: data)
    }

    /// Writes raw bytes (tests use this to send broken frames).
    public func sendRaw(_ data: Data) async throws {
        let fd = self.fd
        try await onQueue {
            try data.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                var offset = 0
                while offset < raw.count {
                    // MSG_NOSIGNAL: a daemon gone away is an error here, not a SIGPIPE that kills the client.
                    let written = send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw ClientError.connectionClosed
                    }
                    offset += written
                }
            }
        }
    }

    /// Reads the next line the daemon sends. Each byte is searched for the newline once, so a
    /// reply of tens of megabytes (a list of 100k volumes) reads in linear time.
    public func readLine() async throws -> Data {
        var searched = 0
        while true {
            if let newline = buffer.withUnsafeBytes({ raw -> Int? in
                raw[searched...].firstIndex(of: UInt8(ascii: "\n"))
            }) {
                let line = buffer.prefix(newline)
                buffer = Data(buffer.dropFirst(newline + 1))
                return Data(line)
            }
            searched = buffer.count
            let fd = self.fd
            let chunk: Data = try await onQueue {
                var bytes = [UInt8](repeating: 0, count: 1 << 20)
                while true {
                    let count = read(fd, &bytes, bytes.count)
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { throw ClientError.connectionClosed }
                    return Data(bytes[0..<count])
                }
            }
            buffer.append(chunk)
        }
    }

    /// Closes the writing half: the daemon still answers what it has received.
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    private struct IDProbe: Decodable { var id: RPCID? }
}

import Dispatch
import Foundation
import Glibc
import VolumeProtocol

/// A connection to volumed's socket, safe to share between tasks: calls take turns on the
/// connection (one request and its reply at a time, in the order they were made).
/// Notifications that arrive while a call waits for its reply (`job.progress` after
/// `job.watch`) go to that call's `notifications` handler.
public actor VolumeClient {
    let fd: Int32
    var buffer = Data()
    var nextID: Int64 = 1
    /// Blocking socket reads and writes happen here, off Swift's cooperative threads.
    private let queue = DispatchQueue(label: "volumed.client")
    /// Whether a call has the connection, and the calls waiting for it, first come first served.
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

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
        // The descriptor is only stored once connected: a failed connect closes it here, and
        // since the actor is not fully initialised then, `deinit` never closes it a second
        // time (a second close would hit whatever file reused the number meanwhile).
        // Close-on-exec: a process the client's program starts must not inherit the connection
        // (it would keep it open after the client closed it, and the daemon would never see it go).
        let socketFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw ClientError.cannotConnect(socketPath, errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(socketFD)
            throw ClientError.cannotConnect(socketPath, ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let error = errno
            close(socketFD)
            throw ClientError.cannotConnect(socketPath, error)
        }
        fd = socketFD
    }

    deinit { close(fd) }

    /// Sends one request and returns its reply (result or error).
    public func call(
        _ method: String, _ params: JSONValue = .object([:]), notifications: (@Sendable (RPCNotification) -> Void)? = nil
    ) async throws -> RPCResponse {
        await takeTurn()
        defer { endTurn() }
        let id = try await sendRequest(method, params)
        return try await awaitResponse(id: id, notifications: notifications)
    }

    /// Calls and decodes the result as `T`, throwing the reply's `RPCError` if it is one.
    public func call<T: Decodable>(
        _ method: String, _ params: JSONValue = .object([:]), as type: T.Type,
        notifications: (@Sendable (RPCNotification) -> Void)? = nil
    ) async throws -> T {
        let response = try await call(method, params, notifications: notifications)
        if let error = response.error { throw error }
        let data = try JSONEncoder.volumed().encode(response.result ?? .null)
        return try JSONDecoder.volumed().decode(T.self, from: data)
    }

    /// Writes raw bytes (tests use this to send broken frames), in its turn.
    public func sendRaw(_ data: Data) async throws {
        await takeTurn()
        defer { endTurn() }
        try await send(data)
    }

    /// Reads the next line the daemon sends, in its turn.
    public func readLine() async throws -> Data {
        await takeTurn()
        defer { endTurn() }
        return try await nextLine()
    }

    func send(_ data: Data) async throws {
        let fd = self.fd
        try await onQueue { try data.withUnsafeBytes { try Self.sendAll(fd, $0) } }
    }

    /// The next line from the daemon. Each byte is searched for the newline once, so a reply of
    /// tens of megabytes (a list of 100k volumes) reads in linear time.
    func nextLine() async throws -> Data {
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
    public nonisolated func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Waits until no other call has the connection.
    func takeTurn() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the connection to the next waiting call (it stays busy), or frees it.
    func endTurn() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }

    func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    struct IDProbe: Decodable { var id: RPCID? }
}

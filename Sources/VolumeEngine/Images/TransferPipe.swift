import Foundation

/// Bytes in memory a piece carries without copying them (an array, a received network buffer).
public protocol TransferBytes: Sendable {
    var count: Int { get }
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: TransferBytes where Element == UInt8 {}

/// A piece of image data on its way between a client's connection and a job: bytes, or a run
/// of zeros sent as a length only (a hole).
public enum TransferPiece: Sendable {
    case bytes(any TransferBytes)
    case zeros(UInt64)

    public var count: UInt64 {
        switch self {
        case .bytes(let bytes): UInt64(bytes.count)
        case .zeros(let count): count
        }
    }
}

/// Why a transfer stopped before its end.
public struct TransferFailure: Error, Sendable, CustomStringConvertible {
    public let reason: String
    /// The job was cancelled (not a failure of the client's).
    public let isCancellation: Bool
    public init(_ reason: String, isCancellation: Bool = false) {
        self.reason = reason
        self.isCancellation = isCancellation
    }
    public var description: String { reason }
}

/// The bounded hand-over of image data between the connection (async, on the event loops) and
/// the job writing or reading the image (on a blocking thread of its own): an upload's data
/// flows connection → job, a download's job → connection. Whoever waits on the blocking side
/// waits at most `idleTimeout` for the other side before the transfer fails, so a client that
/// stops sending or reading never holds a job forever. Either side may fail it at any moment
/// (a cancel, a disconnect, a refused size); the other side then sees the failure at once.
public final class TransferPipe: @unchecked Sendable {
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var queue: [TransferPiece] = []
    private var head = 0
    private var queuedBytes = 0
    private var ended = false
    private var failure: TransferFailure?
    /// The async side's one waiter (for room when it sends, for data when it receives).
    private var waiter: CheckedContinuation<Void, Never>?
    /// Told once when the transfer fails.
    private var failureHandlers: [@Sendable (TransferFailure) -> Void] = []

    /// Bytes queued before a sender waits (holes take no room).
    public let capacity: Int
    public let idleTimeout: Duration

    public init(capacity: Int = 16 << 20, idleTimeout: Duration = .seconds(60)) {
        self.capacity = capacity
        self.idleTimeout = idleTimeout
    }

    // MARK: either side

    /// Ends the transfer with `reason` (the first failure wins); both sides see it at once.
    /// Once the sender has finished, the receiver still gets every piece: a late failure is ignored.
    public func fail(_ reason: String, isCancellation: Bool = false) {
        let (waiter, handlers, failed) = locked { () -> (CheckedContinuation<Void, Never>?, [@Sendable (TransferFailure) -> Void], TransferFailure?) in
            guard failure == nil, !ended else { return (nil, [], nil) }
            let failed = TransferFailure(reason, isCancellation: isCancellation)
            failure = failed
            condition.broadcast()
            defer { failureHandlers = [] }
            return (takeWaiter(), failureHandlers, failed)
        }
        waiter?.resume()
        if let failed { for handler in handlers { handler(failed) } }
    }

    /// Calls `handler` once when the transfer fails (at once if it has).
    public func onFailure(_ handler: @escaping @Sendable (TransferFailure) -> Void) {
        let failed = locked { () -> TransferFailure? in
            if failure == nil { failureHandlers.append(handler) }
            return failure
        }
        if let failed { handler(failed) }
    }

    /// Why the transfer failed, if it did.
    public var failed: TransferFailure? { locked { failure } }

    // MARK: the async side

    /// Queues a piece, waiting for room (backpressure on the client's connection).
    public func send(_ piece: TransferPiece) async throws(TransferFailure) {
        try await until({ () throws(TransferFailure) -> Bool in
            if let failure { throw failure }
            guard queuedBytes < capacity else { return false }
            append(piece)
            return true
        }, wakeWhen: { $0.queuedBytes < $0.capacity })
    }

    /// The data is complete: the receiver gets nil after the last piece.
    public func finish() {
        let waiter = locked { () -> CheckedContinuation<Void, Never>? in
            ended = true
            condition.broadcast()
            return takeWaiter()
        }
        waiter?.resume()
    }

    /// The next piece, or nil at the end.
    public func receive() async throws(TransferFailure) -> TransferPiece? {
        var piece: TransferPiece?
        try await until({ () throws(TransferFailure) -> Bool in
            if let failure { throw failure }
            if head < queue.count {
                piece = removeFirst()
                return true
            }
            return ended
        }, wakeWhen: { $0.ended || $0.head < $0.queue.count })
        return piece
    }

    // MARK: the blocking side (a job's thread)

    /// The next piece, or nil at the end; waits at most `idleTimeout` for one.
    public func receiveBlocking() throws(TransferFailure) -> TransferPiece? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(idleTimeout.seconds)
        while true {
            if let failure { throw failure }
            if head < queue.count {
                let piece = removeFirst()
                let waiter = takeWaiter()
                if let waiter { condition.unlock(); waiter.resume(); condition.lock() }
                return piece
            }
            if ended { return nil }
            if !condition.wait(until: deadline) { try timedOut("sent nothing") }
        }
    }

    /// Queues a piece, waiting at most `idleTimeout` for room.
    public func sendBlocking(_ piece: TransferPiece) throws(TransferFailure) {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(idleTimeout.seconds)
        while true {
            if let failure { throw failure }
            if queuedBytes < capacity {
                append(piece)
                let waiter = takeWaiter()
                if let waiter { condition.unlock(); waiter.resume(); condition.lock() }
                return
            }
            if !condition.wait(until: deadline) { try timedOut("read nothing") }
        }
    }

    /// The blocking sender's end of data.
    public func finishBlocking() { finish() }

    // MARK: internals (called with the lock held)

    private func timedOut(_ what: String) throws(TransferFailure) -> Never {
        condition.unlock()
        fail("the client \(what) for \(Int(idleTimeout.seconds)) s (upload_idle_timeout)")
        condition.lock()
        throw failure ?? TransferFailure("the transfer ended")
    }

    private func append(_ piece: TransferPiece) {
        queue.append(piece)
        if case .bytes(let bytes) = piece { queuedBytes += bytes.count }
        condition.broadcast()
    }

    private func removeFirst() -> TransferPiece {
        let piece = queue[head]
        head += 1
        if case .bytes(let bytes) = piece { queuedBytes -= bytes.count }
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        }
        condition.broadcast()
        return piece
    }

    private func takeWaiter() -> CheckedContinuation<Void, Never>? {
        defer { waiter = nil }
        return waiter
    }

    private func locked<T>(_ body: () throws(TransferFailure) -> T) throws(TransferFailure) -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }

    /// Runs `attempt` under the lock until it returns true, suspending (never blocking a
    /// cooperative thread) in between until the blocking side changes something. A cancelled
    /// task fails the transfer.
    private func until(
        _ attempt: () throws(TransferFailure) -> Bool, wakeWhen ready: @escaping (TransferPipe) -> Bool
    ) async throws(TransferFailure) {
        while true {
            if try locked(attempt) { return }
            if Task.isCancelled { fail("the connection closed") }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = locked { () -> Bool in
                        // Something may have changed since the attempt: look before sleeping.
                        if failure != nil || ready(self) { return true }
                        waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                self.fail("the connection closed")
            }
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

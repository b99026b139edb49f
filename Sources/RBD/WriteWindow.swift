import CCeph
import Glibc

/// Writes to an image with up to `depth` asynchronous writes in flight, as `rbd import` does:
/// fill `buffer`, `submit` it, and the next buffer is free (waiting for the oldest write when
/// all are in flight). Every method blocks; a failed write throws at the next `submit` or at
/// `drain`. The window owns its buffers and waits for its writes before freeing them, even
/// when it is dropped after an error.
public struct WriteWindow: ~Copyable {
    private var slots: [UnsafeMutableRawBufferPointer]
    private var pending: [rbd_completion_t?]
    private var current = 0
    private var firstError: RBDError?

    public init(depth: Int, bufferSize: Int) {
        slots = (0..<max(1, depth)).map { _ in .allocate(byteCount: bufferSize, alignment: 4096) }
        pending = Array(repeating: nil, count: max(1, depth))
    }

    deinit {
        var outstanding = pending
        for index in outstanding.indices { _ = Self.wait(&outstanding[index]) }
        for slot in slots { slot.deallocate() }
    }

    /// The buffer to fill next.
    public var buffer: UnsafeMutableRawBufferPointer { slots[current] }

    /// Writes the first `count` bytes of `buffer` at `offset`, and frees the next buffer.
    public mutating func submit(_ count: Int, at offset: UInt64, to image: borrowing Image) throws(RBDError) {
        var completion: rbd_completion_t?
        _ = try check(rbd_aio_create_completion(nil, nil, &completion), "prepare a write to \(image.pool)/\(image.name)")
        let rc = rbd_aio_write2(image.raw, offset, count, UnsafeRawPointer(slots[current].baseAddress)?.assumingMemoryBound(to: CChar.self), completion, 0)
        if rc < 0 {
            rbd_aio_release(completion)
            throw RBDError(errno: Int32(rc), operation: "write \(count) bytes at \(offset) to \(image.pool)/\(image.name)")
        }
        pending[current] = completion
        current = (current + 1) % slots.count
        if let error = Self.wait(&pending[current]) { firstError = firstError ?? error }
        if let firstError { throw firstError }
    }

    /// Waits for every write in flight.
    public mutating func drain() throws(RBDError) {
        for index in pending.indices {
            if let error = Self.wait(&pending[index]) { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }

    private static func wait(_ slot: inout rbd_completion_t?) -> RBDError? {
        guard let completion = slot else { return nil }
        slot = nil
        rbd_aio_wait_for_complete(completion)
        let rc = rbd_aio_get_return_value(completion)
        rbd_aio_release(completion)
        return rc < 0 ? RBDError(errno: Int32(rc), operation: "asynchronous write") : nil
    }
}

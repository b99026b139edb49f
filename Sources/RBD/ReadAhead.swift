import CCeph
import Glibc

/// Reads a range of an image in order, `chunkSize` at a time, with up to `depth` asynchronous
/// reads in flight ahead of the reader (as `rbd export` does). Every method blocks. The reads
/// still in flight are waited for before the buffers are freed, even after an error.
public struct ReadAhead: ~Copyable {
    private struct Slot {
        var buffer: UnsafeMutableRawBufferPointer
        var completion: rbd_completion_t?
        var offset: UInt64 = 0
        var length = 0
    }
    private var slots: [Slot]
    private var oldest = 0
    private var nextOffset: UInt64
    private let end: UInt64
    private let chunkSize: Int

    public init(from start: UInt64, to end: UInt64, chunkSize: Int, depth: Int) {
        slots = (0..<max(1, depth)).map { _ in Slot(buffer: .allocate(byteCount: chunkSize, alignment: 4096)) }
        nextOffset = start
        self.end = end
        self.chunkSize = chunkSize
    }

    deinit {
        for slot in slots {
            if let completion = slot.completion {
                rbd_aio_wait_for_complete(completion)
                rbd_aio_release(completion)
            }
            slot.buffer.deallocate()
        }
    }

    /// The next chunk (its offset and bytes, valid until the next call), or nil at the end.
    public mutating func next(from image: borrowing Image) throws(RBDError) -> (offset: UInt64, bytes: UnsafeRawBufferPointer)? {
        // Keep every slot busy, oldest first.
        for step in 0..<slots.count {
            let index = (oldest + step) % slots.count
            guard slots[index].completion == nil, nextOffset < end else { continue }
            try submit(index, image)
        }
        guard let completion = slots[oldest].completion else { return nil }
        rbd_aio_wait_for_complete(completion)
        let rc = rbd_aio_get_return_value(completion)
        rbd_aio_release(completion)
        slots[oldest].completion = nil
        let slot = slots[oldest]
        oldest = (oldest + 1) % slots.count
        if rc < 0 { throw RBDError(errno: Int32(rc), operation: "read \(slot.length) bytes at \(slot.offset) from \(image.pool)/\(image.name)") }
        return (slot.offset, UnsafeRawBufferPointer(rebasing: slot.buffer[..<Int(rc)]))
    }

    private mutating func submit(_ index: Int, _ image: borrowing Image) throws(RBDError) {
        let length = Int(min(UInt64(chunkSize), end - nextOffset))
        var completion: rbd_completion_t?
        try check(rbd_aio_create_completion(nil, nil, &completion), "prepare a read of \(image.pool)/\(image.name)")
        let rc = rbd_aio_read(image.raw, nextOffset, length, slots[index].buffer.baseAddress?.assumingMemoryBound(to: CChar.self), completion)
        if rc < 0 {
            rbd_aio_release(completion)
            throw RBDError(errno: Int32(rc), operation: "read \(length) bytes at \(nextOffset) from \(image.pool)/\(image.name)")
        }
        slots[index].completion = completion
        slots[index].offset = nextOffset
        slots[index].length = length
        nextOffset += UInt64(length)
    }
}

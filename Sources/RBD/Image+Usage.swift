import CCeph
import Glibc

/// How much of an image is really used, as `rbd du` computes it: librbd's diff of whole objects
/// (the object map with fast-diff, without reading data), this image only (not its parent).
extension Image {
    /// Bytes of the objects that exist at this image's open state (head or snapshot) and changed
    /// since snapshot `from` (all of them without `from`).
    public func usedBytes(since from: String?) throws(RBDError) -> UInt64 {
        let size = try self.size()
        let total = UsageTotal()
        let rc = withExtendedLifetime(total) {
            rbd_diff_iterate2(raw, from, 0, size, 0, 1, { _, length, exists, context in
                guard let context, exists != 0 else { return 0 }
                Unmanaged<UsageTotal>.fromOpaque(context).takeUnretainedValue().bytes += UInt64(length)
                return 0
            }, Unmanaged.passUnretained(total).toOpaque())
        }
        try check(rc, "measure the usage of \(pool)/\(name)\(from.map { " since @\($0)" } ?? "")")
        return total.bytes
    }
}

/// The running sum of one `usedBytes` call (lives only during it, on one thread).
private final class UsageTotal {
    var bytes: UInt64 = 0
}

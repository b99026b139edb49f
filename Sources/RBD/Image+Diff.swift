import CCeph
import Glibc

/// What changed in an image between two of its states, as librbd's diff tells it (with
/// fast-diff, from the object map, without reading data): what incremental backups copy.
extension Image {
    /// A range of the image that changed: written (`exists`), or discarded and now reading zeros.
    public struct Extent: Sendable, Equatable {
        public var offset: UInt64
        public var length: UInt64
        public var exists: Bool
    }

    /// The whole objects that changed from snapshot `from` (from nothing when nil: everything
    /// with data, its parent's included) to this image's open state.
    public func changedExtents(since from: String?) throws(RBDError) -> [Extent] {
        let size = try self.size()
        let found = ExtentList()
        let rc = withExtendedLifetime(found) {
            rbd_diff_iterate2(raw, from, 0, size, 1, 1, { offset, length, exists, context in
                guard let context else { return 0 }
                Unmanaged<ExtentList>.fromOpaque(context).takeUnretainedValue().extents.append(
                    Extent(offset: offset, length: UInt64(length), exists: exists != 0))
                return 0
            }, Unmanaged.passUnretained(found).toOpaque())
        }
        try check(rc, "list the changes of \(pool)/\(name)\(from.map { " since @\($0)" } ?? "")")
        return found.extents
    }

    /// Makes a range read as zeros (whole objects are freed: the image stays thin).
    public func discard(at offset: UInt64, length: UInt64) throws(RBDError) {
        let rc = rbd_discard(raw, offset, length)
        if rc < 0 { throw RBDError(errno: Int32(rc), operation: "discard \(length) bytes at \(offset) of \(pool)/\(name)") }
    }
}

/// The extents one `changedExtents` call collects (lives only during it, on one thread).
private final class ExtentList {
    var extents: [Image.Extent] = []
}

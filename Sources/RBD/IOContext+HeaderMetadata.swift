import CCeph
import Glibc

/// Image metadata written straight into a format-2 image's header object, without opening the
/// image: one read (the image's id, `rbd_id.<name>`) and one atomic write op on
/// `rbd_header.<id>`'s omap, where librbd's `metadata_set` keeps a key `k` as `metadata_k` with
/// the value's bytes. An open takes several round trips and a metadata change notifies every
/// client holding the image open, so this is only for an image no client has open: one volumed
/// has just made.
extension IOContext {
    /// The id of format-2 image `name`.
    public func imageID(of name: String) throws(RBDError) -> String {
        guard let bytes = try readObject("rbd_id.\(name)", limit: 256) else {
            throw RBDError(errno: ENOENT, operation: "read the id of \(pool)/\(name)")
        }
        // A length-prefixed string (32-bit little-endian length).
        guard bytes.count >= 4 else { throw RBDError(errno: EINVAL, operation: "decode the id of \(pool)/\(name)") }
        let length = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        guard length > 0, bytes.count >= 4 + length else { throw RBDError(errno: EINVAL, operation: "decode the id of \(pool)/\(name)") }
        return String(decoding: bytes[4..<(4 + length)], as: UTF8.self)
    }

    /// Replaces every metadata key of image `name` that starts with `prefix` by `values` (whose
    /// keys start with `prefix`), in one atomic write. `name` must not be open anywhere.
    public func replaceMetadata(ofUnopenedImage name: String, prefix: String, with values: [String: String]) throws(RBDError) {
        precondition(!prefix.isEmpty && values.keys.allSatisfy { $0.hasPrefix(prefix) })
        let header = "rbd_header.\(try imageID(of: name))"
        guard let op = rados_create_write_op() else { throw RBDError(errno: ENOMEM, operation: "write the metadata of \(pool)/\(name)") }
        defer { rados_release_write_op(op) }
        // A create killed inside librbd can leave the id without the header: fail (ENOENT) rather
        // than make a header object that holds only these keys.
        rados_write_op_assert_exists(op)
        // Every key from "metadata_<prefix>" up to, not including, the same with its last byte plus one.
        let begin = Array("metadata_\(prefix)".utf8CString.dropLast())
        var end = begin
        end[end.count - 1] += 1
        rados_write_op_omap_rm_range2(op, begin, begin.count, end, end.count)
        let entries = values.sorted { $0.key < $1.key }
        let keys = entries.map { strdup("metadata_\($0.key)") }
        let contents = entries.map { strdup($0.value) }
        defer { (keys + contents).forEach { free($0) } }
        let keyPointers: [UnsafePointer<CChar>?] = keys.map { $0.map { UnsafePointer($0) } }
        let valuePointers: [UnsafePointer<CChar>?] = contents.map { $0.map { UnsafePointer($0) } }
        let lengths = entries.map { $0.value.utf8.count }
        rados_write_op_omap_set(op, keyPointers, valuePointers, lengths, entries.count)
        try check(rados_write_op_operate(op, handle.raw, header, nil, 0), "write the metadata of \(pool)/\(name)")
    }
}

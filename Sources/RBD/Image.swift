import CCeph
import Glibc

/// An open RBD image. Only lives inside `IOContext.withImage`; every method blocks.
public struct Image: ~Copyable {
    public let pool: String
    public let name: String
    let raw: rbd_image_t

    /// Where a clone hangs from.
    public struct Parent: Sendable, Equatable {
        public var pool: String
        public var image: String
        public var snapshot: String
    }

    public struct Snapshot: Sendable, Equatable {
        public var id: UInt64
        public var name: String
        public var size: UInt64
    }

    private var spec: String { "\(pool)/\(name)" }

    public func size() throws(RBDError) -> UInt64 {
        var size: UInt64 = 0
        try check(rbd_get_size(raw, &size), "get size of \(spec)")
        return size
    }

    public func id() throws(RBDError) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        try check(rbd_get_id(raw, &buffer, buffer.count), "get id of \(spec)")
        return String(nulTerminated: buffer)
    }

    /// librbd calls the progress function while shrinking (object removal): it must not be null.
    public func resize(to size: UInt64, allowShrink: Bool = false) throws(RBDError) {
        let callback = ProgressCallback { _, _ in true }
        let rc = callback.withCallback { fn, context in rbd_resize2(raw, size, allowShrink, fn, context) }
        try check(rc, "resize \(spec) to \(size) bytes")
    }

    public func parent() throws(RBDError) -> Parent? {
        var image = rbd_linked_image_spec_t()
        var snap = rbd_snap_spec_t()
        let rc = rbd_get_parent(raw, &image, &snap)
        if rc == -ENOENT { return nil }
        try check(rc, "get parent of \(spec)")
        defer {
            rbd_linked_image_spec_cleanup(&image)
            rbd_snap_spec_cleanup(&snap)
        }
        return Parent(pool: String(cString: image.pool_name), image: String(cString: image.image_name),
                      snapshot: String(cString: snap.name))
    }

    /// Copies every block of the parent into this image so it no longer depends on it.
    /// `progress` gets (done, total) and returns `false` to stop, which throws `.cancelled`.
    public func flatten(progress: @escaping (UInt64, UInt64) -> Bool = { _, _ in true }) throws(RBDError) {
        let callback = ProgressCallback(progress)
        let rc = callback.withCallback { fn, context in rbd_flatten_with_progress(raw, fn, context) }
        try check(rc, "flatten \(spec)")
    }

    /// Copies this image (or the snapshot it was opened at) into a new image `destination` in
    /// `pool`, with volumed's features; sparse.
    public func copy(
        to destination: IOContext, name: String, order: Int,
        progress: @escaping (UInt64, UInt64) -> Bool = { _, _ in true }
    ) throws(RBDError) {
        let options = ImageOptions(features: IOContext.defaultFeatures, order: order)
        defer { options.destroy() }
        let callback = ProgressCallback(progress)
        let rc = callback.withCallback { fn, context in
            rbd_copy_with_progress3(raw, destination.handle.raw, name, options.raw, fn, context)
        }
        try check(rc, "copy \(spec) to \(destination.pool)/\(name)")
    }

    public func snapshots() throws(RBDError) -> [Snapshot] {
        var capacity: Int32 = 16
        while true {
            var snaps = [rbd_snap_info_t](repeating: rbd_snap_info_t(), count: Int(capacity))
            var max = capacity
            let rc = rbd_snap_list(raw, &snaps, &max)
            if rc == -ERANGE { capacity = Swift.max(max, capacity * 2); continue }
            try check(rc, "list snapshots of \(spec)")
            defer { rbd_snap_list_end(&snaps) }
            return (0..<Int(rc)).map { Snapshot(id: snaps[$0].id, name: String(cString: snaps[$0].name), size: snaps[$0].size) }
        }
    }

    public func snapshotExists(_ snapshot: String) throws(RBDError) -> Bool {
        var exists = false
        try check(rbd_snap_exists(raw, snapshot, &exists), "look up snapshot \(spec)@\(snapshot)")
        return exists
    }

    public func createSnapshot(_ snapshot: String) throws(RBDError) {
        try check(rbd_snap_create(raw, snapshot), "create snapshot \(spec)@\(snapshot)")
    }

    public func isProtected(_ snapshot: String) throws(RBDError) -> Bool {
        var flag: Int32 = 0
        try check(rbd_snap_is_protected(raw, snapshot, &flag), "read protection of \(spec)@\(snapshot)")
        return flag != 0
    }

    public func protectSnapshot(_ snapshot: String) throws(RBDError) {
        try check(rbd_snap_protect(raw, snapshot), "protect snapshot \(spec)@\(snapshot)")
    }

    /// `.busy` while clones still hang from the snapshot.
    public func unprotectSnapshot(_ snapshot: String) throws(RBDError) {
        try check(rbd_snap_unprotect(raw, snapshot), "unprotect snapshot \(spec)@\(snapshot)")
    }

    public func removeSnapshot(_ snapshot: String) throws(RBDError) {
        try check(rbd_snap_remove(raw, snapshot), "remove snapshot \(spec)@\(snapshot)")
    }

    public func rollback(to snapshot: String, progress: @escaping (UInt64, UInt64) -> Bool = { _, _ in true }) throws(RBDError) {
        let callback = ProgressCallback(progress)
        let rc = callback.withCallback { fn, context in rbd_snap_rollback_with_progress(raw, snapshot, fn, context) }
        try check(rc, "roll back \(spec) to \(snapshot)")
    }

    /// Images cloned from `snapshot` of this image, as `pool/name` (trash entries included).
    public func children(of snapshot: String) throws(RBDError) -> [String] {
        try check(rbd_snap_set(raw, snapshot), "select snapshot \(spec)@\(snapshot)")
        defer { rbd_snap_set(raw, nil) }
        return try selectedSnapshotChildren("\(spec)@\(snapshot)")
    }

    /// The name a snapshot had before librbd moved it to the trash namespace, or nil when it is
    /// not there. librbd's snapshot removal moves a snapshot to the trash namespace first and
    /// removes it after; a client killed in between leaves it there (and `rbd_snap_list` lists
    /// it under a generated name).
    public func trashedSnapshotOriginalName(id: UInt64) throws(RBDError) -> String? {
        var type = RBD_SNAP_NAMESPACE_TYPE_USER
        try check(rbd_snap_get_namespace_type(raw, id, &type), "read namespace of snapshot \(id) of \(spec)")
        guard type == RBD_SNAP_NAMESPACE_TYPE_TRASH else { return nil }
        var buffer = [CChar](repeating: 0, count: 512)
        try check(rbd_snap_get_trash_namespace(raw, id, &buffer, buffer.count), "read trash namespace of snapshot \(id) of \(spec)")
        return String(nulTerminated: buffer)
    }

    /// Removes the snapshots a killed removal left in the trash namespace, unless clones still
    /// hang from them (then librbd removes them with the last clone). Returns their original names.
    public func removeAbandonedTrashedSnapshots() throws(RBDError) -> [String] {
        var removed: [String] = []
        for snapshot in try snapshots() {
            guard let original = try trashedSnapshotOriginalName(id: snapshot.id) else { continue }
            try check(rbd_snap_set_by_id(raw, snapshot.id), "select snapshot \(snapshot.id) of \(spec)")
            let children: [String]
            do {
                children = try selectedSnapshotChildren("\(spec)@\(original) (trash)")
                rbd_snap_set(raw, nil)
            } catch {
                rbd_snap_set(raw, nil)
                throw error
            }
            guard children.isEmpty else { continue }
            let rc = rbd_snap_remove_by_id(raw, snapshot.id)
            if rc != -ENOENT { try check(rc, "remove trashed snapshot \(spec)@\(original)") }
            removed.append(original)
        }
        return removed
    }

    private func selectedSnapshotChildren(_ what: String) throws(RBDError) -> [String] {
        try growingList(
            "list children of \(what)", empty: rbd_linked_image_spec_t(), capacity: 8, list: { rbd_list_children3(raw, &$0, &$1) },
            cleanup: { rbd_linked_image_spec_list_cleanup(&$0, $1) },
            read: { "\(String(cString: $0.pool_name))/\(String(cString: $0.image_name))" })
    }

    /// Clients holding the image's exclusive lock, as `client.<id>`.
    public func lockOwners() throws(RBDError) -> [String] {
        var mode = RBD_LOCK_MODE_EXCLUSIVE
        var capacity = 4
        while true {
            var owners = [UnsafeMutablePointer<CChar>?](repeating: nil, count: capacity)
            var count = capacity
            let rc = rbd_lock_get_owners(raw, &mode, &owners, &count)
            if rc == -ERANGE { capacity = max(count, capacity * 2); continue }
            if rc == -ENOENT { return [] }
            try check(rc, "get lock owners of \(spec)")
            defer { rbd_lock_get_owners_cleanup(&owners, count) }
            return owners.prefix(count).compactMap { $0.map { String(cString: $0) } }
        }
    }

    /// Breaks the exclusive lock held by `owner` (librbd blocklists that client first).
    public func breakLock(owner: String) throws(RBDError) {
        try check(rbd_lock_break(raw, RBD_LOCK_MODE_EXCLUSIVE, owner), "break lock of \(owner) on \(spec)")
    }

    public func setMetadata(_ key: String, _ value: String) throws(RBDError) {
        try check(rbd_metadata_set(raw, key, value), "set metadata \(key) on \(spec)")
    }

    public func metadata(_ key: String) throws(RBDError) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        var length = buffer.count
        var rc = rbd_metadata_get(raw, key, &buffer, &length)
        if rc == -ERANGE {
            buffer = [CChar](repeating: 0, count: length)
            rc = rbd_metadata_get(raw, key, &buffer, &length)
        }
        if rc == -ENOENT { return nil }
        try check(rc, "get metadata \(key) of \(spec)")
        return String(nulTerminated: buffer)
    }

    public func write(_ data: [UInt8], at offset: UInt64) throws(RBDError) {
        let rc = data.withUnsafeBytes { bytes in
            rbd_write2(raw, offset, bytes.count, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), 0)
        }
        if rc < 0 { throw RBDError(errno: Int32(rc), operation: "write \(data.count) bytes at \(offset) to \(spec)") }
    }

    public func read(at offset: UInt64, length: Int) throws(RBDError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: length)
        let rc = buffer.withUnsafeMutableBytes { bytes in
            rbd_read(raw, offset, length, bytes.baseAddress?.assumingMemoryBound(to: CChar.self))
        }
        if rc < 0 { throw RBDError(errno: Int32(rc), operation: "read \(length) bytes at \(offset) from \(spec)") }
        return Array(buffer.prefix(Int(rc)))
    }
}

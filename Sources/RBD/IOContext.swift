import CCeph
import Glibc

/// One pool, as seen from a body running on the blocking pool. Every method blocks.
public struct IOContext: Sendable {
    public let pool: String
    let handle: IOContextHandle

    /// Layering, exclusive-lock, object-map, fast-diff and deep-flatten.
    public static let defaultFeatures: UInt64 =
        UInt64(RBD_FEATURE_LAYERING) | UInt64(RBD_FEATURE_EXCLUSIVE_LOCK) | UInt64(RBD_FEATURE_OBJECT_MAP)
        | UInt64(RBD_FEATURE_FAST_DIFF) | UInt64(RBD_FEATURE_DEEP_FLATTEN)

    /// What a multi-attach image keeps: exclusive-lock (and the maps that need it) would make
    /// two hypervisors fight over the lock, so Cinder clears them; so does volumed.
    public static let multiattachFeatures: UInt64 = UInt64(RBD_FEATURE_LAYERING) | UInt64(RBD_FEATURE_DEEP_FLATTEN)

    public func createImage(name: String, size: UInt64, order: Int, features: UInt64 = defaultFeatures) throws(RBDError) {
        let options = ImageOptions(features: features, order: order)
        defer { options.destroy() }
        try check(rbd_create4(handle.raw, name, size, options.raw), "create image \(pool)/\(name)")
    }

    /// Clones `parent@snapshot` (in this pool) as `child` in `childPool`.
    public func clone(
        parent: String, snapshot: String, into childPool: IOContext, child: String, order: Int,
        features: UInt64 = defaultFeatures
    ) throws(RBDError) {
        let options = ImageOptions(features: features, order: order)
        defer { options.destroy() }
        try check(
            rbd_clone3(handle.raw, parent, snapshot, childPool.handle.raw, child, options.raw),
            "clone \(pool)/\(parent)@\(snapshot) to \(childPool.pool)/\(child)")
    }

    /// Removes an image; `.notFound` when it does not exist, `.hasSnapshots` or `.busy` when it cannot go yet.
    ///
    /// librbd removes a format-2 image by moving it to the trash (source "removing", hidden
    /// from `rbd_trash_list`) and then purging it there. A client killed in between leaves the
    /// image half-removed: opening it by name fails, yet `rbd_list2` still returns it with its id.
    /// Removing such a name finishes the job from the trash instead of reporting it gone.
    public func removeImage(name: String) throws(RBDError) {
        let rc = rbd_remove(handle.raw, name)
        if rc == -ENOENT, let halfRemoved = try listImages().first(where: { $0.name == name }) {
            try removeFromTrash(id: halfRemoved.id, name: name)
            return
        }
        try check(rc, "remove image \(pool)/\(name)")
    }

    /// Removes an image, or what a killed removal left of it; quiet when there is nothing.
    public func removeImageIfPresent(name: String) throws(RBDError) {
        do { try removeImage(name: name) } catch where error.code == .notFound {}
    }

    /// Purges a trash entry by id, whatever its source or deferment; `.notFound` when it is gone.
    public func removeFromTrash(id: String, name: String) throws(RBDError) {
        try check(rbd_trash_remove(handle.raw, id, true), "remove \(pool)/\(name) (id \(id)) from the trash")
    }

    public func imageNames() throws(RBDError) -> [String] {
        try listImages().map(\.name)
    }

    public func listImages() throws(RBDError) -> [(id: String, name: String)] {
        try growingList(
            "list images in \(pool)", empty: rbd_image_spec_t(), capacity: 64, list: { rbd_list2(handle.raw, &$0, &$1) },
            cleanup: { rbd_image_spec_list_cleanup(&$0, $1) }, read: { (String(cString: $0.id), String(cString: $0.name)) })
    }

    /// Entries of the pool's trash: `(id, name)`.
    public func trashEntries() throws(RBDError) -> [(id: String, name: String)] {
        try growingList(
            "list trash of \(pool)", empty: rbd_trash_image_info_t(), capacity: 16, list: { rbd_trash_list(handle.raw, &$0, &$1) },
            cleanup: { rbd_trash_list_cleanup(&$0, $1) }, read: { (String(cString: $0.id), String(cString: $0.name)) })
    }

    public func withImage<T>(
        _ name: String, snapshot: String? = nil, readOnly: Bool = false,
        _ body: (borrowing Image) throws -> T
    ) throws -> T {
        var raw: rbd_image_t?
        let rc: Int32
        if readOnly {
            rc = rbd_open_read_only(handle.raw, name, &raw, snapshot)
        } else {
            rc = rbd_open(handle.raw, name, &raw, snapshot)
        }
        try check(rc, "open image \(pool)/\(name)\(snapshot.map { "@\($0)" } ?? "")")
        guard let raw else { throw RBDError(errno: EIO, operation: "open image \(pool)/\(name)") }
        let image = Image(pool: pool, name: name, raw: raw)
        defer { rbd_close(raw) }
        return try body(image)
    }
}

/// `rbd_image_options_t`, created and destroyed around one call.
struct ImageOptions {
    let raw: rbd_image_options_t

    init(features: UInt64, order: Int) {
        var options: rbd_image_options_t?
        rbd_image_options_create(&options)
        // librbd allocates with `new`, which never returns null (it aborts on exhaustion).
        guard let options else { preconditionFailure("rbd_image_options_create returned no options") }
        raw = options
        rbd_image_options_set_uint64(raw, Int32(RBD_IMAGE_OPTION_FEATURES), features)
        rbd_image_options_set_uint64(raw, Int32(RBD_IMAGE_OPTION_ORDER), UInt64(order))
    }

    func destroy() { rbd_image_options_destroy(raw) }
}

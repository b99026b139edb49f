import CCeph
import Glibc

/// Reading what an image is: its features, when it was made, who watches it, its metadata.
extension Image {
    public func features() throws(RBDError) -> UInt64 {
        var features: UInt64 = 0
        try check(rbd_get_features(raw, &features), "get features of \(pool)/\(name)")
        return features
    }

    /// log2 of the object size.
    public func order() throws(RBDError) -> Int {
        var info = rbd_image_info_t()
        try check(rbd_stat(raw, &info, MemoryLayout<rbd_image_info_t>.size), "stat \(pool)/\(name)")
        return Int(info.order)
    }

    /// When the image was created (the cluster's clock), in seconds since 1970.
    public func createdAt() throws(RBDError) -> Double {
        var stamp = timespec()
        try check(rbd_get_create_timestamp(raw, &stamp), "get creation time of \(pool)/\(name)")
        return Double(stamp.tv_sec) + Double(stamp.tv_nsec) / 1e9
    }

    /// When snapshot `id` was taken, in seconds since 1970.
    public func snapshotCreatedAt(id: UInt64) throws(RBDError) -> Double {
        var stamp = timespec()
        try check(rbd_snap_get_timestamp(raw, id, &stamp), "get time of snapshot \(id) of \(pool)/\(name)")
        return Double(stamp.tv_sec) + Double(stamp.tv_nsec) / 1e9
    }

    /// Clients watching the image (a mapped or attached image has one per user), by address.
    public func watchers() throws(RBDError) -> [String] {
        try growingList(
            "list watchers of \(pool)/\(name)", empty: rbd_image_watcher_t(), capacity: 4, list: { rbd_watchers_list(raw, &$0, &$1) },
            cleanup: { rbd_watchers_list_cleanup(&$0, $1) }, read: { String(cString: $0.addr) })
    }

    /// Every metadata key and value whose key starts with `prefix`.
    public func metadata(prefix: String) throws(RBDError) -> [String: String] {
        var result: [String: String] = [:]
        var start = prefix
        while true {
            var keysLength = 4096
            var valuesLength = 16384
            var keys = [CChar](repeating: 0, count: keysLength)
            var values = [CChar](repeating: 0, count: valuesLength)
            let rc = rbd_metadata_list(raw, start, 64, &keys, &keysLength, &values, &valuesLength)
            if rc == -ERANGE {
                keys = [CChar](repeating: 0, count: keysLength)
                values = [CChar](repeating: 0, count: valuesLength)
                try check(rbd_metadata_list(raw, start, 64, &keys, &keysLength, &values, &valuesLength), "list metadata of \(pool)/\(name)")
            } else {
                try check(rc, "list metadata of \(pool)/\(name)")
            }
            let keyList = Self.split(keys, keysLength)
            let valueList = Self.split(values, valuesLength)
            var beyond = false
            for (key, value) in zip(keyList, valueList) {
                if key.hasPrefix(prefix) { result[key] = value } else if key > prefix { beyond = true }
            }
            guard keyList.count == 64, !beyond, let last = keyList.last else { return result }
            start = last
        }
    }

    public func removeMetadata(_ key: String) throws(RBDError) {
        let rc = rbd_metadata_remove(raw, key)
        if rc == -ENOENT { return }
        try check(rc, "remove metadata \(key) of \(pool)/\(name)")
    }

    /// Writes `bytes` at `offset` without copying them.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(RBDError) {
        let rc = rbd_write2(raw, offset, bytes.count, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), 0)
        if rc < 0 { throw RBDError(errno: Int32(rc), operation: "write \(bytes.count) bytes at \(offset) to \(pool)/\(name)") }
    }

    /// Reads up to `into.count` bytes at `offset`; returns how many were read.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(RBDError) -> Int {
        let rc = rbd_read(raw, offset, buffer.count, buffer.baseAddress?.assumingMemoryBound(to: CChar.self))
        if rc < 0 { throw RBDError(errno: Int32(rc), operation: "read \(buffer.count) bytes at \(offset) from \(pool)/\(name)") }
        return Int(rc)
    }

    private static func split(_ buffer: [CChar], _ length: Int) -> [String] {
        buffer.prefix(length).split(separator: 0, omittingEmptySubsequences: true).map {
            String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}

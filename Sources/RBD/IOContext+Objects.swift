import CCeph
import Glibc

/// Renaming images and RADOS object locks.
extension IOContext {
    public func renameImage(from source: String, to destination: String) throws(RBDError) {
        try check(rbd_rename(handle.raw, source, destination), "rename \(pool)/\(source) to \(destination)")
    }

    /// Takes or renews the exclusive lock `name` on object `object` for `lease`. `.busy` when
    /// another client (or the same client with another cookie) holds it.
    public func lockExclusive(
        object: String, name: String, cookie: String, description: String, lease: Duration, renew: Bool
    ) throws(RBDError) {
        var duration = timeval(tv_sec: Int(lease.components.seconds), tv_usec: 0)
        let flags = renew ? UInt8(LIBRADOS_LOCK_FLAG_MAY_RENEW) : 0
        try check(
            rados_lock_exclusive(handle.raw, object, name, cookie, description, &duration, flags),
            "lock \(pool)/\(object)")
    }

    public func unlock(object: String, name: String, cookie: String) throws(RBDError) {
        let rc = rados_unlock(handle.raw, object, name, cookie)
        if rc == -ENOENT { return }
        try check(rc, "unlock \(pool)/\(object)")
    }

    /// Who holds lock `name` on `object`: the client (`client.<id>`), its cookie and its address.
    public func lockers(object: String, name: String) throws(RBDError) -> [(client: String, cookie: String, address: String)] {
        var sizes = (tag: 256, clients: 1024, cookies: 1024, addrs: 1024)
        while true {
            var exclusive: Int32 = 0
            var tag = [CChar](repeating: 0, count: sizes.tag)
            var clients = [CChar](repeating: 0, count: sizes.clients)
            var cookies = [CChar](repeating: 0, count: sizes.cookies)
            var addrs = [CChar](repeating: 0, count: sizes.addrs)
            let rc = rados_list_lockers(
                handle.raw, object, name, &exclusive, &tag, &sizes.tag, &clients, &sizes.clients,
                &cookies, &sizes.cookies, &addrs, &sizes.addrs)
            if rc == -ERANGE { continue }
            if rc == -ENOENT { return [] }
            try check(Int32(truncatingIfNeeded: rc), "list lockers of \(pool)/\(object)")
            func split(_ buffer: [CChar]) -> [String] {
                buffer.split(separator: 0, omittingEmptySubsequences: true).map {
                    String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
            }
            let clientList = split(clients), cookieList = split(cookies), addrList = split(addrs)
            return clientList.indices.map { index in
                (clientList[index], index < cookieList.count ? cookieList[index] : "",
                 index < addrList.count ? addrList[index] : "")
            }
        }
    }

    /// Breaks `client`'s hold (cookie `cookie`) on lock `name` of `object`.
    public func breakLock(object: String, name: String, client: String, cookie: String) throws(RBDError) {
        let rc = rados_break_lock(handle.raw, object, name, client, cookie)
        if rc == -ENOENT { return }
        try check(rc, "break lock \(name) of \(client) on \(pool)/\(object)")
    }

    /// The content of object `object` (up to `limit` bytes); nil when it does not exist.
    public func readObject(_ object: String, limit: Int = 4096) throws(RBDError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: limit)
        let rc = buffer.withUnsafeMutableBytes { bytes in
            rados_read(handle.raw, object, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), limit, 0)
        }
        if rc == -ENOENT { return nil }
        try check(rc, "read object \(pool)/\(object)")
        return Array(buffer.prefix(Int(rc)))
    }

    /// Writes `data` as the whole content of object `object` (creating it).
    public func writeObject(_ object: String, _ data: [UInt8]) throws(RBDError) {
        let rc = data.withUnsafeBytes { bytes in
            rados_write_full(handle.raw, object, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        try check(rc, "write object \(pool)/\(object)")
    }
}

import Foundation
import GRDBSQLite
import Glibc
import Synchronization

/// Ceph's SQLite VFS (libcephsqlite, Debian's `libsqlite3-mod-ceph`): a database striped over
/// RADOS objects, held by one client at a time through an exclusive RADOS lock.
///
/// The library is loaded when the first `rados` store opens (a daemon on `local` needs none of
/// it). It is handed a CephContext made from volumed's own connection settings, so the VFS's RADOS
/// client uses the daemon's cephx user and keyring; it is a client of its own, with an address of
/// its own, which `register` returns so that a successor can fence it.
public enum CephVFS {
    /// The name SQLite knows the VFS by (`?vfs=ceph` in a URI).
    public static let name = "ceph"
    /// The library's file name, as Debian installs it.
    static let library = "libcephsqlite.so"

    public struct Unavailable: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    private typealias EntryPoint = @convention(c) () -> Void
    private typealias SetContext = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32

    /// The VFS client's address once registered (process-wide: SQLite registers a VFS globally).
    private static let registered = Mutex<String?>(nil)

    /// Loads the library, registers the VFS and gives it `cephContext` (a `rados_config_t` the
    /// caller keeps alive for the life of the process). Returns the VFS client's RADOS address.
    /// Idempotent: later calls return the first address.
    public static func register(cephContext: UnsafeMutableRawPointer) throws(Unavailable) -> String {
        try registered.withLock { (address: inout String?) throws(Unavailable) -> String in
            if let address { return address }
            guard let handle = dlopen(library, RTLD_NOW | RTLD_GLOBAL) else {
                let reason = dlerror().map { String(cString: $0) } ?? "not found"
                throw Unavailable(message: "cannot load Ceph's SQLite VFS (\(library): \(reason)); install the Debian package libsqlite3-mod-ceph, or use state_store = local")
            }
            guard let initSymbol = dlsym(handle, "sqlite3_cephsqlite_init"), let setSymbol = dlsym(handle, "cephsqlite_setcct") else {
                throw Unavailable(message: "\(library) lacks sqlite3_cephsqlite_init or cephsqlite_setcct: an unsupported libcephsqlite")
            }
            // The extension registers the VFS (process-wide) when a connection opens. It runs
            // once: run again on a later connection it answers "loaded permanently", which
            // SQLite takes as a failed open for an automatic extension.
            let entry = unsafeBitCast(initSymbol, to: EntryPoint.self)
            guard sqlite3_auto_extension(entry) == SQLITE_OK else {
                throw Unavailable(message: "cannot register Ceph's SQLite VFS as an extension")
            }
            var scratch: OpaquePointer?
            let rc = sqlite3_open_v2(":memory:", &scratch, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil)
            sqlite3_close(scratch)
            sqlite3_cancel_auto_extension(entry)
            guard rc == SQLITE_OK, sqlite3_vfs_find(name) != nil else {
                throw Unavailable(message: "Ceph's SQLite VFS did not register (sqlite3 code \(rc))")
            }
            var ident: UnsafeMutablePointer<CChar>?
            let set = unsafeBitCast(setSymbol, to: SetContext.self)
            let setRC = set(cephContext, &ident)
            guard setRC == 0 else {
                throw Unavailable(message: "Ceph's SQLite VFS cannot connect to the cluster: \(String(cString: strerror(-setRC)))")
            }
            defer { free(ident) }
            let found = ident.map { String(cString: $0) } ?? ""
            address = found
            return found
        }
    }

    /// The VFS client's address, once registered.
    public static var clientAddress: String? { registered.withLock { $0 } }
}

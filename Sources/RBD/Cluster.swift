import CCeph
import Foundation
import Glibc
import Logging
import Synchronization

/// The one persistent connection to the Ceph cluster, shared by every job.
///
/// All calls go through `run`, which executes a synchronous body on the `BlockingPool`
/// with an `IOContext` per pool. When a call reports that the client lost its session
/// (blocklisted or shut down), the connection is dropped and the next `run` reconnects
/// with the configured retries and interval.
public final class Cluster: Sendable {
    public let blockingPool: BlockingPool
    public let settings: ConnectionSettings
    private let logger: Logger
    private let state = Mutex<State>(State())

    struct State: ~Copyable {
        var handle: RadosHandle?
        var ioContexts: [String: IOContextHandle] = [:]
        var fsid: String?
        var clientName: String?
    }

    public init(settings: ConnectionSettings, blockingThreads: Int, logger: Logger) {
        self.settings = settings
        self.blockingPool = BlockingPool(threads: blockingThreads)
        self.logger = logger
    }

    /// The cluster's fsid, once connected.
    public var fsid: String? { state.withLock { $0.fsid } }
    public var isConnected: Bool { state.withLock { $0.handle != nil } }
    /// This connection's address in the cluster (`127.0.0.1:0/<nonce>`), as lock owners show it.
    public var clientName: String? { state.withLock { $0.clientName } }

    /// Connects (or reconnects) with `rados_connection_retries` attempts, waiting
    /// `rados_connection_interval` seconds before the second and doubling after each failure.
    /// `onRetry` is told about each failed attempt and the wait before the next one.
    public func connect(onRetry: @Sendable (RBDError, Int, Duration) async -> Void = { _, _, _ in }) async throws {
        if isConnected { return }
        let attempts = max(1, settings.connectionRetries)
        var wait = Duration.seconds(max(0, settings.connectionInterval))
        for attempt in 1...attempts {
            do {
                let settings = self.settings
                let (handle, fsid) = try await blockingPool.run { try Self.openHandle(settings) }
                state.withLock {
                    $0.handle = handle
                    $0.fsid = fsid
                    $0.clientName = Self.address(of: handle)
                    $0.ioContexts = [:]
                }
                logger.info("connected to ceph cluster", metadata: ["fsid": "\(fsid)", "user": "\(settings.user)"])
                return
            } catch let error as RBDError {
                guard attempt < attempts else { throw error }
                await onRetry(error, attempt, wait)
                logger.warning("ceph connection attempt \(attempt)/\(attempts) failed: \(error); retrying in \(wait)")
                try await Task.sleep(for: wait)
                wait *= 2
            }
        }
    }

    /// Runs `body` on the blocking pool with access to the pools by name.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Session) throws -> T) async throws -> T {
        try await connected { try await self.blockingPool.run { try body(Session(cluster: self)) } }
    }

    /// Runs `body` on `pool` (a pool of the caller's own, so that it never queues behind job
    /// steps); a cancelled caller stops waiting at once, leaving the C call to finish on its thread.
    public func run<T: Sendable>(abandoningOnCancelOn pool: BlockingPool, _ body: @escaping @Sendable (Session) throws -> T) async throws -> T {
        try await connected { try await pool.runAbandoningOnCancel { try body(Session(cluster: self)) } }
    }

    /// Connects if needed, then `call`s; a call that finds the client blocklisted or shut down
    /// drops the connection (this handle will never work again) so that the next one reconnects.
    private func connected<T: Sendable>(_ call: () async throws -> T) async throws -> T {
        if !isConnected { try await connect() }
        do {
            return try await call()
        } catch let error as RBDError where error.code == .notConnected && error.errno == ESHUTDOWN {
            dropConnection()
            throw error
        }
    }

    /// Forgets the current handle so that the next call reconnects. The old handle is not shut
    /// down here because calls on other threads may still be using it; librados fails them fast.
    public func dropConnection() {
        state.withLock {
            $0.handle = nil
            $0.ioContexts = [:]
        }
    }

    func ioContext(pool: String, namespace: String = "") throws(RBDError) -> IOContext {
        let key = namespace.isEmpty ? pool : pool + "/" + namespace
        let found: Result<IOContextHandle, RBDError> = state.withLock { state in
            if let io = state.ioContexts[key] { return .success(io) }
            guard let handle = state.handle else {
                return .failure(RBDError(errno: ENOTCONN, operation: "open pool \(pool)"))
            }
            var io: rados_ioctx_t?
            let rc = rados_ioctx_create(handle.raw, pool, &io)
            guard rc >= 0, let io else { return .failure(RBDError(errno: rc, operation: "open pool \(pool)")) }
            if !namespace.isEmpty { rados_ioctx_set_namespace(io, namespace) }
            let wrapped = IOContextHandle(raw: io)
            state.ioContexts[key] = wrapped
            return .success(wrapped)
        }
        return IOContext(pool: pool, handle: try found.get())
    }

    func blocklist(address: String, expireSeconds: UInt32) throws(RBDError) {
        guard let handle = state.withLock({ $0.handle }) else {
            throw RBDError(errno: ENOTCONN, operation: "blocklist \(address)")
        }
        var text = Array(address.utf8CString)
        try check(rados_blocklist_add(handle.raw, &text, expireSeconds), "blocklist client \(address)")
    }

    func waitForLatestOSDMap() throws(RBDError) {
        guard let handle = state.withLock({ $0.handle }) else { throw RBDError(errno: ENOTCONN, operation: "wait for the osd map") }
        try check(rados_wait_for_latest_osdmap(handle.raw), "wait for the latest osd map")
    }

    /// A `ceph` monitor command (JSON in, JSON out), e.g. `{"prefix": "df", "format": "json"}`.
    func monitorCommand(_ command: String) throws(RBDError) -> String {
        guard let handle = state.withLock({ $0.handle }) else {
            throw RBDError(errno: ENOTCONN, operation: "mon command")
        }
        var outbuf: UnsafeMutablePointer<CChar>?
        var outlen = 0
        var outs: UnsafeMutablePointer<CChar>?
        var outslen = 0
        let rc: Int32 = command.withCString { cmd in
            var commands: [UnsafePointer<CChar>?] = [cmd]
            return rados_mon_command(handle.raw, &commands, 1, nil, 0, &outbuf, &outlen, &outs, &outslen)
        }
        defer {
            if let outbuf { rados_buffer_free(outbuf) }
            if let outs { rados_buffer_free(outs) }
        }
        try check(rc, "mon command \(command)")
        guard let outbuf else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: outbuf, count: outlen), as: UTF8.self)
    }

    /// A librados configuration value as this client sees it (e.g. `auth_client_required`).
    func configValue(_ name: String) throws(RBDError) -> String {
        guard let handle = state.withLock({ $0.handle }) else { throw RBDError(errno: ENOTCONN, operation: "read option \(name)") }
        var buffer = [CChar](repeating: 0, count: 1024)
        try check(rados_conf_get(handle.raw, name, &buffer, buffer.count), "read option \(name)")
        return String(nulTerminated: buffer)
    }

    /// The session's address, without a `v2:`/`[...]` decoration: what `rbd_lock_get_owners` reports.
    private static func address(of handle: RadosHandle) -> String? {
        var raw: UnsafeMutablePointer<CChar>?
        guard rados_getaddrs(handle.raw, &raw) >= 0, let raw else { return nil }
        defer { free(raw) }
        var text = String(cString: raw)
        for junk in ["[", "]", "v2:", "v1:", "any:"] { text = text.replacingOccurrences(of: junk, with: "") }
        return text.split(separator: ",").first.map(String.init)
    }

    private static func openHandle(_ settings: ConnectionSettings) throws(RBDError) -> (RadosHandle, String) {
        let raw = try configuredHandle(settings)
        do {
            try check(rados_connect(raw), "connect to ceph cluster (config \(settings.cephConf), user \(settings.user))")
            var buffer = [CChar](repeating: 0, count: 64)
            try check(rados_cluster_fsid(raw, &buffer, buffer.count), "read cluster fsid")
            let fsid = String(nulTerminated: buffer)
            return (RadosHandle(raw: raw), fsid)
        } catch {
            rados_shutdown(raw)
            throw error
        }
    }

    /// A client handle set up from `settings`, not yet connected.
    private static func configuredHandle(_ settings: ConnectionSettings, options: [(String, String)] = []) throws(RBDError) -> rados_t {
        var raw: rados_t?
        try check(rados_create(&raw, settings.user), "create rados client for user \(settings.user)")
        guard let raw else { throw RBDError(errno: ENOMEM, operation: "create rados client") }
        do {
            try check(rados_conf_read_file(raw, settings.cephConf), "read ceph config \(settings.cephConf)")
            // Clone format 1, as Cinder: a clone needs a protected snapshot and librbd refuses to
            // unprotect one while any clone hangs from it — the last line of defence of every
            // purge. (Format 2 would quietly move such a snapshot to the trash namespace.)
            try check(rados_conf_set(raw, "rbd_default_clone_format", "1"), "set rbd_default_clone_format")
            // librbd may send write buffers as they are, without copying them first: every write
            // here is synchronous or a `WriteWindow` one, whose buffer stays untouched until done.
            try check(rados_conf_set(raw, "rbd_disable_zero_copy_writes", "false"), "set rbd_disable_zero_copy_writes")
            if let keyring = settings.keyring {
                try check(rados_conf_set(raw, "keyring", keyring), "set keyring \(keyring)")
            }
            if settings.connectTimeout >= 0 {
                let t = String(settings.connectTimeout)
                for option in ["client_mount_timeout", "rados_osd_op_timeout", "rados_mon_op_timeout"] {
                    try check(rados_conf_set(raw, option, t), "set \(option)")
                }
            }
            for (option, value) in options {
                try check(rados_conf_set(raw, option, value), "set \(option)")
            }
            return raw
        } catch {
            rados_shutdown(raw)
            throw error
        }
    }

    /// A CephContext configured as this daemon's connections are (user, config file, keyring,
    /// timeouts) plus `options`, for a library that makes RADOS clients of its own from it
    /// (Ceph's SQLite VFS). Its handle is never connected and lives as long as the process.
    public static func configurationContext(_ settings: ConnectionSettings, options: [(String, String)]) throws(RBDError) -> UnsafeMutableRawPointer {
        let raw = try configuredHandle(settings, options: options)
        guard let context = rados_cct(raw) else {
            rados_shutdown(raw)
            throw RBDError(errno: EINVAL, operation: "read the configuration context of a rados client")
        }
        return context
    }

    /// What a body running on the blocking pool may touch.
    public struct Session: Sendable {
        let cluster: Cluster
        public func pool(_ name: String) throws(RBDError) -> IOContext { try cluster.ioContext(pool: name) }
        /// Objects of RADOS namespace `namespace` in pool `name` (no RBD images there).
        public func pool(_ name: String, namespace: String) throws(RBDError) -> IOContext {
            try cluster.ioContext(pool: name, namespace: namespace)
        }
        /// Waits until this client knows the newest OSD map (after blocklisting: its next
        /// operations carry the epoch that fences the blocklisted clients).
        public func waitForLatestOSDMap() throws(RBDError) { try cluster.waitForLatestOSDMap() }
        public func monitorCommand(_ json: String) throws(RBDError) -> String { try cluster.monitorCommand(json) }
        public func configValue(_ name: String) throws(RBDError) -> String { try cluster.configValue(name) }
        /// Cuts a (dead) client off the OSDs: its watches and locks go at once instead of timing out.
        public func blocklist(address: String, expireSeconds: UInt32) throws(RBDError) {
            try cluster.blocklist(address: address, expireSeconds: expireSeconds)
        }
        public var fsid: String? { cluster.fsid }
    }
}

/// librados cluster handles are safe to use from several threads at once.
struct RadosHandle: @unchecked Sendable {
    let raw: rados_t
}

/// librados I/O contexts are safe to share between threads for the calls librbd makes.
struct IOContextHandle: @unchecked Sendable {
    let raw: rados_ioctx_t
}

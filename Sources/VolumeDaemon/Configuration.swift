import Foundation
import Lifecycle
import Logging
import RBD
import VolumeEngine
import VolumeStore

/// volumed's configuration, read from an INI file with Cinder's option names and defaults.
/// Unknown options, bad values and missing files are errors naming the file, line and option.
public struct Configuration: Sendable, Equatable {
    public static let defaultPath = "/etc/volumed/volumed.conf"

    // [DEFAULT]
    public var stateDir = "/var/lib/volumed"
    public var socketPath = "/run/volumed/volumed.sock"
    /// Jobs changing the cluster at once. 16 by default: a job waiting for an OSD map epoch
    /// (a snapshot: about a second with Ceph's default monitor) keeps its worker meanwhile, and
    /// 16 keep ten busy clients' mix of jobs from ever queueing for one (docs/benchmarks.md).
    public var workers = 16
    /// Days a finished job's row is kept (0: for ever).
    public var jobRetentionDays = 30
    public var logLevel = Logger.Level.info
    /// Groups whose members may call mutating methods (root always may).
    public var adminGroups: [String] = []
    /// Where the database lives: a file under `state_dir` (one host), or in RADOS (every host).
    public var stateStore = StateStore.local
    /// The RADOS pool of a `rados` database (nil: `rbd_pool`).
    public var stateRadosPool: String?
    public var stateRadosNamespace = "volumed"
    // [rbd]
    public var rbdPool = "volumes"
    public var rbdUser = "admin"
    public var rbdCephConf = "/etc/ceph/ceph.conf"
    public var rbdKeyring: String?
    public var rbdSecretUUID: String?
    public var rbdMaxCloneDepth = 5
    public var rbdFlattenVolumeFromSnapshot = false
    /// MiB; a power of two.
    public var rbdStoreChunkSize = 4
    public var radosConnectTimeout = -1
    public var radosConnectionRetries = 3
    public var radosConnectionInterval = 5
    public var rbdConcurrentFlattenOperations = 3
    /// Deleted volumes keep their image and snapshots for `deferredDeletionDelay` seconds, and
    /// may be undeleted until then (Cinder's `enable_deferred_deletion`, `deferred_deletion_delay`).
    public var enableDeferredDeletion = false
    public var deferredDeletionDelay = 0
    /// Accepted for Cinder's files; volumed purges each volume at its own deadline instead.
    public var deferredDeletionPurgeInterval = 60
    /// The cluster's name, handed to hypervisors in connection info (Cinder's `rbd_cluster_name`).
    public var rbdClusterName = "ceph"
    /// Seconds the cluster lock (one active daemon per pool set) lasts without renewal.
    public var clusterLockLease = 30
    /// Socket connections open at once; one more gets an error line and is closed.
    public var maxConnections = 256
    /// Connections one uid may hold at once, so that one user cannot take every slot.
    public var maxConnectionsPerUser = 64
    /// Seconds a connection may sit with no request in flight before it is closed; 0: never.
    public var connectionIdleTimeout = 300
    /// The most volumes one `volume.list` reply holds (Cinder's `osapi_max_limit`); more are paged.
    public var maxListLimit = 10_000
    /// Where `GET /metrics` is served over HTTP (`ADDRESS:PORT`); nil: not at all (the default;
    /// `service.metrics` on the socket gives the same text).
    public var metricsListen: ListenAddress?
    /// The shortest `interval_s` a snapshot schedule may have, in seconds.
    public var scheduleMinInterval = 300
    // [images]
    public var imagesPool = "images"
    public var imagesChunkSize = 8
    /// The largest image an upload without `size_bytes` may grow to, in GiB.
    public var imageUploadMaxGB = 1024
    /// Seconds an upload or a download waits for a client that sends or reads nothing.
    public var uploadIdleTimeout = 60
    // [libvirt]
    /// Pool for VM disks cloned from images (Nova's `images_rbd_pool`); empty: none.
    public var imagesRBDPool = "vms"
    // [backup]
    /// Where backups go (Cinder's `backup_ceph_pool`).
    public var backupCephPool = "backups"

    public init() {}

    public var databasePath: String { (stateDir as NSString).appendingPathComponent("volumed.sqlite") }

    /// `state_store`: the embedded file for one host, or the shared database in RADOS.
    public enum StateStore: String, Sendable, Equatable, CaseIterable {
        case local, rados
    }

    /// The database of `store`, wherever it lives.
    public func databaseLocation(_ store: StateStore) -> Store.Location {
        switch store {
        case .local: .local(path: databasePath)
        case .rados: .rados(pool: stateRadosPool ?? rbdPool, namespace: stateRadosNamespace, name: "volumed.db")
        }
    }

    /// The database this configuration runs on.
    public var databaseLocation: Store.Location { databaseLocation(stateStore) }

    public var connection: ConnectionSettings {
        ConnectionSettings(
            user: rbdUser, cephConf: rbdCephConf, keyring: rbdKeyring, connectTimeout: radosConnectTimeout,
            connectionRetries: radosConnectionRetries, connectionInterval: radosConnectionInterval)
    }

    public var engine: EngineSettings {
        var settings = EngineSettings(
            pool: rbdPool, workers: workers, maxCloneDepth: rbdMaxCloneDepth,
            flattenVolumeFromSnapshot: rbdFlattenVolumeFromSnapshot,
            imageOrder: Self.order(ofMiB: rbdStoreChunkSize), concurrentFlattens: rbdConcurrentFlattenOperations,
            clusterRetries: radosConnectionRetries, clusterRetryInterval: .seconds(radosConnectionInterval))
        settings.extraPools = imagesRBDPool.isEmpty ? [] : [imagesRBDPool]
        settings.imagePool = imagesPool
        settings.imageStoreOrder = Self.order(ofMiB: imagesChunkSize)
        settings.imageUploadMaximumBytes = Int64(imageUploadMaxGB) << 30
        settings.uploadIdleTimeout = .seconds(uploadIdleTimeout)
        settings.rbdUser = rbdUser
        settings.secretUUID = rbdSecretUUID
        settings.clusterName = rbdClusterName
        settings.deferredDeletionDelay = enableDeferredDeletion ? .seconds(deferredDeletionDelay) : nil
        settings.scheduleMinimumInterval = scheduleMinInterval
        settings.backupPool = backupCephPool
        settings.jobRetention = jobRetentionDays > 0 ? .seconds(Int64(jobRetentionDays) * 86_400) : nil
        return settings
    }

    /// log2 of a chunk size in MiB, as an RBD object order (4 MiB → 22).
    static func order(ofMiB mib: Int) -> Int { 20 + mib.trailingZeroBitCount }

    /// Reads and validates `path`.
    /// Reads the file at `path`. Without `rbd_keyring` in it, the keyring is the service's
    /// credential `rbd_keyring` when systemd passes one (`LoadCredential=`, in
    /// `credentialsDirectory`): the key is then readable by the service alone.
    public static func load(
        path: String, credentialsDirectory: String? = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"]
    ) throws(ConfigError) -> Configuration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, line: nil, option: nil, message: "cannot read the configuration file: \(error.localizedDescription)")
        }
        var config = try parse(IniFile(path: path, text: text))
        if config.rbdKeyring == nil, let credentials = credentialsDirectory,
           FileManager.default.isReadableFile(atPath: credentials + "/" + Self.keyringCredential) {
            config.rbdKeyring = credentials + "/" + Self.keyringCredential
        }
        return config
    }

    /// The name of the credential that carries the cluster key (`LoadCredential=rbd_keyring:…`).
    public static let keyringCredential = "rbd_keyring"

    static func parse(_ file: IniFile) throws(ConfigError) -> Configuration {
        var config = Configuration()
        if let unknown = file.sections.first(where: { !["DEFAULT", "rbd", "images", "libvirt", "backup"].contains($0.name) }) {
            throw ConfigError(file: file.path, line: unknown.line, option: nil,
                              message: "unknown section [\(unknown.name)] (known: [DEFAULT], [rbd], [images], [libvirt], [backup])")
        }
        var reader = OptionReader(file: file.path)
        for entry in file.entries {
            reader.entry = entry
            switch (entry.section, entry.key) {
            case ("DEFAULT", "state_dir"): config.stateDir = try reader.path()
            case ("DEFAULT", "socket_path"): config.socketPath = try reader.path()
            case ("DEFAULT", "workers"): config.workers = try reader.int(in: 1...256)
            case ("DEFAULT", "job_retention_days"): config.jobRetentionDays = try reader.int(in: 0...36_500)
            case ("DEFAULT", "log_level"): config.logLevel = try reader.logLevel()
            case ("DEFAULT", "admin_groups"): config.adminGroups = reader.list()
            case ("DEFAULT", "cluster_lock_lease"): config.clusterLockLease = try reader.int(in: 3...3_600)
            case ("DEFAULT", "max_connections"): config.maxConnections = try reader.int(in: 1...65_536)
            case ("DEFAULT", "max_connections_per_user"): config.maxConnectionsPerUser = try reader.int(in: 1...65_536)
            case ("DEFAULT", "connection_idle_timeout"): config.connectionIdleTimeout = try reader.int(in: 0...86_400)
            case ("DEFAULT", "max_list_limit"): config.maxListLimit = try reader.int(in: 1...1_000_000)
            case ("DEFAULT", "metrics_listen"): config.metricsListen = try reader.listenAddress()
            case ("DEFAULT", "schedule_min_interval"): config.scheduleMinInterval = try reader.int(in: 1...(366 * 86_400))
            case ("DEFAULT", "state_store"): config.stateStore = try reader.choice(of: StateStore.self)
            case ("DEFAULT", "state_rados_pool"): config.stateRadosPool = try reader.name()
            case ("DEFAULT", "state_rados_namespace"): config.stateRadosNamespace = try reader.name()
            case ("rbd", "rbd_pool"): config.rbdPool = try reader.name()
            case ("rbd", "rbd_user"): config.rbdUser = try reader.user()
            case ("rbd", "rbd_ceph_conf"): config.rbdCephConf = try reader.existingFile()
            case ("rbd", "rbd_keyring"): config.rbdKeyring = try reader.existingFile()
            case ("rbd", "rbd_secret_uuid"): config.rbdSecretUUID = try reader.uuid()
            case ("rbd", "rbd_max_clone_depth"): config.rbdMaxCloneDepth = try reader.int(in: -1_000...1_000)
            case ("rbd", "rbd_flatten_volume_from_snapshot"): config.rbdFlattenVolumeFromSnapshot = try reader.bool()
            case ("rbd", "rbd_store_chunk_size"): config.rbdStoreChunkSize = try reader.chunkSize()
            case ("rbd", "rados_connect_timeout"): config.radosConnectTimeout = try reader.int(in: -1...86_400)
            case ("rbd", "rados_connection_retries"): config.radosConnectionRetries = try reader.int(in: 1...1_000)
            case ("rbd", "rados_connection_interval"): config.radosConnectionInterval = try reader.int(in: 0...3_600)
            case ("rbd", "rbd_concurrent_flatten_operations"): config.rbdConcurrentFlattenOperations = try reader.int(in: 0...1_000)
            case ("rbd", "rbd_cluster_name"): config.rbdClusterName = try reader.name()
            case ("rbd", "enable_deferred_deletion"): config.enableDeferredDeletion = try reader.bool()
            case ("rbd", "deferred_deletion_delay"): config.deferredDeletionDelay = try reader.int(in: 0...(366 * 86_400))
            case ("rbd", "deferred_deletion_purge_interval"): config.deferredDeletionPurgeInterval = try reader.int(in: 1...86_400)
            case ("images", "rbd_store_pool"): config.imagesPool = try reader.name()
            case ("libvirt", "images_rbd_pool"): config.imagesRBDPool = entry.value.isEmpty ? "" : try reader.name()
            case ("images", "rbd_store_chunk_size"): config.imagesChunkSize = try reader.chunkSize()
            case ("images", "image_upload_max_gb"): config.imageUploadMaxGB = try reader.int(in: 1...1_000_000)
            case ("images", "upload_idle_timeout"): config.uploadIdleTimeout = try reader.int(in: 1...86_400)
            case ("backup", "backup_ceph_pool"): config.backupCephPool = try reader.name()
            case ("DEFAULT", _), ("rbd", _), ("images", _), ("libvirt", _), ("backup", _):
                throw reader.error("unknown option in [\(entry.section)]")
            default:
                throw ConfigError(file: file.path, line: entry.line, option: nil, message: "unknown section [\(entry.section)]")
            }
        }
        if !file.entries.contains(where: { $0.key == "rbd_ceph_conf" }), !FileManager.default.fileExists(atPath: config.rbdCephConf) {
            throw ConfigError(file: file.path, line: nil, option: "rbd_ceph_conf",
                              message: "not set, and the default \(config.rbdCephConf) does not exist")
        }
        return config
    }
}

/// Typed reads of one INI entry; every failure names the file, line and option.
private struct OptionReader {
    let file: String
    var entry = IniFile.Entry(section: "", key: "", value: "", line: 0)

    func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: entry.line, option: entry.key, message: message)
    }

    func int(in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let value = Int(entry.value) else { throw error("'\(entry.value)' is not a whole number") }
        guard range.contains(value) else { throw error("\(value) is out of range \(range.lowerBound)…\(range.upperBound)") }
        return value
    }

    func bool() throws(ConfigError) -> Bool {
        switch entry.value.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw error("'\(entry.value)' is not true or false")
        }
    }

    func path() throws(ConfigError) -> String {
        guard entry.value.hasPrefix("/") else { throw error("'\(entry.value)' must be an absolute path") }
        return entry.value
    }

    func existingFile() throws(ConfigError) -> String {
        let path = try path()
        guard FileManager.default.isReadableFile(atPath: path) else { throw error("\(path) does not exist or is not readable") }
        return path
    }

    /// A pool name: letters, digits, `-`, `_` and `.`.
    func name() throws(ConfigError) -> String {
        let allowed = entry.value.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) }
        guard !entry.value.isEmpty, entry.value.count <= 128, allowed else {
            throw error("'\(entry.value)' is not a valid pool name")
        }
        return entry.value
    }

    func user() throws(ConfigError) -> String {
        guard !entry.value.hasPrefix("client.") else {
            throw error("give the cephx id without 'client.' (e.g. '\(entry.value.dropFirst(7))')")
        }
        return try name()
    }

    func uuid() throws(ConfigError) -> String {
        guard UUID(uuidString: entry.value) != nil else { throw error("'\(entry.value)' is not a UUID") }
        return entry.value.lowercased()
    }

    /// MiB, a power of two from 1 to 32 (RBD objects of 1 MiB to 32 MiB).
    func chunkSize() throws(ConfigError) -> Int {
        let value = try int(in: 1...32)
        guard value & (value - 1) == 0 else { throw error("\(value) MiB is not a power of two") }
        return value
    }

    func choice<Choice: RawRepresentable & CaseIterable>(of: Choice.Type) throws(ConfigError) -> Choice where Choice.RawValue == String {
        guard let value = Choice(rawValue: entry.value.lowercased()) else {
            throw error("'\(entry.value)' is not one of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    func logLevel() throws(ConfigError) -> Logger.Level {
        guard let level = Logger.Level(rawValue: entry.value.lowercased()) else {
            throw error("'\(entry.value)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        return level
    }

    /// `HOST:PORT` (`[IPv6]:PORT` for an IPv6 address); empty: off.
    func listenAddress() throws(ConfigError) -> ListenAddress? {
        let value = entry.value
        guard !value.isEmpty else { return nil }
        guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]), (1...65_535).contains(port) else {
            throw error("'\(value)' is not ADDRESS:PORT (e.g. 127.0.0.1:9283) with a port from 1 to 65535")
        }
        var host = String(value[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(" ") else { throw error("'\(value)' names no address before the port") }
        return ListenAddress(host: host, port: port)
    }

    func list() -> [String] {
        entry.value.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    }
}

import Foundation
import GRDB
import Lifecycle
import Synchronization

/// volumed's SQLite database: a file (WAL) for one host, or a database in RADOS through Ceph's
/// SQLite VFS shared by every host. Every read and write of state goes through here.
///
/// Writes are transactions built from `StoreTransaction`'s named queries, so the engine can
/// check and change several rows atomically without writing SQL.
public final class Store: Sendable {
    /// The open database; nil until `open()` (a shared database opens only once this daemon
    /// holds it) and again after `close()` (it was lost: nothing is written through a stale handle).
    private let handle: Mutex<(any DatabaseWriter)?>
    private let readOnly: Bool
    /// Where the database lives, as an operator would name it (a path, or `rados://pool/ns/name`).
    public let path: String
    public let location: Location

    /// Where a database is kept.
    public enum Location: Sendable, Equatable, CustomStringConvertible {
        /// A file on this host (WAL, several readers).
        case local(path: String)
        /// The SQLite database `name` in RADOS pool `pool`, namespace `namespace`, through Ceph's VFS.
        case rados(pool: String, namespace: String, name: String)

        public var description: String {
            switch self {
            case .local(let path): path
            case .rados(let pool, let namespace, let name): "rados://\(pool)/\(namespace)/\(name)"
            }
        }

        /// The filename SQLite opens: the path, or the VFS's URI (`file:///POOL:NS/NAME?vfs=ceph`).
        var sqliteName: String {
            switch self {
            case .local(let path): path
            case .rados(let pool, let namespace, let name): "file:///\(pool):\(namespace)/\(name)?vfs=\(CephVFS.name)"
            }
        }

        /// The RADOS object holding the database's first stripe (and the VFS's exclusive lock).
        public var firstObject: String? {
            guard case .rados(_, _, let name) = self else { return nil }
            return name + ".0000000000000000"
        }
    }

    /// The exclusive RADOS lock Ceph's VFS holds on `Location.firstObject`.
    public static let vfsLockName = "striper.lock"

    /// Opens (creating if needed) the database file at `path` and migrates it. With `readOnly`
    /// (its folder cannot be written), it only reads: every write fails with `StoreUnavailable`.
    public convenience init(path: String, readOnly: Bool = false) throws {
        try self.init(location: .local(path: path), readOnly: readOnly)
    }

    /// Opens (creating if needed) the database at `location` and migrates it.
    ///
    /// A `rados` database needs `CephVFS.register` first. Its open blocks while another client
    /// holds the VFS's lock: call it off the cooperative pool, and only once the database is
    /// this daemon's to hold (its cluster lock taken, its predecessor fenced).
    public convenience init(location: Location, readOnly: Bool = false) throws {
        self.init(unopened: location, readOnly: readOnly)
        try open()
    }

    /// A store that opens later, with `open()`.
    public init(unopened location: Location, readOnly: Bool = false) {
        self.location = location
        self.path = location.description
        self.readOnly = readOnly
        self.handle = Mutex(nil)
    }

    /// Whether the database is open (false before `open()` and after `close()`).
    public var isOpen: Bool { handle.withLock { $0 != nil } }

    /// Opens (creating if needed) and migrates the database; does nothing when it is open.
    /// Blocking: for a `rados` database it waits while another client holds the VFS's lock.
    public func open() throws {
        if isOpen { return }
        let writer = try Self.openWriter(location, readOnly: readOnly)
        handle.withLock { $0 = writer }
    }

    /// Forgets the open database: every later read and write fails with `StoreUnavailable`.
    public func close() {
        handle.withLock { $0 = nil }
    }

    private var writer: any DatabaseWriter {
        get throws {
            guard let writer = handle.withLock({ $0 }) else { throw StoreUnavailable(notOpen: location) }
            return writer
        }
    }

    private static func openWriter(_ location: Location, readOnly: Bool) throws -> any DatabaseWriter {
        var config = Configuration()
        config.readonly = readOnly
        let shared = if case .rados = location { true } else { false }
        config.prepareDatabase { db in
            if shared {
                // Ceph's documented settings: one exclusive holder (which also allows WAL),
                // 64 KiB pages, temporary tables in memory (RADOS has none), and a page cache
                // that holds the whole database so reads never go back to the OSDs.
                try db.execute(sql: "PRAGMA page_size = 65536")
                try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA temp_store = MEMORY")
                try db.execute(sql: "PRAGMA cache_size = -1048576")
            }
            // FULL: a commit is on disk before the effect it records is reported.
            if !readOnly { try db.execute(sql: "PRAGMA synchronous = FULL") }
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        config.busyMode = .timeout(10)
        let writer: any DatabaseWriter
        if shared {
            // The VFS allows no second connection, not even a reader in the same process.
            writer = try DatabaseQueue(path: location.sqliteName, configuration: config)
        } else {
            config.maximumReaderCount = 4
            writer = try DatabasePool(path: location.sqliteName, configuration: config)
        }
        if !readOnly { try Schema.migrator.migrate(writer) }
        return writer
    }

    /// The RADOS address of the VFS client holding a `rados` database (for fencing), from the
    /// VFS's own `ceph_status()`; nil for a file.
    public func vfsClientAddress() async throws -> String? {
        guard case .rados = location else { return nil }
        let status = try await writer.read { db in try String.fetchOne(db, sql: "SELECT ceph_status()") }
        guard let data = status?.data(using: .utf8),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["addr"] as? String
    }

    /// Copies the whole database to `destination` (replacing what is there) with SQLite's
    /// backup API, one consistent snapshot, then gives the copy its store's page size and WAL.
    /// The backup API cannot write into a WAL database of another page size, so the copy is
    /// made in rollback-journal mode and converted afterwards. No store may have it open.
    public func copy(to destination: Location) throws {
        let source = try writer
        var config = Configuration()
        let shared = if case .rados = destination { true } else { false }
        config.prepareDatabase { db in
            if shared { try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE") }
            // PERSIST is what the VFS takes outside WAL; DELETE is SQLite's own default.
            _ = try String.fetchOne(db, sql: shared ? "PRAGMA journal_mode = PERSIST" : "PRAGMA journal_mode = DELETE")
        }
        let target = try DatabaseQueue(path: destination.sqliteName, configuration: config)
        try source.backup(to: target)
        try target.writeWithoutTransaction { db in
            try db.execute(sql: shared ? "PRAGMA page_size = 65536" : "PRAGMA page_size = 4096")
            try db.execute(sql: "VACUUM")
            _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
        }
        try target.close()
    }

    /// True when opened read-only because its folder could not be written.
    public var isReadOnly: Bool { readOnly }

    /// How hard a commit insists on reaching the disk.
    public enum Durability: Sendable {
        /// fsync'd before the call returns: survives a power loss (a promise made to a client).
        case full
        /// Survives a crash of the daemon but maybe not a power loss (SQLite's WAL `NORMAL`): for
        /// records a lost power can only make volumed redo, such as a job's checkpoints and
        /// successful end (its steps are idempotent and a job found unfinished runs again).
        /// In RADOS, Ceph's VFS sends a commit's pages as asynchronous writes and waits for them
        /// only on a sync: a relaxed commit there may be lost when the daemon dies or is fenced
        /// (a later full commit writes it too). Fine for a checkpoint (its step is redone); not
        /// for what a client is told: see `relaxedSurvivesACrash`.
        case relaxed
    }

    /// Whether a `.relaxed` commit survives a crash of the daemon (a local file: yes, only a power
    /// loss can take it; in RADOS: no, it may still be in flight to the OSDs).
    public var relaxedSurvivesACrash: Bool {
        if case .local = location { true } else { false }
    }

    /// Runs `body` in one write transaction. A full disk or a read-only state folder is a
    /// `StoreUnavailable` naming the file, never a bare SQLite code.
    public func write<T: Sendable>(
        _ durability: Durability = .full, _ body: @escaping @Sendable (StoreTransaction) throws -> T
    ) async throws -> T {
        do {
            try checkWritable()
            return try await rawWrite(durability, body)
        } catch let error as DatabaseError {
            guard let unavailable = StoreUnavailable(error, location: location) else { throw error }
            throw unavailable
        }
    }

    /// Whether a write can happen at all (false on a read-only store).
    private func checkWritable() throws {
        if isReadOnly { throw StoreUnavailable(readOnlyAt: path) }
    }

    private func rawWrite<T: Sendable>(
        _ durability: Durability, _ body: @escaping @Sendable (StoreTransaction) throws -> T
    ) async throws -> T {
        switch durability {
        case .full:
            return try await writer.write { db in try body(StoreTransaction(db: db)) }
        case .relaxed:
            return try await writer.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
                var result: T?
                try db.inTransaction {
                    result = try body(StoreTransaction(db: db))
                    return .commit
                }
                guard let result else { throw DatabaseError(resultCode: .SQLITE_INTERNAL, message: "transaction without a result") }
                return result
            }
        }
    }

    /// Runs `body` on a read-only snapshot of the database.
    public func read<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        try await writer.read { db in try body(StoreTransaction(db: db)) }
    }

    /// `PRAGMA integrity_check`: "ok" when the database is sound.
    public func integrityCheck() async throws -> String {
        try await writer.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
    }
}

/// The database cannot take writes: its disk is full, its folder read-only, or I/O fails.
/// Reads still work; nothing already recorded is lost.
public struct StoreUnavailable: Error, Sendable, CustomStringConvertible {
    public let message: String

    init?(_ error: DatabaseError, location: Store.Location) {
        guard case .local(let path) = location else {
            switch error.resultCode {
            case .SQLITE_FULL, .SQLITE_READONLY, .SQLITE_IOERR, .SQLITE_CANTOPEN:
                message = "cannot write the database \(location) in RADOS: \(error.message ?? "I/O error") (its pool is full, the cluster is unreachable, or this daemon lost the database to another one)"
                return
            default:
                return nil
            }
        }
        let folder = (path as NSString).deletingLastPathComponent
        switch error.resultCode {
        case .SQLITE_FULL:
            message = "the state folder \(folder) is full: volumed cannot record new work (nothing recorded is lost; free space and retry)"
        case .SQLITE_READONLY:
            message = "the state folder \(folder) is read-only: volumed cannot record new work (nothing recorded is lost; make it writable and retry)"
        case .SQLITE_IOERR, .SQLITE_CANTOPEN:
            message = "cannot write the database \(path): \(error.message ?? "I/O error") (nothing recorded is lost)"
        default:
            return nil
        }
    }

    init(notOpen location: Store.Location) {
        message = "the database \(location) is not open: this daemon does not hold it (standby, starting or fenced)"
    }

    init(readOnlyAt path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        message = "the state folder \(folder) is read-only: volumed cannot record new work (nothing recorded is lost; make it writable and restart volumed)"
    }

    public var description: String { message }
}

/// The named queries available inside one transaction. Only lives inside `Store.read`/`write`.
public struct StoreTransaction {
    let db: Database

    /// SQLite's plan for `sql` (`EXPLAIN QUERY PLAN`, its `?` parameters null), a line per
    /// step: tests pin the index a list walks with it.
    func queryPlan(_ sql: String) throws -> [String] {
        let nulls = StatementArguments(Array(repeating: String?.none, count: sql.filter { $0 == "?" }.count))
        return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: nulls).map { $0["detail"] }
    }

    // MARK: volumes

    public func volume(_ id: String) throws -> VolumeRecord? { try VolumeRecord.fetchOne(db, key: id) }

    /// Volumes a user sees (everything not deleted, oldest first), one at a time: a list of 100k
    /// volumes is never held as records.
    ///
    /// A page (Cinder's `marker` and `limit`): the volumes after the one whose id is `after`,
    /// at most `limit` of them. Returns false when `after` names no visible volume.
    @discardableResult
    public func forEachVisibleVolume(after: String? = nil, limit: Int? = nil, _ body: (VolumeRecord) throws -> Void) throws -> Bool {
        var sql = "SELECT \(VolumeRecord.listedColumns) FROM volume INDEXED BY volume_list WHERE status != '\(VolumeStatus.deleted)'"
        var arguments: StatementArguments = []
        if let after {
            guard let (createdAt, id) = try Row.fetchOne(
                db, sql: "SELECT created_at, id FROM volume WHERE id = ? AND status != '\(VolumeStatus.deleted)'", arguments: [after]
            ).map({ (try $0.decode(DatabaseValue.self, atIndex: 0), try $0.decode(String.self, atIndex: 1)) }) else { return false }
            sql += " AND (created_at, id) > (?, ?)"
            arguments += [createdAt, id]
        }
        sql += " ORDER BY created_at, id"
        if let limit {
            sql += " LIMIT ?"
            arguments += [limit]
        }
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() { try body(try VolumeRecord(listed: row)) }
        return true
    }

    /// Volumes deleted with deferred deletion whose delay runs (they may still be undeleted),
    /// the soonest to go first.
    public func deferredDeletions() throws -> [VolumeRecord] {
        try VolumeRecord.fetchAll(
            db, sql: "SELECT * FROM volume WHERE status = ? AND purged = 0 AND purge_after IS NOT NULL ORDER BY purge_after, id",
            arguments: [VolumeStatus.deleted.rawValue])
    }

    /// Every volume whose RBD image should still be in the cluster.
    public func unpurgedVolumes() throws -> [VolumeRecord] {
        try VolumeRecord.fetchAll(db, sql: "SELECT * FROM volume WHERE purged = 0")
    }

    /// Clones that still hang from an image of `volumeID` (any snapshot), purged ones excluded.
    public func cloneChildren(of volumeID: String) throws -> [VolumeRecord] {
        try VolumeRecord.fetchAll(
            db, sql: "SELECT * FROM volume WHERE parent_volume_id = ? AND purged = 0", arguments: [volumeID])
    }

    /// Writes a new row of any table.
    public func insert(_ record: some PersistableRecord) throws { try record.insert(db) }

    /// Writes a changed volume, snapshot or image, stamped with the time of the change.
    public func update(_ record: some PersistableRecord & Timestamped) throws {
        var record = record
        record.updatedAt = Date()
        try record.update(db)
    }

    // MARK: snapshots

    public func snapshot(_ id: String) throws -> SnapshotRecord? { try SnapshotRecord.fetchOne(db, key: id) }

    public func visibleSnapshots(volumeID: String?) throws -> [SnapshotRecord] {
        if let volumeID {
            return try SnapshotRecord.fetchAll(db, sql: ListQueries.snapshotsOfVolume, arguments: [volumeID])
        }
        return try SnapshotRecord.fetchAll(db, sql: ListQueries.snapshots)
    }

    /// Snapshots of `volumeID` whose RBD snapshot should still exist.
    public func unpurgedSnapshots(of volumeID: String) throws -> [SnapshotRecord] {
        try SnapshotRecord.fetchAll(
            db, sql: "SELECT * FROM snapshot WHERE volume_id = ? AND purged = 0", arguments: [volumeID])
    }

    public func unpurgedSnapshots() throws -> [SnapshotRecord] {
        try SnapshotRecord.fetchAll(db, sql: "SELECT * FROM snapshot WHERE purged = 0")
    }

    /// The snapshots schedule `scheduleID` took that are not deleted.
    public func scheduledSnapshots(of scheduleID: String) throws -> [SnapshotRecord] {
        try SnapshotRecord.fetchAll(
            db, sql: "SELECT * FROM snapshot WHERE schedule_id = ? AND status != ?", arguments: [scheduleID, SnapshotStatus.deleted.rawValue])
    }

    // MARK: backups

    public func backup(_ id: String) throws -> BackupRecord? { try BackupRecord.fetchOne(db, key: id) }

    /// Backups not purged (of one volume), oldest first.
    public func unpurgedBackups(volumeID: String? = nil) throws -> [BackupRecord] {
        if let volumeID {
            return try BackupRecord.fetchAll(
                db, sql: "SELECT * FROM backup WHERE volume_id = ? AND purged = 0 ORDER BY created_at, id", arguments: [volumeID])
        }
        return try BackupRecord.fetchAll(db, sql: "SELECT * FROM backup WHERE purged = 0 ORDER BY created_at, id")
    }

    // MARK: schedules

    public func schedule(_ id: String) throws -> ScheduleRecord? { try ScheduleRecord.fetchOne(db, key: id) }

    /// Every schedule (of one volume), oldest first.
    public func schedules(volumeID: String?) throws -> [ScheduleRecord] {
        if let volumeID {
            return try ScheduleRecord.fetchAll(db, sql: "SELECT * FROM schedule WHERE volume_id = ? ORDER BY created_at, id", arguments: [volumeID])
        }
        return try ScheduleRecord.fetchAll(db, sql: "SELECT * FROM schedule ORDER BY created_at, id")
    }

    /// Schedules whose next run is due at `now`, and when the next one after them is due.
    public func dueSchedules(at now: Date) throws -> (due: [ScheduleRecord], next: Date?) {
        let due = try ScheduleRecord.fetchAll(db, sql: "SELECT * FROM schedule WHERE next_run_at <= ? ORDER BY next_run_at", arguments: [now])
        let next = try Date.fetchOne(db, sql: "SELECT MIN(next_run_at) FROM schedule WHERE next_run_at > ?", arguments: [now])
        return (due, next)
    }

    public func delete(_ schedule: ScheduleRecord) throws { _ = try schedule.delete(db) }


    // MARK: jobs

    public func job(_ id: String) throws -> JobRecord? { try JobRecord.fetchOne(db, key: id) }

    public func job(idempotencyKey: String) throws -> JobRecord? {
        try JobRecord.fetchOne(db, sql: "SELECT * FROM job WHERE idempotency_key = ?", arguments: [idempotencyKey])
    }

    /// Queued and running jobs, in the order they were accepted.
    public func unfinishedJobs() throws -> [JobRecord] {
        try JobRecord.fetchAll(
            db, sql: "SELECT * FROM job WHERE state IN ('\(JobState.queued)', '\(JobState.running)') ORDER BY created_at, rowid")
    }

    /// The most recent jobs first, optionally only those about one volume.
    public func recentJobs(volumeID: String?, limit: Int) throws -> [JobRecord] {
        if let volumeID {
            return try JobRecord.fetchAll(db, sql: ListQueries.jobsOfVolume, arguments: [volumeID, limit])
        }
        return try JobRecord.fetchAll(db, sql: ListQueries.recentJobs, arguments: [limit])
    }

    /// Deletes up to `limit` finished jobs that ended before `cutoff`, oldest first; how many.
    /// (Batches keep each transaction short: the database has one connection.)
    public func pruneFinishedJobs(endedBefore cutoff: Date, limit: Int) throws -> Int {
        try db.execute(sql: ListQueries.pruneFinishedJobs, arguments: [cutoff, limit])
        return db.changesCount
    }

    /// How many finished jobs ended before `cutoff` (what `pruneFinishedJobs` would delete).
    public func countFinishedJobs(endedBefore cutoff: Date) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM job WHERE \(ListQueries.finishedBefore)", arguments: [cutoff]) ?? 0
    }

    /// When the longest-finished job ended (nil: no finished job).
    public func oldestFinishedJob() throws -> Date? {
        try Date.fetchOne(db, sql: "SELECT finished_at FROM job WHERE finished_at IS NOT NULL ORDER BY finished_at LIMIT 1")
    }

    /// A queued job of `kind` on `lockKey`, to avoid queueing the same housekeeping twice.
    public func queuedJob(kind: JobKind, lockKey: String) throws -> JobRecord? {
        try JobRecord.fetchOne(
            db, sql: "SELECT * FROM job WHERE kind = ? AND lock_key = ? AND state = '\(JobState.queued)' LIMIT 1",
            arguments: [kind, lockKey])
    }

    /// How many volumes a user sees, without loading them.
    public func countVisibleVolumes() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM volume WHERE status != '\(VolumeStatus.deleted)'") ?? 0
    }

    public func update(_ job: JobRecord) throws { try job.update(db) }

    /// How many volumes, snapshots and images there are in each status users see (tombstones
    /// left out; an available volume with attachments counts as in-use), for the metrics.
    public func inventoryCounts() throws -> InventoryCounts {
        func counts(_ sql: String) throws -> [String: Int] {
            var result: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: sql) { result[row[0]] = row[1] }
            return result
        }
        return InventoryCounts(
            volumes: try counts("""
                SELECT CASE WHEN status = '\(VolumeStatus.available)' AND attach_count > 0 THEN '\(VolumeStatus.inUse)' ELSE status END,
                       COUNT(*) FROM volume WHERE status != '\(VolumeStatus.deleted)' GROUP BY 1
                """),
            snapshots: try counts("SELECT status, COUNT(*) FROM snapshot WHERE status != '\(SnapshotStatus.deleted)' GROUP BY 1"),
            images: try counts("SELECT status, COUNT(*) FROM image WHERE status != '\(ImageStatus.deleted)' GROUP BY 1"))
    }
}


extension StoreTransaction {
    /// Adds `delta` to the clone depth of every clone below `volumeID` (after it was flattened).
    public func shiftCloneDepth(ofDescendantsOf volumeID: String, by delta: Int) throws {
        guard delta != 0 else { return }
        try db.execute(sql: """
            WITH RECURSIVE below(id) AS (
                SELECT id FROM volume WHERE parent_volume_id = ? AND purged = 0
                UNION SELECT v.id FROM volume v JOIN below ON v.parent_volume_id = below.id WHERE v.purged = 0
            )
            UPDATE volume SET clone_depth = MAX(0, clone_depth + ?) WHERE id IN below
            """, arguments: [volumeID, delta])
    }
}

extension StoreTransaction {
    /// Cluster client addresses this database's daemons used, newest first.
    public func daemonClients() throws -> [String] {
        try String.fetchAll(db, sql: "SELECT name FROM daemon_client ORDER BY started_at DESC")
    }

    /// Remembers a cluster client of the daemon starting now (its librbd client, and the
    /// VFS's for a shared database); returns the earlier ones.
    @discardableResult
    public func recordDaemonClient(_ name: String) throws -> [String] {
        let earlier = try String.fetchAll(db, sql: "SELECT name FROM daemon_client WHERE name != ?", arguments: [name])
        try db.execute(sql: "INSERT OR REPLACE INTO daemon_client (name, started_at) VALUES (?, ?)", arguments: [name, Date()])
        // Keep the last few: enough to recognise a predecessor, never a growing table.
        try db.execute(sql: """
            DELETE FROM daemon_client WHERE name NOT IN (SELECT name FROM daemon_client ORDER BY started_at DESC LIMIT 16)
            """)
        return earlier
    }

    /// Recorded clients of earlier daemons that no successor has fenced yet.
    public func unfencedDaemonClients(excluding mine: Set<String>) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT name FROM daemon_client WHERE fenced_at IS NULL ORDER BY started_at DESC")
            .filter { !mine.contains($0) }
    }

    /// Notes that `names` are blocklisted: no later successor needs to fence them again.
    public func markFenced(_ names: [String]) throws {
        for name in names {
            try db.execute(sql: "UPDATE daemon_client SET fenced_at = ? WHERE name = ?", arguments: [Date(), name])
        }
    }

    /// Which database this is, and how many times a daemon took it over.
    public func identity() throws -> DatabaseIdentity {
        let rows = try Row.fetchAll(db, sql: "SELECT key, value FROM meta WHERE key IN ('database_id', 'generation')")
        var values: [String: String] = [:]
        for row in rows { values[row["key"]] = row["value"] }
        return DatabaseIdentity(id: values["database_id"] ?? "", generation: Int(values["generation"] ?? "") ?? 0)
    }

    /// One more takeover: returns the identity with its new generation.
    public func nextGeneration() throws -> DatabaseIdentity {
        let next = try identity().generation + 1
        try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'generation'", arguments: [String(next)])
        return try identity()
    }
}

/// A database's identity (made when it was created) and generation (one more at each takeover):
/// what the cluster records of the database that last ran jobs on its pools.
public struct DatabaseIdentity: Sendable, Codable, Equatable, CustomStringConvertible {
    public var id: String
    public var generation: Int

    public init(id: String, generation: Int) {
        self.id = id
        self.generation = generation
    }

    public var description: String { "database \(id) generation \(generation)" }
}

extension StoreTransaction {
    // MARK: images

    public func image(_ id: String) throws -> ImageRecord? { try ImageRecord.fetchOne(db, key: id) }

    public func visibleImages() throws -> [ImageRecord] {
        try ImageRecord.fetchAll(db, sql: "SELECT * FROM image WHERE status != '\(ImageStatus.deleted)' ORDER BY created_at, id")
    }

    public func unpurgedImages() throws -> [ImageRecord] {
        try ImageRecord.fetchAll(db, sql: "SELECT * FROM image WHERE purged = 0")
    }

    /// Volumes whose images are still clones of image `imageID` (deleted ones whose image remains included).
    public func clones(ofImage imageID: String) throws -> [VolumeRecord] {
        try VolumeRecord.fetchAll(
            db, sql: "SELECT * FROM volume WHERE parent_image_id = ? AND purged = 0", arguments: [imageID])
    }


    // MARK: attachments

    public func attachment(_ id: String) throws -> AttachmentRecord? { try AttachmentRecord.fetchOne(db, key: id) }

    public func attachments(volumeID: String) throws -> [AttachmentRecord] {
        try AttachmentRecord.fetchAll(
            db, sql: "SELECT * FROM attachment WHERE volume_id = ? ORDER BY created_at, id", arguments: [volumeID])
    }

    public func delete(_ attachment: AttachmentRecord) throws { _ = try attachment.delete(db) }

    // MARK: capacity and rebuild

    /// GiB promised to unpurged volumes, per pool (what the pools would hold if every volume were full).
    public func provisionedGB() throws -> [String: Int] {
        let rows = try Row.fetchAll(db, sql: "SELECT pool, SUM(size_gb) AS total FROM volume WHERE purged = 0 GROUP BY pool")
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["pool"] as String, $0["total"] as Int) })
    }

    /// Bytes held by unpurged images, per pool.
    public func imageBytes() throws -> [String: Int64] {
        let rows = try Row.fetchAll(db, sql: "SELECT pool, SUM(size_bytes) AS total FROM image WHERE purged = 0 GROUP BY pool")
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["pool"] as String, $0["total"] as Int64) })
    }

    /// Rows per table (every table, so a new one is never left out), to compare a copy with its source.
    public func rowCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        for table in tables {
            counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
        }
        return counts
    }

    /// True when the database holds no volume and no image at all (a new or lost database).
    public func isEmpty() throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT (SELECT COUNT(*) FROM volume) + (SELECT COUNT(*) FROM image)") == 0
    }
}

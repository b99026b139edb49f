import Foundation
import Lifecycle
import Logging
import RBD
import Synchronization
import VolumeStore

/// One active daemon per pool set: an exclusive RADOS lock on the object `volumed.lock` in the
/// volume pool, with a lease renewed every sixth of its length. A daemon that cannot take it
/// waits in standby and takes over once the holder releases it or its lease runs out.
///
/// The holder is active only while its hold is fresh: renewed within `deadline` (two thirds of
/// the lease, so it gives up before anyone else may take over). A holder that misses its
/// deadline (cut off from the cluster, or frozen and resumed) is fenced for good: it starts no
/// step and answers as active no more, and the daemon exits for systemd to restart it.
final class ClusterLease: Sendable {
    static let object = "volumed.lock"
    static let lockName = "volumed"
    /// Beside the lock: who holds it (host, pid, since, the RADOS clients to fence).
    static let holderObject = "volumed.holder"
    /// Beside the lock: the database that last ran jobs on these pools.
    static let databaseObject = "volumed.database"
    /// How long a fenced predecessor stays blocklisted (a frozen process may wake up late).
    static let fenceSeconds: UInt32 = 7 * 24 * 3600

    /// Raised when the hold could not be renewed in time: another daemon may be running jobs now.
    struct Lost: Error, CustomStringConvertible {
        let reason: String
        var description: String { "lost the cluster lock: \(reason)" }
    }

    let cluster: Cluster
    let pool: String
    let lease: Duration
    /// Renewed within this, or fenced: shorter than the lease that lets others take over.
    let deadline: Duration
    let cookie = UUID().uuidString.lowercased()
    let since = Date()
    let logger: Logger
    /// Renewals run here, never behind job steps on the cluster's pool.
    private let renewalPool = BlockingPool(threads: 2)
    private let state = Mutex<State>(.starting)
    private let lastRenewal = Mutex<ContinuousClock.Instant?>(nil)
    /// Addresses this daemon has blocklisted (each is fenced once, however many records name it).
    private let fenced = Mutex<Set<String>>([])
    /// A renewal is in flight (`keep` sends one at a time).
    private let renewing = Mutex(false)
    /// Set when a renewal found the lock held by another daemon (its description).
    private let takenBy = Mutex<String?>(nil)
    /// The holder's record as last read while standby.
    private let otherHolder = Mutex<HolderRecord?>(nil)
    /// Yields when the state changes, for the status line.
    let changes: AsyncStream<Void>
    private let changed: AsyncStream<Void>.Continuation

    enum State: Sendable, Equatable {
        case starting
        case standby(holder: String)
        case held
        case released
        /// Gave up the hold (its reason): never active again in this process.
        case fenced(String)
    }

    init(cluster: Cluster, pool: String, lease: Duration, logger: Logger) {
        self.cluster = cluster
        self.pool = pool
        self.lease = lease
        self.deadline = lease * 2 / 3
        self.logger = logger
        (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    var current: State { state.withLock { $0 } }
    /// Active: holding the lock, renewed within the deadline.
    var isHeld: Bool { current == .held && isFresh }

    /// Renewed (or taken) within the deadline: a step may start.
    var isFresh: Bool {
        guard let last = lastRenewal.withLock({ $0 }) else { return false }
        return last.duration(to: .now) < deadline
    }

    private func set(_ new: State) {
        let old = state.withLock { state in
            defer { if case .fenced = state {} else { state = new } }
            return state
        }
        if old != new { changed.yield() }
    }

    /// Ends the hold for good, with its reason (for the status line and the journal).
    func fence(_ reason: String) {
        set(.fenced(reason))
    }

    // MARK: taking the lock

    /// Returns once this daemon holds the lock, with the record its predecessor left (nil for
    /// none, or when it was this daemon's own). Checks again every second while another holds it.
    func acquire() async throws -> HolderRecord? {
        let retry = min(Duration.seconds(1), lease / 3)
        while true {
            try Task.checkCancellation()
            do {
                let asked = ContinuousClock.now
                do {
                    try await take(renew: false)
                } catch let error as RBDError where error.code == .alreadyExists {
                    // Ours already (same client and cookie): an earlier attempt got through.
                }
                lastRenewal.withLock { $0 = asked }
                let previous = try? await readHolder()
                return previous?.cookie == cookie ? nil : previous
            } catch let error as RBDError where error.code == .busy {
                if await breakDeadPredecessorsLock() { continue }
                let holder = await holderText()
                if current != .standby(holder: holder) {
                    logger.notice("standby: the cluster lock \(pool)/\(Self.object) is held by \(holder); taking over when it is released or its lease runs out")
                }
                set(.standby(holder: holder))
            } catch {
                logger.warning("cannot take the cluster lock yet: \(error)")
            }
            try await Task.sleep(for: retry)
        }
    }

    /// Says this daemon is active now (after its takeover: predecessor fenced, database open).
    func activate() {
        set(.held)
        logger.notice("holding the cluster lock \(pool)/\(Self.object) (lease \(lease), deadline \(deadline)): this daemon runs jobs")
    }

    /// Writes the holder record: who this daemon is and the RADOS clients a successor must fence.
    func publish(clients: [String], database: String) async throws {
        let record = HolderRecord(
            cookie: cookie, host: ProcessInfo.processInfo.hostName, pid: getpid(), since: since,
            machine: HolderRecord.thisMachine, clients: clients, database: database)
        let bytes = Array(try HolderRecord.encoder.encode(record))
        let pool = self.pool
        try await cluster.run { session in try session.pool(pool).writeObject(Self.holderObject, bytes) }
    }

    func readHolder() async throws -> HolderRecord? {
        let pool = self.pool
        guard let bytes = try await cluster.run({ session in try session.pool(pool).readObject(Self.holderObject, limit: 65_536) }),
              !bytes.isEmpty else { return nil }
        return try? HolderRecord.decoder.decode(HolderRecord.self, from: Data(bytes))
    }

    /// Who holds the lock: this daemon while it does, else the holder last seen from standby.
    var holder: (host: String, pid: Int32, since: Date)? {
        switch current {
        case .held: return (ProcessInfo.processInfo.hostName, getpid(), since)
        case .standby: return otherHolder.withLock { $0 }.map { ($0.host, $0.pid, $0.since) }
        default: return nil
        }
    }

    // MARK: keeping it

    /// Renews the lease until cancelled. Throws `Lost` (after fencing this daemon) when the hold
    /// was not renewed within the deadline, or another daemon holds the lock.
    ///
    /// A renewal is sent every sixth of the lease (one at a time: a slow one is waited for, not
    /// stacked), so several may fail or lag before the deadline; each success counts from the
    /// moment it was sent, which is no later than the OSD started the lease anew.
    func keep() async throws {
        let tick = max(lease / 6, .milliseconds(250))
        try await withThrowingDiscardingTaskGroup { group in
            while true {
                try await Task.sleep(for: tick)
                if let holder = takenBy.withLock({ $0 }) { throw lose("held by \(holder) now") }
                guard isFresh else {
                    throw lose("not renewed for \(sinceRenewal) (deadline \(deadline)): the cluster did not answer, or this process was frozen")
                }
                let start = renewing.withLock { busy in
                    defer { busy = true }
                    return !busy
                }
                guard start else { continue }
                let asked = ContinuousClock.now
                group.addTask {
                    defer { self.renewing.withLock { $0 = false } }
                    do {
                        try await self.take(renew: true, abandoningOnCancel: true)
                        self.lastRenewal.withLock { last in if last.map({ $0 < asked }) ?? true { last = asked } }
                    } catch let error as RBDError where error.code == .busy {
                        let holder = await self.holderText()
                        self.takenBy.withLock { $0 = holder }
                    } catch is CancellationError {
                    } catch {
                        self.logger.warning("cannot renew the cluster lock (last renewed \(self.sinceRenewal) ago, deadline \(self.deadline)): \(error)")
                    }
                }
            }
        }
    }

    private var sinceRenewal: Duration { lastRenewal.withLock { $0 }?.duration(to: .now) ?? .zero }

    private func lose(_ reason: String) -> Lost {
        fence(reason)
        return Lost(reason: reason)
    }

    /// Lets a standby daemon take over at once. After a graceful stop nothing of this daemon
    /// needs fencing: its record is cleared first. `force` releases a lock taken but never used.
    func release(force: Bool = false) async {
        guard force || current == .held else { return }
        let (pool, cookie) = (self.pool, self.cookie)
        if let record = try? await readHolder(), record.cookie == cookie {
            try? await publish(clients: [], database: record.database)
        }
        do {
            try await cluster.run { session in try session.pool(pool).unlock(object: Self.object, name: Self.lockName, cookie: cookie) }
            logger.notice("released the cluster lock")
        } catch {
            logger.warning("could not release the cluster lock (it expires in \(lease)): \(error)")
        }
        set(.released)
    }

    private func take(renew: Bool, abandoningOnCancel: Bool = false) async throws {
        let (pool, cookie, lease) = (self.pool, self.cookie, self.lease)
        let description = "volumed on \(ProcessInfo.processInfo.hostName) pid \(getpid())"
        let body: @Sendable (Cluster.Session) throws -> Void = { session in
            try session.pool(pool).lockExclusive(
                object: Self.object, name: Self.lockName, cookie: cookie, description: description, lease: lease, renew: renew)
        }
        if abandoningOnCancel {
            try await cluster.run(abandoningOnCancelOn: renewalPool, body)
        } else {
            try await cluster.run(body)
        }
    }

    // MARK: fencing

    /// Blocklists `addresses` (other daemons' RADOS clients) all at once; returns those now fenced.
    func blocklist(_ addresses: [String], why: String) async -> [String] {
        let wanted = Set(addresses.map(Self.plainAddress)).subtracting([cluster.clientName ?? ""])
        let already = fenced.withLock { $0 }
        let targets = Array(wanted.subtracting(already)).sorted()
        guard !targets.isEmpty else { return Array(wanted.intersection(already)).sorted() }
        let newlyFenced = await withTaskGroup(of: String?.self) { group in
            for address in targets {
                group.addTask {
                    do {
                        try await self.cluster.run { session in try session.blocklist(address: address, expireSeconds: Self.fenceSeconds) }
                        return address
                    } catch {
                        self.logger.error("could not blocklist \(address) (\(why)): \(error)")
                        return nil
                    }
                }
            }
            var done: [String] = []
            for await address in group { if let address { done.append(address) } }
            return done
        }
        if !newlyFenced.isEmpty {
            fenced.withLock { $0.formUnion(newlyFenced) }
            _ = try? await cluster.run { session in try session.waitForLatestOSDMap() }
            logger.notice("fenced \(why): blocklisted \(newlyFenced.sorted().joined(separator: ", "))")
        }
        return (newlyFenced + wanted.intersection(already)).sorted()
    }

    /// Fences whoever holds the exclusive lock `name` on `object` (in `namespace` of `pool`) and
    /// breaks it. Returns the fenced addresses; throws if a holder could not be fenced (its lock
    /// then stays: breaking the lock of a live client would let two write).
    func fenceAndBreak(pool: String, namespace: String, object: String, name: String, why: String) async throws -> [String] {
        let lockers = try await cluster.run { session in try session.pool(pool, namespace: namespace).lockers(object: object, name: name) }
        let mine = Self.plainAddress(cluster.clientName ?? "")
        let others = lockers.filter { Self.plainAddress($0.address) != mine }
        guard !others.isEmpty else { return [] }
        let fenced = await blocklist(others.map(\.address), why: why)
        guard fenced.count == Set(others.map { Self.plainAddress($0.address) }).count else {
            throw Lost(reason: "could not fence the holder of \(pool)/\(namespace)/\(object); not breaking its lock")
        }
        for locker in others {
            try await cluster.run { session in
                try session.pool(pool, namespace: namespace).breakLock(object: object, name: name, client: locker.client, cookie: locker.cookie)
            }
        }
        logger.notice("broke the lock \(name) on \(pool)/\(namespace)/\(object) held by \(others.map { "\($0.client) at \($0.address)" }.joined(separator: ", "))")
        return fenced
    }

    /// A lock whose holder record says it is a volumed of this same machine (boot and pid
    /// namespace) whose process is gone: a crash here. Fences its clients and breaks the lock at
    /// once instead of waiting out the lease. Returns whether it did.
    private func breakDeadPredecessorsLock() async -> Bool {
        let pool = self.pool
        do {
            guard let record = try await readHolder(), record.machine == HolderRecord.thisMachine,
                  !HolderRecord.isAlive(pid: record.pid) else { return false }
            let lockers = try await cluster.run { session in try session.pool(pool).lockers(object: Self.object, name: Self.lockName) }
            guard let stale = lockers.first(where: { $0.cookie == record.cookie }) else { return false }
            let clients = record.clients + [stale.address]
            let fenced = await blocklist(clients, why: "the previous run on this machine (pid \(record.pid), gone)")
            guard fenced.count == Set(clients.map(Self.plainAddress)).subtracting([cluster.clientName ?? ""]).count else { return false }
            try await cluster.run { session in
                try session.pool(pool).breakLock(object: Self.object, name: Self.lockName, client: stale.client, cookie: stale.cookie)
            }
            logger.notice("broke the cluster lock left by this machine's previous run (pid \(record.pid), \(stale.client) at \(stale.address))")
            return true
        } catch {
            logger.warning("could not check the cluster lock's holder: \(error)")
            return false
        }
    }

    /// `v1:127.0.0.1:0/123` → `127.0.0.1:0/123`, as `Cluster.clientName` writes addresses.
    static func plainAddress(_ address: String) -> String {
        var text = address
        for junk in ["[", "]", "v2:", "v1:", "any:"] { text = text.replacingOccurrences(of: junk, with: "") }
        return text.split(separator: ",").first.map(String.init) ?? text
    }

    /// The holder as an operator would name it: host, pid and since, from its record when the
    /// record is the current holder's; else the lock's client and address.
    func holderText() async -> String {
        let pool = self.pool
        guard let lockers = try? await cluster.run({ session in try session.pool(pool).lockers(object: Self.object, name: Self.lockName) }),
              let first = lockers.first else { return "nobody (just released)" }
        if let record = try? await readHolder(), record.cookie == first.cookie {
            otherHolder.withLock { $0 = record }
            return "volumed on \(record.host) pid \(record.pid) since \(HolderRecord.timestamp(record.since)) (\(first.client) at \(Self.plainAddress(first.address)))"
        }
        return "\(first.client) at \(Self.plainAddress(first.address))"
    }

    // MARK: the database that last ran jobs

    struct DatabaseRecord: Codable, Sendable, Equatable {
        var identity: DatabaseIdentity
        var location: String
        var host: String
        var recordedAt: Date

        enum CodingKeys: String, CodingKey { case identity, location, host, recordedAt = "recorded_at" }
    }

    func recordedDatabase() async throws -> DatabaseRecord? {
        try await Self.recordedDatabase(cluster: cluster, pool: pool)
    }

    static func recordedDatabase(cluster: Cluster, pool: String) async throws -> DatabaseRecord? {
        guard let bytes = try await cluster.run({ session in try session.pool(pool).readObject(Self.databaseObject, limit: 65_536) }),
              !bytes.isEmpty else { return nil }
        return try HolderRecord.decoder.decode(DatabaseRecord.self, from: Data(bytes))
    }

    static func recordDatabase(_ identity: DatabaseIdentity, location: String, cluster: Cluster, pool: String) async throws {
        let record = DatabaseRecord(identity: identity, location: location, host: ProcessInfo.processInfo.hostName, recordedAt: Date())
        let bytes = Array(try HolderRecord.encoder.encode(record))
        try await cluster.run { session in try session.pool(pool).writeObject(Self.databaseObject, bytes) }
    }
}

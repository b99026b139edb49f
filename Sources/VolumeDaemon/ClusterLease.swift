import Foundation
import Logging
import RBD
import Synchronization

/// One active daemon per pool set: an exclusive RADOS lock on the object `volumed.lock` in the
/// volume pool, with a lease renewed every third of its length. A daemon that cannot take it
/// waits in standby and takes over once the holder releases it or its lease runs out.
final class ClusterLease: Sendable {
    static let object = "volumed.lock"
    static let lockName = "volumed"

    /// Raised when the lease could not be renewed in time: another daemon may be running jobs now.
    struct Lost: Error, CustomStringConvertible {
        let reason: String
        var description: String { "lost the cluster lock: \(reason)" }
    }

    let cluster: Cluster
    /// Cluster client addresses this database's earlier daemons used: a lock held by one of
    /// them is a crashed predecessor's on this host, broken at once instead of waiting out the lease.
    let predecessors: @Sendable () async -> Set<String>
    /// Told the client address once the lock is ours, so that a successor recognises it.
    let onAcquired: @Sendable (String) async -> Void
    let pool: String
    let lease: Duration
    let cookie = UUID().uuidString.lowercased()
    let logger: Logger
    private let state = Mutex<State>(.starting)
    /// Yields when the state changes, for the status line.
    let changes: AsyncStream<Void>
    private let changed: AsyncStream<Void>.Continuation

    enum State: Sendable, Equatable {
        case starting
        case standby(holder: String)
        case held
        case released
    }

    init(
        cluster: Cluster, pool: String, lease: Duration, logger: Logger,
        predecessors: @escaping @Sendable () async -> Set<String> = { [] }, onAcquired: @escaping @Sendable (String) async -> Void = { _ in }
    ) {
        self.cluster = cluster
        self.predecessors = predecessors
        self.onAcquired = onAcquired
        self.pool = pool
        self.lease = lease
        self.logger = logger
        (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    var current: State { state.withLock { $0 } }
    var isHeld: Bool { current == .held }

    private var description: String {
        "volumed on \(ProcessInfo.processInfo.hostName) pid \(getpid())"
    }

    private func set(_ new: State) {
        let old = state.withLock { state in
            defer { state = new }
            return state
        }
        if old != new { changed.yield() }
    }

    /// Returns once this daemon holds the lock; checks again every second while another holds it.
    /// `prepare` runs once the lock is taken and before the daemon says it is active.
    func acquire(prepare: () async -> Void = {}) async throws {
        let retry = min(Duration.seconds(1), lease / 3)
        while true {
            try Task.checkCancellation()
            do {
                do {
                    try await take(renew: false)
                } catch let error as RBDError where error.code == .alreadyExists {
                    // Ours already (same client and cookie): an earlier attempt got through.
                }
                if let me = cluster.clientName { await onAcquired(me) }
                await prepare()
                set(.held)
                logger.notice("holding the cluster lock \(pool)/\(Self.object) (lease \(lease)): this daemon runs jobs")
                return
            } catch let error as RBDError where error.code == .busy {
                if await breakPredecessorsLock() { continue }
                let holder = (try? await holderText()) ?? "another daemon"
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

    /// Renews the lease until cancelled; throws `Lost` when another daemon holds the lock.
    func keep() async throws {
        var lastRenewal = ContinuousClock.now
        while true {
            try await Task.sleep(for: lease / 3)
            do {
                try await take(renew: true)
                lastRenewal = .now
            } catch let error as RBDError where error.code == .busy {
                set(.released)
                throw Lost(reason: "held by \((try? await holderText()) ?? "another daemon") now")
            } catch {
                // The cluster is not answering: no other daemon can take the lock through it
                // either, and this one's jobs wait for the same cluster. Keep trying; a lock
                // found held by another daemon once it answers again ends this one (above).
                let since = lastRenewal.duration(to: .now)
                logger.warning("cannot renew the cluster lock (last renewed \(since.components.seconds) s ago): \(error)")
            }
        }
    }

    /// Lets a standby daemon take over at once.
    func release() async {
        guard isHeld else { return }
        let (pool, cookie) = (self.pool, self.cookie)
        do {
            try await cluster.run { session in try session.pool(pool).unlock(object: Self.object, name: Self.lockName, cookie: cookie) }
            logger.notice("released the cluster lock")
        } catch {
            logger.warning("could not release the cluster lock (it expires in \(lease)): \(error)")
        }
        set(.released)
    }

    private func take(renew: Bool) async throws {
        let (pool, cookie, lease, description) = (self.pool, self.cookie, self.lease, self.description)
        try await cluster.run { session in
            try session.pool(pool).lockExclusive(
                object: Self.object, name: Self.lockName, cookie: cookie, description: description, lease: lease, renew: renew)
        }
    }

    /// Breaks the lock when its holder is an earlier daemon of this same database (crashed:
    /// a live one would hold the database too). Returns whether it did.
    private func breakPredecessorsLock() async -> Bool {
        let earlier = await predecessors()
        guard !earlier.isEmpty else { return false }
        let pool = self.pool
        do {
            let lockers = try await cluster.run { session in try session.pool(pool).lockers(object: Self.object, name: Self.lockName) }
            guard let stale = lockers.first(where: { earlier.contains(Self.plainAddress($0.address)) }) else { return false }
            try await cluster.run { session in
                try session.pool(pool).breakLock(object: Self.object, name: Self.lockName, client: stale.client, cookie: stale.cookie)
            }
            logger.notice("broke the cluster lock left by this host's previous run (\(stale.client) at \(stale.address))")
            // Its watches on images it had open (an rbd_remove cut short) would make librbd refuse
            // to remove them (EBUSY) until the OSDs time them out; blocklisting ends them now.
            let address = Self.plainAddress(stale.address)
            do {
                try await cluster.run { session in try session.blocklist(address: address, expireSeconds: 3600) }
                logger.notice("blocklisted the previous run's client \(address) (its image watches end now)")
            } catch {
                logger.warning("could not blocklist the previous run's client \(address): \(error); its watches time out by themselves")
            }
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

    private func holderText() async throws -> String {
        let pool = self.pool
        let lockers = try await cluster.run { session in try session.pool(pool).lockers(object: Self.object, name: Self.lockName) }
        guard let first = lockers.first else { return "nobody (just released)" }
        return "\(first.client) at \(first.address)"
    }
}

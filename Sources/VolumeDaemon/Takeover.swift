import Foundation
import Lifecycle
import Logging
import RBD
import VolumeEngine
import VolumeStore

/// What a daemon does between taking the cluster lock and running its first step: fence every
/// RADOS client its predecessors used, open the database (a shared one only now, once nobody
/// else can write it), make sure it is the database that last ran jobs on these pools, and
/// record this daemon's own clients for its successor.
public struct Takeover: Sendable {
    let lease: ClusterLease
    let store: Store
    let cluster: Cluster
    let settings: EngineSettings
    let logger: Logger

    /// The database is not the one that last ran jobs here: taking over would forget or
    /// resurrect state. The daemon refuses to become active and says what to do.
    public struct Refused: Error, CustomStringConvertible {
        let message: String
        public var description: String { message }
    }

    func run(predecessor: HolderRecord?) async throws {
        let mine = cluster.clientName.map { [$0] } ?? []
        // 1. The predecessor's clients named beside the lock, before anything else.
        var fenced: [String] = []
        if let predecessor, !predecessor.clients.isEmpty {
            let targets = predecessor.clients.map(ClusterLease.plainAddress)
            fenced = await lease.blocklist(targets, why: "the previous holder (volumed on \(predecessor.host) pid \(predecessor.pid))")
            guard Set(fenced) == Set(targets).subtracting(mine) else {
                throw ClusterLease.Lost(reason: "could not fence the previous holder's clients \(targets.joined(separator: ", "))")
            }
        }
        try await lease.publish(clients: mine, database: store.path)

        // 2. A shared database: whoever still holds the VFS's lock is fenced, then the lock broken.
        if case .rados(let pool, let namespace, _) = store.location, let object = store.location.firstObject {
            fenced += try await lease.fenceAndBreak(
                pool: pool, namespace: namespace, object: object, name: Store.vfsLockName, why: "the previous holder of the database")
        }
        if !store.isOpen {
            let store = self.store
            try await cluster.blockingPool.run { try store.open() }
            logger.info("database open at \(store.path)")
        }
        let vfs = try await store.vfsClientAddress().map(ClusterLease.plainAddress)
        let clients = mine + (vfs.map { [$0] } ?? [])
        try await lease.publish(clients: clients, database: store.path)

        // 3. The database that last ran jobs on these pools, and no other.
        let identity = try await checkIdentity()

        // 4. Clients earlier daemons recorded in the database (on any host) and nobody fenced yet.
        let earlier = try await store.read { tx in try tx.unfencedDaemonClients(excluding: Set(clients)) }
        fenced += await lease.blocklist(earlier, why: "earlier daemons of this database")
        let recorded = fenced
        try await store.write { tx in
            for client in clients { try tx.recordDaemonClient(client) }
            try tx.markFenced(recorded)
        }
        logger.notice("took over \(identity) at \(store.path)")
    }

    /// Refuses a database other than the one the cluster says last ran jobs (another host's,
    /// or an old copy of it); otherwise counts this takeover and records it in the cluster.
    private func checkIdentity() async throws -> DatabaseIdentity {
        let mine = try await store.read { tx in try tx.identity() }
        let empty = try await store.read { tx in try tx.isEmpty() }
        let pool = settings.pool
        if let recorded = try await lease.recordedDatabase() {
            if recorded.identity.id != mine.id {
                let what = empty ? "a new, empty database" : "another database"
                throw Refused(message: """
                    refusing to take over: \(store.path) is \(what) (\(mine.id)), but the pools were last run from \
                    \(recorded.identity) at \(recorded.location) on \(recorded.host); taking over would forget its attachments, \
                    jobs and deletes. Use state_store = rados so every host shares one database (volumed migrate-state --to rados \
                    on the host holding it), or rebuild this one from the cluster with `volumed rebuild-state`
                    """)
            }
            if mine.generation < recorded.identity.generation {
                throw Refused(message: """
                    refusing to take over: \(store.path) is an old copy of \(recorded.identity.id) (generation \(mine.generation); \
                    generation \(recorded.identity.generation) ran jobs since, at \(recorded.location) on \(recorded.host)). \
                    Use that database (or state_store = rados), or rebuild this one from the cluster with `volumed rebuild-state`
                    """)
            }
        } else if empty {
            // No database ever ran jobs here: a new pool set, or one from before this record.
            await rebuildFromTags()
        }
        let next = try await store.write { tx in try tx.nextGeneration() }
        try await ClusterLease.recordDatabase(next, location: store.path, cluster: cluster, pool: pool)
        return next
    }

    private func rebuildFromTags() async {
        do {
            let summary = try await StateRebuild.run(store: store, cluster: cluster, settings: settings)
            if summary.volumes + summary.snapshots + summary.images > 0 {
                logger.notice("the database was empty: rebuilt \(summary) from the cluster's tags")
            }
        } catch {
            logger.error("could not rebuild the empty database from the cluster: \(error)")
        }
    }
}

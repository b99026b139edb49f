import Foundation
import Lifecycle
import Logging
import RBD
import Synchronization
import VolumeStore

/// The differences between the database and the pools, found and repaired as a job: it opens
/// every image, so it runs on a worker beside the others (never on the request's path), and a
/// repairing one holds every lock (no job changes anything while it looks and repairs).
extension Engine {
    /// Compares the database with the pools. With `fix`, records what is missing as `error`
    /// (purged) and queues purges for stale snapshots; unknown images and trash are only reported.
    /// Waits for the job and returns its report.
    public func reconcile(fix: Bool) async throws -> Drift {
        let job = try await store.admit { tx -> JobRecord in
            let id = newID()
            let job = JobRecord(
                id: id, kind: .reconcile, lockKey: fix ? Scheduler.everything : "reconcile:\(id)",
                params: try ReconcileParameters(fix: fix).encoded())
            try tx.insert(job)
            return job
        }
        await accept(job, detail: fix ? " with fix" : "")
        let final = try await wait(jobID: job.id)
        let result = takeResult(of: job.id)
        guard final.state == .succeeded, let report = result as? ReconcileReport else {
            throw EngineError(kind: final.errorKind ?? .internalError, message: final.errorMessage ?? "reconcile job \(job.id) \(final.state.rawValue)")
        }
        return report.drift
    }
}

/// A reconcile's report, filled in by its job (the repairs are written with the job's end).
final class ReconcileReport: Sendable {
    private let value: Mutex<Drift>
    init(_ drift: Drift) { value = Mutex(drift) }
    var drift: Drift { value.withLock { $0 } }
    func recordFixed(_ fixed: [String]) { value.withLock { $0.fixed = fixed } }
}

/// The `service.reconcile` job.
struct ReconcilePools: Operation {
    let fix: Bool

    func run(_ context: JobContext) async throws -> Completion {
        let (report, repairs) = try await Self.drift(context.store, context.cluster, context.settings)
        let result = ReconcileReport(report)
        context.deliver(result)
        context.note(report.isClean ? "clean" : "drift found")
        guard fix else { return { _ in [] } }
        let logger = context.logger
        return { tx in
            let (fixed, purges) = try repairs.apply(tx)
            result.recordFixed(fixed)
            if !fixed.isEmpty { logger.notice("reconcile fixed: \(fixed.joined(separator: "; "))") }
            return purges
        }
    }

    func rollback(_ context: JobContext, error: EngineError) async -> Completion { { _ in [] } }

    /// What a repair changes: rows whose RBD object is gone, and volumes with stale snapshots.
    struct Repairs: Sendable {
        var missingVolumes: [String] = [], missingImageIDs: [String] = [], missingSnapshotIDs: [String] = []
        var stale: Set<String> = []
    }

    static func drift(_ store: Store, _ cluster: Cluster, _ settings: EngineSettings) async throws -> (Drift, Repairs) {
        let pools = ClusterInventory.pools(settings)
        let inventory = try await cluster.run { session in try ClusterInventory.read(session, pools: pools) }
        let (volumes, images, snapshots, children, backups) = try await store.read { tx in
            let volumes = try tx.unpurgedVolumes()
            var children: [String: Set<String>] = [:]
            for volume in volumes { if let parent = volume.parentVolumeID, let snap = volume.parentSnapshot { children[parent, default: []].insert(snap) } }
            return (volumes, try tx.unpurgedImages(), try tx.unpurgedSnapshots(), children, try tx.unpurgedBackups())
        }
        var report = Drift()
        let present = Dictionary(inventory.images.map { ("\($0.pool)/\($0.name)", $0) }, uniquingKeysWith: { first, _ in first })
        var known = Set<String>()
        var repairs = Repairs()
        for volume in volumes {
            let location = "\(volume.pool)/\(volume.rbdImage)"
            known.insert(location)
            guard let entry = present[location] else {
                if !VolumeLifecycle.mayLackImage(volume.status) {
                    report.missingImages.append(.init(location: location, id: volume.id, detail: "volume \(volume.status.rawValue), image missing"))
                    repairs.missingVolumes.append(volume.id)
                }
                continue
            }
            let rows = snapshots.filter { $0.volumeID == volume.id }
            let onImage = Set(entry.snapshots.map(\.name))
            for row in rows where !onImage.contains(row.rbdSnapshot) && row.status != .creating {
                report.missingSnapshots.append(.init(location: "\(location)@\(row.rbdSnapshot)", id: row.id, detail: "snapshot \(row.status), missing"))
                repairs.missingSnapshotIDs.append(row.id)
            }
            // Wanted too: the snapshots of images being copied from this volume.
            let copying = images.filter { $0.status == .creating }.map { RBDNames.imageSourceSnapshot(for: $0.id) }
            // And the bases of its next incremental backups.
            let backupSources = backups.filter { $0.volumeID == volume.id }.compactMap(\.sourceSnapshot)
            let wanted = Set(rows.filter { $0.status != .deleted }.map(\.rbdSnapshot)).union(children[volume.id] ?? []).union(copying)
                .union(backupSources)
            let adopted = RBDNames.adoptedSnapshots(entry.tags[RBDNames.adoptedSnapshotsKey])
            // A deferred deletion keeps everything until its time: nothing of it is stale yet.
            let deferred = !VolumeLifecycle.mayPurge(volume, now: Date())
            for snap in entry.snapshots where !deferred && RBDNames.isManagedSnapshot(snap.name) && !wanted.contains(snap.name) && !adopted.contains(snap.name) {
                report.staleSnapshots.append(.init(location: "\(location)@\(snap.name)", id: volume.id, detail: "nothing depends on it"))
                repairs.stale.insert(volume.id)
            }
        }
        for image in images {
            let location = "\(image.pool)/\(image.rbdImage)"
            known.insert(location)
            if present[location] == nil && image.status != .creating {
                report.missingImages.append(.init(location: location, id: image.id, detail: "image \(image.status), RBD image missing"))
                repairs.missingImageIDs.append(image.id)
            }
        }
        // Backup chains are the backups' (their pool may be one of these).
        for backup in backups { known.insert("\(backup.pool)/\(backup.chainImage)") }
        for entry in inventory.images where !known.contains("\(entry.pool)/\(entry.name)") {
            let owner = entry.volumeID.map { "tagged as volume \($0)" } ?? entry.imageID.map { "tagged as image \($0)" } ?? "not volumed's"
            report.unknownImages.append(.init(location: "\(entry.pool)/\(entry.name)", id: entry.volumeID ?? entry.imageID, detail: owner))
        }
        for (pool, entries) in inventory.trash.sorted(by: { $0.key < $1.key }) {
            for entry in entries { report.trash.append(.init(location: "\(pool)/\(entry.name)", id: nil, detail: "trash id \(entry.id)")) }
        }
        report.clean = report.isClean
        return (report, repairs)
    }
}

extension ReconcilePools.Repairs {
    /// Writes the repairs (with the job's end); returns what was fixed and the purges to queue.
    func apply(_ tx: StoreTransaction) throws -> ([String], [JobRecord]) {
        var fixed: [String] = []
        var purges: [JobRecord] = []
        for id in missingVolumes {
            guard let row = try tx.volume(id), !row.purged else { continue }
            let volume = VolumeLifecycle.imageGone(row)
            try tx.update(volume)
            fixed.append("volume \(id): image missing, marked \(volume.status)")
        }
        for id in missingImageIDs {
            guard let row = try tx.image(id), !row.purged else { continue }
            let image = ImageLifecycle.imageGone(row)
            try tx.update(image)
            fixed.append("image \(id): RBD image missing, marked \(image.status)")
        }
        for id in missingSnapshotIDs {
            guard let row = try tx.snapshot(id), !row.purged else { continue }
            let snapshot = SnapshotLifecycle.snapshotGone(row)
            try tx.update(snapshot)
            fixed.append("snapshot \(id): missing, marked \(snapshot.status)")
        }
        for id in stale.sorted() {
            if let job = try JobQueue.queuePurge(tx, volumeID: id) { purges.append(job) }
            fixed.append("volume \(id): purge queued for stale snapshots")
        }
        return (fixed, purges)
    }
}

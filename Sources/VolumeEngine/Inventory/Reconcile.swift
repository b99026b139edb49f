import Foundation
import Lifecycle
import RBD
import VolumeStore

/// The differences between the database and the pools.
extension Engine {
    /// Compares the database with the pools. With `fix`, records what is missing as `error`
    /// (purged) and queues purges for stale snapshots; unknown images and trash are only reported.
    public func reconcile(fix: Bool) async throws -> Drift {
        let pools = ClusterInventory.pools(settings)
        let inventory = try await cluster.run { session in try ClusterInventory.read(session, pools: pools) }
        let (volumes, images, snapshots, children) = try await store.read { tx in
            let volumes = try tx.unpurgedVolumes()
            var children: [String: Set<String>] = [:]
            for volume in volumes { if let parent = volume.parentVolumeID, let snap = volume.parentSnapshot { children[parent, default: []].insert(snap) } }
            return (volumes, try tx.unpurgedImages(), try tx.unpurgedSnapshots(), children)
        }
        var report = Drift()
        let present = Dictionary(inventory.images.map { ("\($0.pool)/\($0.name)", $0) }, uniquingKeysWith: { first, _ in first })
        var known = Set<String>()
        var missingVolumes: [String] = [], missingImageIDs: [String] = [], missingSnapshotIDs: [String] = [], stale: Set<String> = []
        for volume in volumes {
            let location = "\(volume.pool)/\(volume.rbdImage)"
            known.insert(location)
            guard let entry = present[location] else {
                if !VolumeLifecycle.mayLackImage(volume.status) {
                    report.missingImages.append(.init(location: location, id: volume.id, detail: "volume \(volume.status.rawValue), image missing"))
                    missingVolumes.append(volume.id)
                }
                continue
            }
            let rows = snapshots.filter { $0.volumeID == volume.id }
            let onImage = Set(entry.snapshots.map(\.name))
            for row in rows where !onImage.contains(row.rbdSnapshot) && row.status != .creating {
                report.missingSnapshots.append(.init(location: "\(location)@\(row.rbdSnapshot)", id: row.id, detail: "snapshot \(row.status), missing"))
                missingSnapshotIDs.append(row.id)
            }
            let wanted = Set(rows.filter { $0.status != .deleted }.map(\.rbdSnapshot)).union(children[volume.id] ?? [])
            let adopted = RBDNames.adoptedSnapshots(entry.tags[RBDNames.adoptedSnapshotsKey])
            for snap in entry.snapshots where RBDNames.isManagedSnapshot(snap.name) && !wanted.contains(snap.name) && !adopted.contains(snap.name) {
                report.staleSnapshots.append(.init(location: "\(location)@\(snap.name)", id: volume.id, detail: "nothing depends on it"))
                stale.insert(volume.id)
            }
        }
        for image in images {
            let location = "\(image.pool)/\(image.rbdImage)"
            known.insert(location)
            if present[location] == nil && image.status != .creating {
                report.missingImages.append(.init(location: location, id: image.id, detail: "image \(image.status), RBD image missing"))
                missingImageIDs.append(image.id)
            }
        }
        for entry in inventory.images where !known.contains("\(entry.pool)/\(entry.name)") {
            let owner = entry.volumeID.map { "tagged as volume \($0)" } ?? entry.imageID.map { "tagged as image \($0)" } ?? "not volumed's"
            report.unknownImages.append(.init(location: "\(entry.pool)/\(entry.name)", id: entry.volumeID ?? entry.imageID, detail: owner))
        }
        for (pool, entries) in inventory.trash.sorted(by: { $0.key < $1.key }) {
            for entry in entries { report.trash.append(.init(location: "\(pool)/\(entry.name)", id: nil, detail: "trash id \(entry.id)")) }
        }
        report.clean = report.isClean
        guard fix else { return report }

        let (fixed, purges) = try await store.write { [missingVolumes, missingImageIDs, missingSnapshotIDs, stale] tx -> ([String], [JobRecord]) in
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
        for job in purges { await enqueue(job) }
        report.fixed = fixed
        if !fixed.isEmpty { logger.notice("reconcile fixed: \(fixed.joined(separator: "; "))") }
        return report
    }
}

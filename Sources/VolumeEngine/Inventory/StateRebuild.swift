import Foundation
import Lifecycle
import RBD
import VolumeStore

/// Rebuilds a lost database from the cluster alone: every image tagged `volumed.volume_id`
/// becomes a volume, its `snapshot-<id>` snapshots become snapshots, every image tagged
/// `volumed.image_id` becomes an image-store image; parents come from librbd, clone depths
/// from walking them. Jobs and attachments are not in the cluster and are not rebuilt.
public enum StateRebuild {
    public struct Summary: Sendable, Equatable, CustomStringConvertible {
        public var volumes = 0
        public var snapshots = 0
        public var images = 0
        public var description: String { "\(volumes) volume(s), \(snapshots) snapshot(s), \(images) image(s)" }
    }

    /// Reads the pools and fills `store`, which must be empty.
    public static func run(store: Store, cluster: Cluster, settings: EngineSettings) async throws -> Summary {
        guard try await store.read({ try $0.isEmpty() }) else {
            throw EngineError.conflict("the database at \(store.path) is not empty: move it away before rebuilding")
        }
        let pools = ClusterInventory.pools(settings)
        let inventory = try await cluster.run { session in try ClusterInventory.read(session, pools: pools) }
        let (images, volumes, snapshots) = records(from: inventory, fsid: cluster.fsid ?? "unknown")
        try await store.write { tx in
            for image in images { try tx.insert(image) }
            for volume in volumes { try tx.insert(volume) }
            for snapshot in snapshots { try tx.insert(snapshot) }
        }
        return Summary(volumes: volumes.count, snapshots: snapshots.count, images: images.count)
    }

    /// The rows the inventory describes; volumes ordered parents first.
    static func records(from inventory: ClusterInventory, fsid: String) -> ([ImageRecord], [VolumeRecord], [SnapshotRecord]) {
        let byLocation = Dictionary(inventory.images.map { ("\($0.pool)/\($0.name)", $0) }, uniquingKeysWith: { first, _ in first })
        func depth(_ entry: ClusterInventory.Entry) -> Int {
            var hops = 0
            var next = entry.parent
            while let link = next, hops < 64 {
                hops += 1
                next = byLocation["\(link.pool)/\(link.image)"]?.parent
            }
            return hops
        }
        func gib(_ bytes: UInt64) -> Int { max(1, Int((bytes + (1 << 30) - 1) >> 30)) }

        var images: [ImageRecord] = []
        for entry in inventory.images {
            guard let id = entry.imageID else { continue }
            var image = ImageRecord(
                id: id, name: entry.tags[RBDNames.nameKey] ?? "", status: .error, pool: entry.pool, rbdImage: entry.name,
                sizeBytes: Int64(entry.size), now: entry.createdAt)
            if entry.snapshots.contains(where: { $0.name == RBDNames.imageSnapshot && $0.protected }) {
                image.status = .active
                image.location = RBDNames.location(fsid: fsid, pool: entry.pool, image: entry.name)
            }
            image.checksum = entry.tags[RBDNames.checksumKey]
            images.append(image)
        }

        var volumes: [VolumeRecord] = []
        var snapshots: [SnapshotRecord] = []
        for entry in inventory.images {
            guard let id = entry.volumeID else { continue }
            var volume = VolumeRecord(
                id: id, name: entry.tags[RBDNames.nameKey] ?? "", sizeGB: gib(entry.size),
                status: entry.tags[RBDNames.statusKey] == VolumeStatus.deleted.rawValue ? .deleted : .available, pool: entry.pool,
                rbdImage: entry.name, cloneDepth: depth(entry),
                multiattach: entry.features & IOContext.defaultFeatures != IOContext.defaultFeatures, now: entry.createdAt)
            if let parent = entry.parent, let owner = byLocation["\(parent.pool)/\(parent.image)"] {
                volume.parentSnapshot = parent.snapshot
                if let parentVolume = owner.volumeID {
                    volume.parentVolumeID = parentVolume
                    if let snapshotID = RBDNames.snapshotID(fromSnapshot: parent.snapshot) {
                        (volume.sourceKind, volume.sourceID) = (.snapshot, snapshotID)
                    } else {
                        (volume.sourceKind, volume.sourceID) = (.volume, parentVolume)
                    }
                } else if let parentImage = owner.imageID {
                    volume.parentImageID = parentImage
                    (volume.sourceKind, volume.sourceID) = (.image, parentImage)
                }
            }
            volumes.append(volume)
            for snap in entry.snapshots {
                guard let snapshotID = RBDNames.snapshotID(fromSnapshot: snap.name) else { continue }
                let deleted = entry.tags[RBDNames.snapshotDeletedKey(snapshotID)] != nil
                snapshots.append(SnapshotRecord(
                    id: snapshotID, volumeID: id, name: entry.tags[RBDNames.snapshotNameKey(snapshotID)] ?? "",
                    status: deleted ? .deleted : .available, rbdSnapshot: snap.name, sizeGB: gib(snap.size), now: snap.createdAt))
            }
        }
        // Parents before children, for the foreign keys.
        volumes.sort { ($0.cloneDepth, $0.createdAt) < ($1.cloneDepth, $1.createdAt) }
        return (images, volumes, snapshots)
    }
}

import Foundation
import RBD

/// Everything the pools hold that volumed cares about, read from the cluster alone: images,
/// their volumed tags, parents, snapshots, and the trash. The ground truth that reconcile
/// compares the database with and that `volumed rebuild-state` rebuilds it from.
public struct ClusterInventory: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var name: String
        public var size: UInt64
        public var protected: Bool
        public var createdAt: Date
    }

    public struct Entry: Sendable {
        public var pool: String
        public var name: String
        public var size: UInt64
        public var createdAt: Date
        public var features: UInt64
        public var parent: Image.Parent?
        /// `volumed.*` metadata.
        public var tags: [String: String]
        public var snapshots: [Snapshot]

        public var volumeID: String? { tags[RBDNames.volumeIDKey] }
        public var imageID: String? { tags[RBDNames.imageIDKey] }
    }

    public var images: [Entry]
    /// Trash entries per pool, as `(id, name)`.
    public var trash: [String: [(id: String, name: String)]]

    /// Reads `pools` on the blocking pool (one open per image).
    static func read(_ session: Cluster.Session, pools: [String]) throws -> ClusterInventory {
        var images: [Entry] = []
        var trash: [String: [(id: String, name: String)]] = [:]
        for pool in pools {
            let io = try session.pool(pool)
            trash[pool] = try io.trashEntries()
            for (id, name) in try io.listImages() {
                do {
                    let entry = try io.withImage(name, readOnly: true) { image -> Entry in
                        let snapshots = try image.snapshots().map { snap in
                            Snapshot(name: snap.name, size: snap.size, protected: try image.isProtected(snap.name),
                                     createdAt: Date(timeIntervalSince1970: try image.snapshotCreatedAt(id: snap.id)))
                        }
                        return Entry(
                            pool: pool, name: name, size: try image.size(),
                            createdAt: Date(timeIntervalSince1970: try image.createdAt()), features: try image.features(),
                            parent: try image.parent(), tags: try image.metadata(prefix: RBDNames.tagPrefix), snapshots: snapshots)
                    }
                    images.append(entry)
                } catch let error as RBDError where error.code == .notFound {
                    // Removed while we listed — or half-removed (in the trash, hidden from
                    // rbd_trash_list, listed by name) by a client killed inside rbd_remove.
                    if try io.listImages().contains(where: { $0.id == id }) {
                        trash[pool, default: []].append((id, name))
                    }
                }
            }
        }
        return ClusterInventory(images: images, trash: trash)
    }

    /// Pools volumed uses.
    static func pools(_ settings: EngineSettings) -> [String] {
        settings.volumePools + [settings.imagePool].filter { !settings.volumePools.contains($0) }
    }
}

import Foundation

/// What a purge of one volume's image may remove, and what it records afterwards, derived from
/// the database alone (pure; the engine asks librbd, which refuses anything a clone still needs).
///
/// A snapshot is wanted while it is live or a clone hangs from it; the image goes once the volume
/// is deleted and nothing is wanted. When an image goes, its parent is purged next: any order of
/// deletes ends with an empty pool.
public struct PurgePlan: Sendable, Equatable {
    /// RBD snapshot names that must stay.
    public var wanted: Set<String>
    /// The image itself may go.
    public var removeImage: Bool
    /// Nothing hangs from the image as far as the database knows: it may be removed without
    /// opening it (librbd still refuses if it has snapshots after all).
    public var removeWithoutOpening: Bool
    /// Deleted snapshots (ids) that stay because clones hang from them: tagged on the image so
    /// a rebuilt database knows they are deleted.
    public var deletedButKept: [String]

    /// - Parameters:
    ///   - snapshots: the volume's unpurged snapshots.
    ///   - children: the volumes whose images are clones of this volume's image.
    ///   - backupSources: the snapshots its backups were read from (the bases of its next
    ///     incremental backups): wanted while the volume lives, not once it is deleted.
    public init(volume: VolumeRecord, snapshots: [SnapshotRecord], children: [VolumeRecord], backupSources: Set<String> = []) {
        let cloneSnapshots = Set(children.compactMap(\.parentSnapshot))
        wanted = Set(snapshots.filter { $0.status != .deleted }.map(\.rbdSnapshot)).union(cloneSnapshots)
            .union(volume.status == .deleted ? [] : backupSources)
        removeImage = volume.status == .deleted && wanted.isEmpty
        removeWithoutOpening = removeImage && snapshots.isEmpty && children.isEmpty
        deletedButKept = snapshots.filter { $0.status == .deleted && cloneSnapshots.contains($0.rbdSnapshot) }.map(\.id)
    }

    /// What the purge did, and the rows it writes for it.
    public struct Recorded: Sendable, Equatable {
        public var volume: VolumeRecord
        public var snapshots: [SnapshotRecord]
        /// The parent volume to purge next (its clone is gone).
        public var purgeNext: String?
    }

    /// The rows once the purge removed `removedSnapshots` (RBD names), and the image when
    /// `imageRemoved`. A live row whose RBD object vanished becomes `error`. `volume` is the
    /// row as committed when the purge ends (re-read, not the one its plan came from): a
    /// deferred deletion whose time has come is over from now on (it purges as any delete),
    /// but one whose delay still runs keeps its deadline, even if this purge started before
    /// the delete (it then removed only what was deleted before).
    public static func recorded(
        volume: VolumeRecord, snapshots: [SnapshotRecord], removedSnapshots: [String], imageRemoved: Bool, now: Date
    ) -> Recorded {
        var volume = volume
        if volume.status == .deleted, VolumeLifecycle.mayPurge(volume, now: now) { volume.purgeAfter = nil }
        let changed = snapshots.filter { imageRemoved || removedSnapshots.contains($0.rbdSnapshot) }.map(SnapshotLifecycle.snapshotGone)
        guard imageRemoved && !volume.purged else { return Recorded(volume: volume, snapshots: changed, purgeNext: nil) }
        return Recorded(volume: VolumeLifecycle.imageGone(volume), snapshots: changed, purgeNext: volume.parentVolumeID)
    }
}

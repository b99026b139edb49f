import Lifecycle

/// How volumed names things in RBD. These match Cinder's and Glance's so operators recognise them.
public enum RBDNames {
    public static func volumeImage(_ volumeID: String) -> String { "volume-\(volumeID)" }
    public static func snapshot(_ snapshotID: String) -> String { "snapshot-\(snapshotID)" }
    /// The snapshot taken on a source volume to clone `destinationVolumeID` from it.
    public static func cloneSnapshot(for destinationVolumeID: String) -> String { "volume-\(destinationVolumeID).clone_snap" }
    /// The image store names an image by its id (Glance does) and clones from its snapshot `snap`.
    public static func storeImage(_ imageID: String) -> String { imageID }
    public static let imageSnapshot = "snap"

    /// The snapshot taken on a volume to copy image-store image `imageID` from it.
    public static func imageSourceSnapshot(for imageID: String) -> String { "image-\(imageID).source_snap" }

    /// The snapshot of a volume backup `backupID` was read from (the base of the next incremental).
    public static func backupSourceSnapshot(for backupID: String) -> String { BackupRecord.sourceSnapshot(of: backupID) }
    /// The image in the backup pool that a full backup starts (its incremental ones write onto it).
    public static func backupChain(for backupID: String) -> String { BackupRecord.chainImage(startedBy: backupID) }

    /// Snapshots volumed creates (and so may remove).
    public static func isManagedSnapshot(_ name: String) -> Bool {
        name.hasPrefix("snapshot-") || name.hasSuffix(".clone_snap") || name.hasSuffix(".source_snap")
    }

    /// The snapshot id in a `snapshot-<id>` name.
    public static func snapshotID(fromSnapshot name: String) -> String? {
        name.hasPrefix("snapshot-") ? String(name.dropFirst("snapshot-".count)) : nil
    }

    /// `rbd://<fsid>/<pool>/<image>/<snapshot>`, Glance's location of an image.
    public static func location(fsid: String, pool: String, image: String) -> String {
        "rbd://\(fsid)/\(pool)/\(image)/\(imageSnapshot)"
    }

    // MARK: metadata tags: what the cluster alone must say for `volumed rebuild-state`

    /// Names the volume an image belongs to.
    public static let volumeIDKey = "volumed.volume_id"
    /// Names the image-store image an RBD image is.
    public static let imageIDKey = "volumed.image_id"
    /// The display name, when there is one.
    public static let nameKey = "volumed.name"
    /// `deleted` on the image of a deleted volume kept for its clones.
    public static let statusKey = "volumed.status"
    /// The sha256 of an image's data.
    public static let checksumKey = "volumed.checksum"
    /// The display name of user snapshot `snapshotID` (set on the volume's image).
    public static func snapshotNameKey(_ snapshotID: String) -> String { "volumed.snapshot.\(snapshotID).name" }
    /// Set on the volume's image when user snapshot `snapshotID` is deleted but kept for clones.
    public static func snapshotDeletedKey(_ snapshotID: String) -> String { "volumed.snapshot.\(snapshotID).deleted" }
    /// The snapshots an image already had when `volume.manage` adopted it, one per line: not
    /// volumed's, so never purged, whatever their names (`snapshot-pre-upgrade` looks like ours).
    public static let adoptedSnapshotsKey = "volumed.adopted_snapshots"
    public static func adoptedSnapshots(_ value: String?) -> Set<String> {
        Set((value ?? "").split(separator: "\n").map(String.init))
    }
    /// Every key volumed sets starts with this.
    public static let tagPrefix = "volumed."
}

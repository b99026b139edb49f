/// How volumed names things in RBD. These match Cinder's so operators recognise them.
public enum RBDNames {
    public static func volumeImage(_ volumeID: String) -> String { "volume-\(volumeID)" }
    public static func snapshot(_ snapshotID: String) -> String { "snapshot-\(snapshotID)" }
    /// The snapshot taken on a source volume to clone `destinationVolumeID` from it.
    public static func cloneSnapshot(for destinationVolumeID: String) -> String { "volume-\(destinationVolumeID).clone_snap" }

    /// Image metadata naming the volume an image belongs to, so the cluster alone can tell.
    public static let volumeIDKey = "volumed.volume_id"

    /// Snapshots volumed creates (and so may remove).
    public static func isManagedSnapshot(_ name: String) -> Bool {
        name.hasPrefix("snapshot-") || name.hasSuffix(".clone_snap")
    }
}

/// How many volumes, snapshots and images are in each status users see (raw values;
/// tombstones left out), for the metrics.
public struct InventoryCounts: Sendable, Equatable {
    public var volumes: [String: Int]
    public var snapshots: [String: Int]
    public var images: [String: Int]

    public init(volumes: [String: Int], snapshots: [String: Int], images: [String: Int]) {
        self.volumes = volumes
        self.snapshots = snapshots
        self.images = images
    }
}

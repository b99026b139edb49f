/// How much of a thin volume is really used (`volume.usage`), as `rbd du` computes it: per
/// snapshot (what changed since the one before) and for the head (since the last snapshot).
public struct VolumeUsage: Sendable, Codable, Equatable {
    public struct Part: Sendable, Codable, Equatable {
        /// The RBD snapshot, or nil for the image itself (its head).
        @Nullable public var rbdSnapshot: String?
        public var provisionedBytes: Int64
        public var usedBytes: Int64

        public init(rbdSnapshot: String?, provisionedBytes: Int64, usedBytes: Int64) {
            self.rbdSnapshot = rbdSnapshot
            self.provisionedBytes = provisionedBytes
            self.usedBytes = usedBytes
        }

        enum CodingKeys: String, CodingKey {
            case rbdSnapshot = "rbd_snapshot", provisionedBytes = "provisioned_bytes", usedBytes = "used_bytes"
        }
    }

    public var volumeID: String
    /// The volume's size.
    public var provisionedBytes: Int64
    /// The head's and every snapshot's used bytes together (`rbd du`'s total).
    public var usedBytes: Int64
    /// Snapshots oldest first, then the head.
    public var parts: [Part]

    public init(volumeID: String, parts: [Part]) {
        self.volumeID = volumeID
        self.provisionedBytes = parts.last?.provisionedBytes ?? 0
        self.usedBytes = parts.reduce(0) { $0 + $1.usedBytes }
        self.parts = parts
    }

    enum CodingKeys: String, CodingKey {
        case volumeID = "volume_id", provisionedBytes = "provisioned_bytes", usedBytes = "used_bytes", parts
    }
}

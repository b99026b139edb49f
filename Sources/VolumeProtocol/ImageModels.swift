import Foundation

/// An image of the image store (Glance's RBD store), as clients see it.
public struct Image: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    /// `creating`, `active`, `deleting`, `deleted` or `error`.
    public var status: String
    public var pool: String
    public var rbdImage: String
    public var sizeBytes: Int64
    /// sha256 of the data (hex), once uploaded.
    @Nullable public var checksum: String?
    /// `rbd://<fsid>/<pool>/<image>/snap`, once active.
    @Nullable public var location: String?
    public var createdAt: Date

    public init(id: String, name: String, status: String, pool: String, rbdImage: String, sizeBytes: Int64,
                checksum: String?, location: String?, createdAt: Date) {
        self.id = id
        self.name = name
        self.status = status
        self.pool = pool
        self.rbdImage = rbdImage
        self.sizeBytes = sizeBytes
        self.checksum = checksum
        self.location = location
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, status, pool, rbdImage = "rbd_image", sizeBytes = "size_bytes", checksum, location
        case createdAt = "created_at"
    }
}

/// A host using a volume.
public struct Attachment: Sendable, Codable, Equatable {
    public var id: String
    public var volumeID: String
    public var host: String
    public var createdAt: Date

    public init(id: String, volumeID: String, host: String, createdAt: Date) {
        self.id = id
        self.volumeID = volumeID
        self.host = host
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey { case id, volumeID = "volume_id", host, createdAt = "created_at" }
}

/// Cinder's connection info: `{driver_volume_type: "rbd", data: {...}}`, what os-brick and
/// libvirt need to open the volume over librbd.
public struct ConnectionInfo: Sendable, Codable, Equatable {
    public var driverVolumeType: String
    public var data: Data

    public struct Data: Sendable, Codable, Equatable {
        /// `<pool>/<image>`.
        public var name: String
        public var hosts: [String]
        public var ports: [String]
        public var clusterName: String
        public var authEnabled: Bool
        public var authUsername: String
        public var secretType: String
        @Nullable public var secretUUID: String?
        public var volumeID: String
        public var discard: Bool
        public var accessMode: String

        public init(name: String, hosts: [String], ports: [String], clusterName: String, authEnabled: Bool, authUsername: String,
                    secretUUID: String?, volumeID: String) {
            self.name = name
            self.hosts = hosts
            self.ports = ports
            self.clusterName = clusterName
            self.authEnabled = authEnabled
            self.authUsername = authUsername
            self.secretType = "ceph"
            self.secretUUID = secretUUID
            self.volumeID = volumeID
            self.discard = true
            self.accessMode = "rw"
        }

        enum CodingKeys: String, CodingKey {
            case name, hosts, ports, clusterName = "cluster_name", authEnabled = "auth_enabled", authUsername = "auth_username"
            case secretType = "secret_type", secretUUID = "secret_uuid", volumeID = "volume_id", discard, accessMode = "access_mode"
        }
    }

    public init(data: Data) {
        self.driverVolumeType = "rbd"
        self.data = data
    }

    enum CodingKeys: String, CodingKey { case driverVolumeType = "driver_volume_type", data }
}

/// The answer to `volume.attach`.
public struct AttachResult: Sendable, Codable, Equatable {
    public var attachment: Attachment
    public var connectionInfo: ConnectionInfo
    public var volume: Volume

    public init(attachment: Attachment, connectionInfo: ConnectionInfo, volume: Volume) {
        self.attachment = attachment
        self.connectionInfo = connectionInfo
        self.volume = volume
    }

    enum CodingKeys: String, CodingKey { case attachment, connectionInfo = "connection_info", volume }
}

/// One pool's capacity (`service.capacity`), in bytes.
public struct PoolCapacity: Sendable, Codable, Equatable {
    public var pool: String
    public var totalBytes: Int64
    public var freeBytes: Int64
    public var usedBytes: Int64
    public var provisionedBytes: Int64
    @Nullable public var quotaBytes: Int64?
    public var overSubscriptionRatio: Double

    public init(pool: String, totalBytes: Int64, freeBytes: Int64, usedBytes: Int64, provisionedBytes: Int64,
                quotaBytes: Int64?, overSubscriptionRatio: Double) {
        self.pool = pool
        self.totalBytes = totalBytes
        self.freeBytes = freeBytes
        self.usedBytes = usedBytes
        self.provisionedBytes = provisionedBytes
        self.quotaBytes = quotaBytes
        self.overSubscriptionRatio = overSubscriptionRatio
    }

    enum CodingKeys: String, CodingKey {
        case pool, totalBytes = "total_bytes", freeBytes = "free_bytes", usedBytes = "used_bytes"
        case provisionedBytes = "provisioned_bytes", quotaBytes = "quota_bytes", overSubscriptionRatio = "over_subscription_ratio"
    }
}

/// `service.reconcile`: where the database and the pools disagree.
public struct Drift: Sendable, Codable, Equatable {
    public struct Item: Sendable, Codable, Equatable {
        public var location: String
        public var id: String?
        public var detail: String
        public init(location: String, id: String?, detail: String) {
            self.location = location
            self.id = id
            self.detail = detail
        }
    }

    public var clean: Bool
    public var unknownImages: [Item]
    public var missingImages: [Item]
    public var staleSnapshots: [Item]
    public var missingSnapshots: [Item]
    public var trash: [Item]
    public var fixed: [String]

    public init(clean: Bool, unknownImages: [Item], missingImages: [Item], staleSnapshots: [Item], missingSnapshots: [Item],
                trash: [Item], fixed: [String]) {
        self.clean = clean
        self.unknownImages = unknownImages
        self.missingImages = missingImages
        self.staleSnapshots = staleSnapshots
        self.missingSnapshots = missingSnapshots
        self.trash = trash
        self.fixed = fixed
    }

    enum CodingKeys: String, CodingKey {
        case clean, unknownImages = "unknown_images", missingImages = "missing_images", staleSnapshots = "stale_snapshots"
        case missingSnapshots = "missing_snapshots", trash, fixed
    }
}

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

    enum CodingKeys: String, CodingKey { case id, volumeID = "volume_id", host, createdAt = "created_at" }
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

import Foundation

/// An image in the image store (Glance's RBD store): `<pool>/<id>` with the protected snapshot
/// `snap` that volumes and VM disks are cloned from.
public struct ImageRecord: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var status: ImageStatus
    public var pool: String
    public var rbdImage: String
    public var sizeBytes: Int64
    /// sha256 of the data, hex.
    public var checksum: String?
    /// `rbd://<fsid>/<pool>/<image>/snap`, once active.
    public var location: String?
    public var purged: Bool
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, status, pool, rbdImage = "rbd_image", sizeBytes = "size_bytes", checksum, location, purged
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    public init(id: String, name: String, status: ImageStatus, pool: String, rbdImage: String, sizeBytes: Int64 = 0, now: Date = Date()) {
        self.id = id
        self.name = name
        self.status = status
        self.pool = pool
        self.rbdImage = rbdImage
        self.sizeBytes = sizeBytes
        self.purged = false
        self.createdAt = now
        self.updatedAt = now
    }
}

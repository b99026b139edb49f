import Foundation

/// A host using a volume (Cinder's attachment): what `volume.attach` recorded.
public struct AttachmentRecord: Codable, Sendable, Equatable {
    public var id: String
    public var volumeID: String
    public var host: String
    /// The connector the caller sent, as JSON.
    public var connector: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey { case id, volumeID = "volume_id", host, connector, createdAt = "created_at" }

    public init(id: String, volumeID: String, host: String, connector: String, now: Date = Date()) {
        self.id = id
        self.volumeID = volumeID
        self.host = host
        self.connector = connector
        self.createdAt = now
    }
}

/// Where a volume is in its lifecycle. Stored (and sent) by raw value.
public enum VolumeStatus: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case creating
    case available
    /// What clients see for an available volume with attachments (Cinder's word). Never stored:
    /// the database keeps the lifecycle state and the attachment count apart.
    case inUse = "in-use"
    case extending
    case reverting
    /// `volume.manage` is adopting an existing image.
    case managing
    /// `volume.unmanage` is releasing the image.
    case unmanaging
    case deleting
    /// Gone for clients; the row stays (a tombstone) while clones or snapshots need its image.
    case deleted
    case error

    /// A job is working on the volume: nothing else may start on it.
    public var isTransitional: Bool {
        switch self {
        case .creating, .extending, .reverting, .managing, .unmanaging, .deleting: true
        case .available, .inUse, .deleted, .error: false
        }
    }

    /// The stored word, also in messages and logs.
    public var description: String { rawValue }
}

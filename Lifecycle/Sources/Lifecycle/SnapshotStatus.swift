/// Where a snapshot is in its lifecycle. Stored (and sent) by raw value.
public enum SnapshotStatus: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case creating
    case available
    case deleting
    /// Gone for clients; the RBD snapshot stays while clones hang from it.
    case deleted
    case error

    /// The stored word, also in messages and logs.
    public var description: String { rawValue }
}

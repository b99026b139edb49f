/// Where a backup is in its lifecycle. Stored (and sent) by raw value.
public enum BackupStatus: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case creating
    case available
    case deleting
    case deleted
    case error

    public var description: String { rawValue }
}

/// Where an image of the image store is in its lifecycle (Glance's words). Stored by raw value.
public enum ImageStatus: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case creating
    /// Uploaded, checksummed, with its protected `snap`: volumes may be cloned from it.
    case active
    case deleting
    case deleted
    case error

    /// The stored word, also in messages and logs.
    public var description: String { rawValue }
}

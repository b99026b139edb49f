/// What a volume was made from (`volume.source_kind`), kept after a flatten.
public enum SourceKind: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case volume
    case snapshot
    case image
    /// Adopted with `volume.manage`: an image volumed did not create.
    case managed

    /// The stored word, also in messages and logs.
    public var description: String { rawValue }
}

/// How a new volume is made from a source, decided once when the request is accepted.
public enum CloneMode: String, Sendable, Codable, Equatable {
    /// A plain, empty image.
    case blank
    /// A copy-on-write clone that stays a clone.
    case clone
    /// A clone flattened at once (depth limit reached, or flatten-from-snapshot).
    case cloneAndFlatten = "clone_and_flatten"
    /// A full copy, no clone at all (`rbd_max_clone_depth` ≤ 0).
    case copy

    /// Whether the job takes a flatten slot.
    public var flattens: Bool { self == .cloneAndFlatten || self == .copy }
}

/// How a new volume will be made from its source, and how deep its clone chain will be.
public struct ClonePlan: Sendable, Equatable {
    public var mode: CloneMode
    /// The clone depth of the new volume once its job is done.
    public var depth: Int
    /// Why the mode was chosen, for the job's note; nil for a plain clone.
    public var reason: String?

    public init(mode: CloneMode, depth: Int, reason: String?) {
        self.mode = mode
        self.depth = depth
        self.reason = reason
    }
}

/// Cinder's depth rule applied to every clone source (volume, snapshot, image), where Cinder
/// counts only volume→volume clones: a new clone may not make a chain deeper than the limit.
public enum ClonePolicy {
    /// - Parameters:
    ///   - sourceDepth: clone hops between the source image and a flat image.
    ///   - fromSnapshot: the source is a user snapshot (so `flattenFromSnapshot` applies).
    public static func plan(sourceDepth: Int, maxDepth: Int, flattenFromSnapshot: Bool, fromSnapshot: Bool) -> ClonePlan {
        if maxDepth <= 0 {
            return ClonePlan(mode: .copy, depth: 0, reason: "full copy: rbd_max_clone_depth is \(maxDepth)")
        }
        let depth = sourceDepth + 1
        if depth > maxDepth {
            return ClonePlan(mode: .cloneAndFlatten, depth: 0,
                             reason: "flattened: clone depth would be \(depth), above rbd_max_clone_depth \(maxDepth)")
        }
        if fromSnapshot && flattenFromSnapshot {
            return ClonePlan(mode: .cloneAndFlatten, depth: 0, reason: "flattened: rbd_flatten_volume_from_snapshot is true")
        }
        return ClonePlan(mode: .clone, depth: depth, reason: nil)
    }
}

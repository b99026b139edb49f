/// A row kept after its delete (a tombstone for its dependants) that clients no longer see.
public protocol Tombstoned: Sendable {
    var isDeleted: Bool { get }
}

extension VolumeRecord: Tombstoned {
    public var isDeleted: Bool { status == .deleted }
}

extension SnapshotRecord: Tombstoned {
    public var isDeleted: Bool { status == .deleted }
}

extension ImageRecord: Tombstoned {
    public var isDeleted: Bool { status == .deleted }
}

extension Optional where Wrapped: Tombstoned {
    /// The row as clients may see it: a missing or deleted one is "<what> <id> not found".
    public func visible(as what: String, id: String) throws(Refusal) -> Wrapped {
        guard let row = self, !row.isDeleted else { throw Refusal(.notFound, "\(what) \(id) not found") }
        return row
    }
}

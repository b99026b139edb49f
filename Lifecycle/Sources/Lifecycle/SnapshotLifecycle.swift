/// What may happen to a snapshot: pure functions from (its row, an event) to the row to write.
public enum SnapshotLifecycle {
    public enum Request: Sendable, Equatable {
        case delete
        /// Be the source of a new clone.
        case cloneFrom
        /// Be the snapshot a volume is reverted to (the volume's rules check the rest).
        case revertTo
    }

    /// The row to write (with the status a failed delete gives back), or why not.
    public static func admit(_ request: Request, to row: SnapshotRecord?, id: String) throws(Refusal) -> (snapshot: SnapshotRecord, priorStatus: SnapshotStatus) {
        var snapshot = try row.visible(as: request == .cloneFrom ? "source snapshot" : "snapshot", id: id)
        let prior = snapshot.status
        switch request {
        case .delete:
            guard prior == .available || prior == .error else {
                throw Refusal(.conflict, "snapshot \(id) is \(prior.rawValue); delete it when its job has ended")
            }
            snapshot.status = .deleting
        case .cloneFrom:
            guard prior == .available else { throw Refusal(.conflict, "source snapshot \(id) is \(prior.rawValue), not available") }
        case .revertTo:
            break
        }
        return (snapshot, prior)
    }

    /// The row once its RBD snapshot is gone (purged, or found missing): `error` unless deleted.
    public static func snapshotGone(_ snapshot: SnapshotRecord) -> SnapshotRecord {
        var snapshot = snapshot
        snapshot.purged = true
        if snapshot.status != .deleted { snapshot.status = .error }
        return snapshot
    }

    /// The snapshot's row once a job of `kind` has ended.
    public static func ended(_ kind: JobKind, _ outcome: VolumeLifecycle.Outcome, snapshot: SnapshotRecord, prior: SnapshotStatus = .available) -> SnapshotRecord {
        var snapshot = snapshot
        switch (kind, outcome) {
        case (.createSnapshot, .succeeded):
            if snapshot.status == .creating { snapshot.status = .available }
        case (.createSnapshot, .undone(let cancelled, _, let removed)):
            snapshot.status = cancelled && removed ? .deleted : .error
            snapshot.purged = removed
        case (.deleteSnapshot, .succeeded):
            snapshot.status = .deleted
        case (.deleteSnapshot, .undone):
            if snapshot.status == .deleting { snapshot.status = prior }
        default:
            break
        }
        return snapshot
    }
}

import Foundation

/// What may happen to a volume, as pure functions from (its row, an event) to the row to write.
/// The engine does the I/O around them: it reads the rows, asks here, writes what comes back.
public enum VolumeLifecycle {
    /// A request that changes a volume (or needs it in a given state).
    public enum Request: Sendable, Equatable {
        case delete(force: Bool)
        case extend(sizeGB: Int)
        case flatten
        case snapshot
        /// Be the source of a new clone.
        case cloneFrom
        case revert(to: SnapshotRecord, force: Bool)
        /// Attach once more; `attachedTo` names a host it is attached to already, if any.
        case attach(attachedTo: String?)
        case unmanage(hasSnapshotsOrClones: Bool)
    }

    /// An admitted request: the row to write, and what the job must remember.
    public struct Admission: Sendable, Equatable {
        public var volume: VolumeRecord
        /// The status a delete that cannot start gives back.
        public var priorStatus: VolumeStatus
        /// A forced delete drops the volume's attachments.
        public var dropsAttachments: Bool
    }

    public static func admit(_ request: Request, to row: VolumeRecord?, id: String) throws(Refusal) -> Admission {
        var volume = try row.visible(as: request == .cloneFrom ? "source volume" : "volume", id: id)
        let prior = volume.status
        var drops = false
        switch request {
        case .delete(let force):
            guard prior == .available || prior == .error else {
                throw Refusal(.conflict, "volume \(id) is \(prior.rawValue); delete it when its job has ended")
            }
            if volume.attachCount > 0 {
                guard force else {
                    throw Refusal(.inUse, "volume \(id) is in-use (attached \(volume.attachCount) time(s)): detach it first, or delete with force")
                }
                drops = true
                volume.attachCount = 0
            }
            volume.status = .deleting
        case .extend(let sizeGB):
            try requireAvailable(volume, id)
            guard sizeGB > volume.sizeGB else {
                throw Refusal(.invalid, "size_gb \(sizeGB) must be larger than the volume's \(volume.sizeGB) GiB: volumes only grow")
            }
            volume.status = .extending
        case .flatten, .snapshot:
            try requireAvailable(volume, id)
        case .cloneFrom:
            try requireAvailable(volume, id, as: "source volume")
        case .revert(let snapshot, let force):
            guard prior == .available || prior == .error else {
                throw Refusal(.conflict, "volume \(id) is \(prior.rawValue), not available")
            }
            guard snapshot.volumeID == id else {
                throw Refusal(.invalid, "snapshot \(snapshot.id) is a snapshot of volume \(snapshot.volumeID), not of \(id)")
            }
            guard snapshot.status == .available else {
                throw Refusal(.conflict, "snapshot \(snapshot.id) is \(snapshot.status.rawValue), not available")
            }
            guard volume.attachCount == 0 || force else {
                throw Refusal(.inUse, "volume \(id) is in-use: detach it before reverting, or revert with force")
            }
            volume.status = .reverting
        case .attach(let other):
            try requireAvailable(volume, id)
            guard volume.attachCount == 0 || volume.multiattach else {
                throw Refusal(.inUse, "volume \(id) is already attached to \(other ?? "another host") and was not created multiattach")
            }
            volume.attachCount += 1
        case .unmanage(let hasDependants):
            try requireAvailable(volume, id)
            guard volume.attachCount == 0 else { throw Refusal(.inUse, "volume \(id) is in-use: detach it first") }
            guard volume.parentVolumeID == nil, volume.parentImageID == nil else {
                throw Refusal(.conflict, "volume \(id) is a clone of another volumed image: flatten it before releasing it")
            }
            guard !hasDependants else {
                throw Refusal(.inUse, "volume \(id) has snapshots or clones: delete them before releasing it")
            }
            volume.status = .unmanaging
        }
        return Admission(volume: volume, priorStatus: prior, dropsAttachments: drops)
    }

    private static func requireAvailable(_ volume: VolumeRecord, _ id: String, as what: String = "volume") throws(Refusal) {
        guard volume.status == .available else {
            throw Refusal(.conflict, "\(what) \(id) is \(volume.status.rawValue), not available")
        }
    }

    /// How a job that changed the volume ended, for `ended(_:_:volume:prior:)`.
    public enum Outcome: Sendable, Equatable {
        /// `detached`: the volume's image no longer depends on its parent (a copy, a flatten).
        /// `sizeGB`: its new size (an extend).
        case succeeded(detached: Bool = false, sizeGB: Int? = nil)
        /// Failed or cancelled. `started`: it changed the image before it stopped (a revert
        /// half done). `imageRemoved`: the image the job was making is gone again.
        case undone(cancelled: Bool, started: Bool, imageRemoved: Bool)
    }

    /// What the end of a job writes: the volume's row, and the follow-ups.
    public struct Ending: Sendable, Equatable {
        public var volume: VolumeRecord
        /// Volumes whose purge to queue: a parent that may now go (its clone let go of it).
        public var purges: [String] = []
        /// The clone depth of every descendant changes by this much (a flatten makes them shallower).
        public var descendantDepthChange = 0

        public init(volume: VolumeRecord, purges: [String] = [], descendantDepthChange: Int = 0) {
            self.volume = volume
            self.purges = purges
            self.descendantDepthChange = descendantDepthChange
        }
    }

    /// The volume's rows once a job of `kind` has ended. `prior` is the status a delete gives back.
    public static func ended(_ kind: JobKind, _ outcome: Outcome, volume: VolumeRecord, prior: VolumeStatus = .available) -> Ending {
        var ending = Ending(volume: volume)
        func detach() {
            if let parent = ending.volume.parentVolumeID { ending.purges.append(parent) }
            ending.volume.parentVolumeID = nil
            ending.volume.parentImageID = nil
            ending.volume.parentSnapshot = nil
            ending.volume.cloneDepth = 0
        }
        func settle(_ from: VolumeStatus, to: VolumeStatus) {
            if ending.volume.status == from { ending.volume.status = to }
        }
        switch (kind, outcome) {
        case (.createVolume, .succeeded(let detached, _)):
            settle(.creating, to: .available)
            if detached { detach() }
        case (.createVolume, .undone(let cancelled, _, let removed)):
            ending.volume.status = cancelled && removed ? .deleted : .error
            if removed {
                ending.volume.purged = true
                let depth = ending.volume.cloneDepth
                detach()
                ending.volume.cloneDepth = depth
            }
        case (.flattenVolume, .succeeded):
            ending.descendantDepthChange = -volume.cloneDepth
            detach()
        case (.manageVolume, .succeeded):
            settle(.managing, to: .available)
        case (.manageVolume, .undone):
            // The image got its own name back: it was never volumed's.
            ending.volume.status = .deleted
            ending.volume.purged = true
        case (.extendVolume, .succeeded(_, let sizeGB)):
            if let sizeGB { ending.volume.sizeGB = sizeGB }
            settle(.extending, to: .available)
        case (.extendVolume, .undone):
            settle(.extending, to: .available)
        case (.revertVolume, .succeeded):
            settle(.reverting, to: .available)
        case (.revertVolume, .undone(_, let started, _)):
            settle(.reverting, to: started ? .error : .available)
        case (.deleteVolume, .succeeded):
            ending.volume.status = .deleted
        case (.deleteVolume, .undone):
            settle(.deleting, to: prior)
        case (.unmanageVolume, .succeeded):
            // Purged: the image is no longer volumed's to remove.
            ending.volume.status = .deleted
            ending.volume.purged = true
        case (.unmanageVolume, .undone):
            settle(.unmanaging, to: .available)
        case (.restoreBackup, .succeeded):
            // Into a new volume (creating) or over an existing one (reverting).
            settle(.creating, to: .available)
            settle(.reverting, to: .available)
        case (.restoreBackup, .undone(_, _, let removed)):
            // A new volume's image is gone again; an existing one's data is half replaced.
            ending.volume.status = .error
            if removed { ending.volume.purged = true }
        default:
            break
        }
        return ending
    }

    /// `volume.undelete`: a volume deleted with deferred deletion comes back as it was before
    /// its delete (`prior`: available, or error), while its delay runs. Anything else is not
    /// found, or refused with the reason.
    public static func admitUndelete(_ row: VolumeRecord?, id: String, prior: VolumeStatus, now: Date) throws(Refusal) -> VolumeRecord {
        guard var volume = row, !volume.purged else { throw Refusal(.notFound, "volume \(id) not found") }
        guard volume.status == .deleted else {
            throw Refusal(.conflict, "volume \(id) is \(volume.status.rawValue), not deleted: there is nothing to undelete")
        }
        guard let purgeAfter = volume.purgeAfter else {
            throw Refusal(.conflict, "volume \(id) was deleted without deferred deletion (or its delay has passed): it cannot be undeleted")
        }
        guard now < purgeAfter else {
            throw Refusal(.conflict, "volume \(id) cannot be undeleted: its deferred deletion ended at \(purgeAfter)")
        }
        volume.status = prior == .error ? .error : .available
        volume.purgeAfter = nil
        return volume
    }

    /// Whether a purge may remove anything of a deleted volume now: not while its deferred
    /// deletion runs.
    public static func mayPurge(_ volume: VolumeRecord, now: Date) -> Bool {
        guard volume.status == .deleted, let purgeAfter = volume.purgeAfter else { return true }
        return now >= purgeAfter
    }

    /// After a restart, a volume left in a transitional status with no job to finish it: what
    /// it becomes (rather than hang). Nil when there is nothing to repair.
    public static func recovered(_ status: VolumeStatus) -> VolumeStatus? {
        switch status {
        case .deleting, .extending, .unmanaging: .available
        case .creating, .reverting, .managing: .error
        case .available, .inUse, .deleted, .error: nil
        }
    }

    /// The row once its RBD image is gone from the cluster (purged, or found missing): a
    /// deleted volume stays deleted, a live one becomes `error` (its data is gone).
    public static func imageGone(_ volume: VolumeRecord) -> VolumeRecord {
        var volume = volume
        volume.purged = true
        if volume.status != .deleted { volume.status = .error }
        return volume
    }

    /// A volume whose image may rightly be missing from the cluster (it is still being made).
    public static func mayLackImage(_ status: VolumeStatus) -> Bool {
        status == .creating || status == .managing
    }
}

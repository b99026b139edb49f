import Foundation
import Lifecycle
import Logging
import VolumeStore

/// Where a new volume comes from.
public enum VolumeSource: Sendable, Equatable {
    case volume(String)
    case snapshot(String)
    /// An image of the image store: cloned from its `snap` (Cinder's clone_image, Nova's Rbd.clone).
    case image(String)
}

/// A request the engine accepted: its job and the rows it changes.
public struct Accepted: Sendable {
    public var job: JobRecord
    public var volume: VolumeRecord?
    public var snapshot: SnapshotRecord?
}

/// Admission: each request is checked and written (job row and the rows it changes) in one
/// transaction before anything happens in the cluster, so the database always knows about
/// every image before it exists. The job is then handed to the scheduler at once.
extension Engine {
    public func createVolume(
        sizeGB: Int, name: String?, source: VolumeSource?, pool: String? = nil, multiattach: Bool = false,
        idempotencyKey: String?
    ) async throws -> Accepted {
        let settings = self.settings
        let pool = pool ?? settings.pool
        guard settings.volumePools.contains(pool) else {
            throw EngineError.invalid("pool '\(pool)' is not one volumed may create volumes in (\(settings.volumePools.joined(separator: ", ")))")
        }
        do { try ImageSizeLimit.check(sizeGB, objectOrder: settings.imageOrder) } catch { throw EngineError(error) }
        let request = "volume.create size_gb=\(sizeGB) name=\(name ?? "") source=\(source.map { "\($0)" } ?? "none") pool=\(pool) multiattach=\(multiattach)"
        let accepted = try await store.admit { tx -> (Accepted, Bool) in
            if let key = idempotencyKey, let existing = try tx.job(idempotencyKey: key) {
                try JobLifecycle.replay(existing, kind: .createVolume, request: request, key: key)
                return (Accepted(job: existing, volume: try existing.volumeID.flatMap { try tx.volume($0) }), false)
            }
            let id = newID()
            var volume = VolumeRecord(
                id: id, name: name ?? "", sizeGB: sizeGB, status: .creating, pool: pool,
                rbdImage: RBDNames.volumeImage(id), multiattach: multiattach)
            var mode = CloneMode.blank
            var note: String?
            if let source {
                let parent = try Self.cloneSource(tx, source, newVolumeID: id)
                guard sizeGB >= parent.minimumGB else {
                    throw EngineError.invalid("size_gb \(sizeGB) is smaller than the source's \(parent.minimumGB) GiB")
                }
                let plan = ClonePolicy.plan(
                    sourceDepth: parent.depth, maxDepth: settings.maxCloneDepth,
                    flattenFromSnapshot: settings.flattenVolumeFromSnapshot, fromSnapshot: parent.fromSnapshot)
                mode = plan.mode
                note = plan.reason
                volume.parentVolumeID = parent.volumeID
                volume.parentImageID = parent.imageID
                volume.parentSnapshot = parent.snapshot
                volume.cloneDepth = plan.depth
                switch source {
                case .volume(let sourceID): (volume.sourceKind, volume.sourceID) = (.volume, sourceID)
                case .snapshot(let sourceID): (volume.sourceKind, volume.sourceID) = (.snapshot, sourceID)
                case .image(let sourceID): (volume.sourceKind, volume.sourceID) = (.image, sourceID)
                }
            }
            try tx.insert(volume)
            var job = JobRecord(
                id: newID(), kind: .createVolume, lockKey: id, volumeID: id,
                params: try CreateVolumeParameters(mode: mode, sizeGB: sizeGB).encoded(), idempotencyKey: idempotencyKey)
            job.note = note
            job.request = idempotencyKey == nil ? nil : request
            try tx.insert(job)
            return (Accepted(job: job, volume: volume), true)
        }
        if accepted.1 { await accept(accepted.0) }
        return accepted.0
    }

    /// What a new volume is cloned from.
    private struct CloneParent {
        var volumeID: String?
        var imageID: String?
        /// The RBD snapshot of the parent image.
        var snapshot: String
        var minimumGB: Int
        /// Clone hops between the parent image and a flat one.
        var depth: Int
        var fromSnapshot: Bool
    }

    private static func cloneSource(
        _ tx: StoreTransaction, _ source: VolumeSource, newVolumeID: String
    ) throws -> CloneParent {
        switch source {
        case .volume(let id):
            let parent = try VolumeLifecycle.admit(.cloneFrom, to: try tx.volume(id), id: id).volume
            return CloneParent(volumeID: parent.id, snapshot: RBDNames.cloneSnapshot(for: newVolumeID),
                               minimumGB: parent.sizeGB, depth: parent.cloneDepth, fromSnapshot: false)
        case .snapshot(let id):
            let snapshot = try SnapshotLifecycle.admit(.cloneFrom, to: try tx.snapshot(id), id: id).snapshot
            let parent = try tx.requireVolume(snapshot.volumeID)
            return CloneParent(volumeID: parent.id, snapshot: snapshot.rbdSnapshot, minimumGB: snapshot.sizeGB,
                               depth: parent.cloneDepth, fromSnapshot: true)
        case .image(let id):
            let image = try ImageLifecycle.admit(.cloneFrom, to: try tx.image(id), id: id).image
            // Images are uploaded flat: a clone of one is one hop deep.
            let minimumGB = Int((image.sizeBytes + (1 << 30) - 1) >> 30)
            return CloneParent(imageID: image.id, snapshot: RBDNames.imageSnapshot, minimumGB: max(1, minimumGB),
                               depth: 0, fromSnapshot: false)
        }
    }

    /// `force` deletes an attached volume too (its attachments are dropped), as Cinder's force-delete.
    public func deleteVolume(id: String, force: Bool = false) async throws -> Accepted {
        try await admit { tx in
            let admitted = try VolumeLifecycle.admit(.delete(force: force), to: try tx.volume(id), id: id)
            if admitted.dropsAttachments {
                for attachment in try tx.attachments(volumeID: id) { try tx.delete(attachment) }
            }
            let job = JobRecord(
                id: newID(), kind: .deleteVolume, lockKey: id, volumeID: id,
                params: try PriorStatusParameters(priorStatus: admitted.priorStatus).encoded())
            try tx.update(admitted.volume)
            try tx.insert(job)
            return Accepted(job: job, volume: admitted.volume)
        }
    }

    /// Brings back a volume deleted with deferred deletion, within its delay, as it was before
    /// its delete (its snapshots and data untouched; a forced delete's attachments stay gone).
    public func undeleteVolume(id: String) async throws -> Accepted {
        try await admit { tx in
            let delete = try tx.recentJobs(volumeID: id, limit: 100).first { $0.kind == .deleteVolume }
            let prior = (try? delete?.parameters(PriorStatusParameters<VolumeStatus>.self))??.priorStatus ?? .available
            let volume = try VolumeLifecycle.admitUndelete(try tx.volume(id), id: id, prior: prior, now: Date())
            let job = JobRecord(id: newID(), kind: .undeleteVolume, lockKey: id, volumeID: id, params: try NoParameters().encoded())
            try tx.update(volume)
            try tx.insert(job)
            return Accepted(job: job, volume: volume)
        }
    }

    public func extendVolume(id: String, sizeGB: Int) async throws -> Accepted {
        do { try ImageSizeLimit.check(sizeGB, objectOrder: settings.imageOrder) } catch { throw EngineError(error) }
        return try await admit { tx in
            let volume = try VolumeLifecycle.admit(.extend(sizeGB: sizeGB), to: try tx.volume(id), id: id).volume
            let job = JobRecord(
                id: newID(), kind: .extendVolume, lockKey: id, volumeID: id,
                params: try ExtendVolumeParameters(sizeGB: sizeGB).encoded())
            try tx.update(volume)
            try tx.insert(job)
            return Accepted(job: job, volume: volume)
        }
    }

    public func flattenVolume(id: String) async throws -> Accepted {
        try await admit { tx in
            let volume = try VolumeLifecycle.admit(.flatten, to: try tx.volume(id), id: id).volume
            let job = JobRecord(id: newID(), kind: .flattenVolume, lockKey: id, volumeID: id, params: try NoParameters().encoded())
            try tx.insert(job)
            return Accepted(job: job, volume: volume)
        }
    }

    public func createSnapshot(volumeID: String, name: String?, idempotencyKey: String?) async throws -> Accepted {
        let request = "snapshot.create volume_id=\(volumeID) name=\(name ?? "")"
        let accepted = try await store.admit { tx -> (Accepted, Bool) in
            if let key = idempotencyKey, let existing = try tx.job(idempotencyKey: key) {
                try JobLifecycle.replay(existing, kind: .createSnapshot, request: request, key: key)
                return (Accepted(job: existing, snapshot: try existing.snapshotID.flatMap { try tx.snapshot($0) }), false)
            }
            let volume = try VolumeLifecycle.admit(.snapshot, to: try tx.volume(volumeID), id: volumeID).volume
            let id = newID()
            let snapshot = SnapshotRecord(
                id: id, volumeID: volumeID, name: name ?? "", status: .creating,
                rbdSnapshot: RBDNames.snapshot(id), sizeGB: volume.sizeGB)
            try tx.insert(snapshot)
            var job = JobRecord(
                id: newID(), kind: .createSnapshot, lockKey: volumeID, volumeID: volumeID,
                snapshotID: id, params: try NoParameters().encoded(), idempotencyKey: idempotencyKey)
            job.request = idempotencyKey == nil ? nil : request
            try tx.insert(job)
            return (Accepted(job: job, snapshot: snapshot), true)
        }
        if accepted.1 { await accept(accepted.0) }
        return accepted.0
    }

    public func deleteSnapshot(id: String) async throws -> Accepted {
        try await admit { tx in
            let (snapshot, prior) = try SnapshotLifecycle.admit(.delete, to: try tx.snapshot(id), id: id)
            let job = JobRecord(
                id: newID(), kind: .deleteSnapshot, lockKey: snapshot.volumeID, volumeID: snapshot.volumeID, snapshotID: id,
                params: try PriorStatusParameters(priorStatus: prior).encoded())
            try tx.update(snapshot)
            try tx.insert(job)
            return Accepted(job: job, snapshot: snapshot)
        }
    }

    /// Rolls a volume back to one of its snapshots; refused while attached unless `force`.
    public func revertVolume(id: String, snapshotID: String, force: Bool) async throws -> Accepted {
        try await admit { tx in
            let row = try tx.volume(id)
            _ = try row.visible(as: "volume", id: id)
            let snapshot = try SnapshotLifecycle.admit(.revertTo, to: try tx.snapshot(snapshotID), id: snapshotID).snapshot
            let volume = try VolumeLifecycle.admit(.revert(to: snapshot, force: force), to: row, id: id).volume
            let job = JobRecord(
                id: newID(), kind: .revertVolume, lockKey: id, volumeID: id, snapshotID: snapshotID,
                params: try RevertVolumeParameters(force: force).encoded())
            try tx.update(volume)
            try tx.insert(job)
            return Accepted(job: job, volume: volume, snapshot: snapshot)
        }
    }

    /// Adopts `pool/image` (an RBD image volumed did not create) as a new volume.
    public func manageVolume(pool: String?, image: String, name: String?) async throws -> Accepted {
        let settings = self.settings
        let pool = pool ?? settings.pool
        guard settings.volumePools.contains(pool) else {
            throw EngineError.invalid("pool '\(pool)' is not one volumed manages (\(settings.volumePools.joined(separator: ", ")))")
        }
        guard !image.hasSuffix(".deleted") else {
            throw EngineError.invalid("\(pool)/\(image) is a deleted volume's leftover (.deleted): not adoptable")
        }
        return try await admit { tx in
            if let known = try tx.unpurgedVolumes().first(where: { $0.pool == pool && $0.rbdImage == image }) {
                throw EngineError.conflict("\(pool)/\(image) is already volume \(known.id)")
            }
            let id = newID()
            var volume = VolumeRecord(
                id: id, name: name ?? image, sizeGB: 1, status: .managing, pool: pool, rbdImage: RBDNames.volumeImage(id))
            volume.sourceKind = .managed
            try tx.insert(volume)
            let job = JobRecord(
                id: newID(), kind: .manageVolume, lockKey: "rbd:\(pool)/\(image)", volumeID: id,
                params: try ManageVolumeParameters(sourceImage: image).encoded())
            try tx.insert(job)
            return Accepted(job: job, volume: volume)
        }
    }

    /// Releases a volume's image from volumed; refused while anything depends on it.
    public func unmanageVolume(id: String) async throws -> Accepted {
        try await admit { tx in
            let dependants = try !tx.unpurgedSnapshots(of: id).isEmpty || !tx.cloneChildren(of: id).isEmpty
            let volume = try VolumeLifecycle.admit(.unmanage(hasSnapshotsOrClones: dependants), to: try tx.volume(id), id: id).volume
            let job = JobRecord(id: newID(), kind: .unmanageVolume, lockKey: id, volumeID: id, params: try NoParameters().encoded())
            try tx.update(volume)
            try tx.insert(job)
            return Accepted(job: job, volume: volume)
        }
    }

    private func admit(_ body: @escaping @Sendable (StoreTransaction) throws -> Accepted) async throws -> Accepted {
        let accepted = try await store.admit(body)
        await accept(accepted)
        return accepted
    }

    /// Logs the accepted request with its ids (the first line of the volume's story in the
    /// journal) and hands the job to the scheduler.
    func accept(_ job: JobRecord, detail: String) async {
        var metadata: Logger.Metadata = ["job_id": "\(job.id)", "operation": "\(job.kind)"]
        if let volumeID = job.volumeID { metadata["volume_id"] = "\(volumeID)" }
        if let snapshotID = job.snapshotID { metadata["snapshot_id"] = "\(snapshotID)" }
        if let imageID = job.imageID { metadata["image_id"] = "\(imageID)" }
        logger.info("accepted \(job.kind)\(detail)", metadata: metadata)
        await enqueue(job)
    }

    private func accept(_ accepted: Accepted) async {
        var detail = ""
        if let volume = accepted.volume, accepted.job.kind == .createVolume {
            detail = ": \(volume.sizeGB) GiB \(volume.pool)/\(volume.rbdImage)"
            if let source = volume.sourceID { detail += " from \(volume.sourceKind?.rawValue ?? "") \(source)" }
        }
        await accept(accepted.job, detail: detail)
    }
}

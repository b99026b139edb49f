import Foundation
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
        let request = "volume.create size_gb=\(sizeGB) name=\(name ?? "") source=\(source.map { "\($0)" } ?? "none") pool=\(pool) multiattach=\(multiattach)"
        let accepted = try await store.write { tx -> (Accepted, Bool) in
            if let key = idempotencyKey, let existing = try tx.job(idempotencyKey: key) {
                guard existing.kind == JobKind.createVolume.rawValue else {
                    throw EngineError.conflict("idempotency_key '\(key)' was used for a \(existing.kind) job")
                }
                try Self.requireSameRequest(existing, request, key: key)
                return (Accepted(job: existing, volume: try existing.volumeID.flatMap { try tx.volume($0) }), false)
            }
            let id = newID()
            var volume = VolumeRecord(
                id: id, name: name ?? "", sizeGB: sizeGB, status: "creating", pool: pool,
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
                case .volume(let sourceID): (volume.sourceKind, volume.sourceID) = ("volume", sourceID)
                case .snapshot(let sourceID): (volume.sourceKind, volume.sourceID) = ("snapshot", sourceID)
                case .image(let sourceID): (volume.sourceKind, volume.sourceID) = ("image", sourceID)
                }
            }
            try tx.insert(volume)
            var job = JobRecord(
                id: newID(), kind: JobKind.createVolume.rawValue, lockKey: id, volumeID: id,
                params: JobParams(mode: mode, sizeGB: sizeGB).encoded(), idempotencyKey: idempotencyKey)
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
            guard let parent = try tx.volume(id), parent.status != "deleted" else {
                throw EngineError.notFound("source volume \(id) not found")
            }
            guard parent.status == "available" else {
                throw EngineError.conflict("source volume \(id) is \(parent.status), not available")
            }
            return CloneParent(volumeID: parent.id, snapshot: RBDNames.cloneSnapshot(for: newVolumeID),
                               minimumGB: parent.sizeGB, depth: parent.cloneDepth, fromSnapshot: false)
        case .snapshot(let id):
            guard let snapshot = try tx.snapshot(id), snapshot.status != "deleted" else {
                throw EngineError.notFound("source snapshot \(id) not found")
            }
            guard snapshot.status == "available" else {
                throw EngineError.conflict("source snapshot \(id) is \(snapshot.status), not available")
            }
            let parent = try tx.requireVolume(snapshot.volumeID)
            return CloneParent(volumeID: parent.id, snapshot: snapshot.rbdSnapshot, minimumGB: snapshot.sizeGB,
                               depth: parent.cloneDepth, fromSnapshot: true)
        case .image(let id):
            guard let image = try tx.image(id), image.status != "deleted" else {
                throw EngineError.notFound("source image \(id) not found")
            }
            guard image.status == "active" else {
                throw EngineError.conflict("source image \(id) is \(image.status), not active")
            }
            // Images are uploaded flat: a clone of one is one hop deep.
            let minimumGB = Int((image.sizeBytes + (1 << 30) - 1) >> 30)
            return CloneParent(imageID: image.id, snapshot: RBDNames.imageSnapshot, minimumGB: max(1, minimumGB),
                               depth: 0, fromSnapshot: false)
        }
    }

    /// `force` deletes an attached volume too (its attachments are dropped), as Cinder's force-delete.
    public func deleteVolume(id: String, force: Bool = false) async throws -> Accepted {
        try await admit { tx in
            guard var volume = try tx.volume(id), volume.status != "deleted" else {
                throw EngineError.notFound("volume \(id) not found")
            }
            guard volume.status == "available" || volume.status == "error" else {
                throw EngineError.conflict("volume \(id) is \(volume.status); delete it when its job has ended")
            }
            if volume.attachCount > 0 {
                guard force else {
                    throw EngineError.inUse("volume \(id) is in-use (attached \(volume.attachCount) time(s)): detach it first, or delete with force")
                }
                for attachment in try tx.attachments(volumeID: id) { try tx.delete(attachment) }
                volume.attachCount = 0
            }
            let job = JobRecord(
                id: newID(), kind: JobKind.deleteVolume.rawValue, lockKey: id, volumeID: id,
                params: JobParams(priorStatus: volume.status).encoded())
            volume.status = "deleting"
            try tx.update(volume)
            try tx.insert(job)
            return Accepted(job: job, volume: volume)
        }
    }

    public func extendVolume(id: String, sizeGB: Int) async throws -> Accepted {
        try await admit { tx in
            var volume = try Self.availableVolume(tx, id)
            guard sizeGB > volume.sizeGB else {
                throw EngineError.invalid("size_gb \(sizeGB) must be larger than the volume's \(volume.sizeGB) GiB: volumes only grow")
            }
            let job = JobRecord(
                id: newID(), kind: JobKind.extendVolume.rawValue, lockKey: id, volumeID: id,
                params: JobParams(sizeGB: sizeGB).encoded())
            volume.status = "extending"
            try tx.update(volume)
            try tx.insert(job)
            return Accepted(job: job, volume: volume)
        }
    }

    public func flattenVolume(id: String) async throws -> Accepted {
        try await admit { tx in
            let volume = try Self.availableVolume(tx, id)
            let job = JobRecord(id: newID(), kind: JobKind.flattenVolume.rawValue, lockKey: id, volumeID: id)
            try tx.insert(job)
            return Accepted(job: job, volume: volume)
        }
    }

    /// An idempotency key answers only the request it was given with (jobs recorded before
    /// requests were, have none and match any).
    static func requireSameRequest(_ existing: JobRecord, _ request: String, key: String) throws {
        if let recorded = existing.request, recorded != request {
            throw EngineError.conflict("idempotency key reused for a different request: '\(key)' was given with \(recorded)")
        }
    }

    public func createSnapshot(volumeID: String, name: String?, idempotencyKey: String?) async throws -> Accepted {
        let request = "snapshot.create volume_id=\(volumeID) name=\(name ?? "")"
        let accepted = try await store.write { tx -> (Accepted, Bool) in
            if let key = idempotencyKey, let existing = try tx.job(idempotencyKey: key) {
                guard existing.kind == JobKind.createSnapshot.rawValue else {
                    throw EngineError.conflict("idempotency_key '\(key)' was used for a \(existing.kind) job")
                }
                try Self.requireSameRequest(existing, request, key: key)
                return (Accepted(job: existing, snapshot: try existing.snapshotID.flatMap { try tx.snapshot($0) }), false)
            }
            let volume = try Self.availableVolume(tx, volumeID)
            let id = newID()
            let snapshot = SnapshotRecord(
                id: id, volumeID: volumeID, name: name ?? "", status: "creating",
                rbdSnapshot: RBDNames.snapshot(id), sizeGB: volume.sizeGB)
            try tx.insert(snapshot)
            var job = JobRecord(
                id: newID(), kind: JobKind.createSnapshot.rawValue, lockKey: volumeID, volumeID: volumeID,
                snapshotID: id, idempotencyKey: idempotencyKey)
            job.request = idempotencyKey == nil ? nil : request
            try tx.insert(job)
            return (Accepted(job: job, snapshot: snapshot), true)
        }
        if accepted.1 { await accept(accepted.0) }
        return accepted.0
    }

    public func deleteSnapshot(id: String) async throws -> Accepted {
        try await admit { tx in
            guard var snapshot = try tx.snapshot(id), snapshot.status != "deleted" else {
                throw EngineError.notFound("snapshot \(id) not found")
            }
            guard snapshot.status == "available" || snapshot.status == "error" else {
                throw EngineError.conflict("snapshot \(id) is \(snapshot.status); delete it when its job has ended")
            }
            let job = JobRecord(
                id: newID(), kind: JobKind.deleteSnapshot.rawValue, lockKey: snapshot.volumeID,
                volumeID: snapshot.volumeID, snapshotID: id, params: JobParams(priorStatus: snapshot.status).encoded())
            snapshot.status = "deleting"
            try tx.update(snapshot)
            try tx.insert(job)
            return Accepted(job: job, snapshot: snapshot)
        }
    }

    /// Rolls a volume back to one of its snapshots; refused while attached unless `force`.
    public func revertVolume(id: String, snapshotID: String, force: Bool) async throws -> Accepted {
        try await admit { tx in
            guard var volume = try tx.volume(id), volume.status != "deleted" else {
                throw EngineError.notFound("volume \(id) not found")
            }
            guard volume.status == "available" || volume.status == "error" else {
                throw EngineError.conflict("volume \(id) is \(volume.status), not available")
            }
            guard let snapshot = try tx.snapshot(snapshotID), snapshot.status != "deleted" else {
                throw EngineError.notFound("snapshot \(snapshotID) not found")
            }
            guard snapshot.volumeID == id else {
                throw EngineError.invalid("snapshot \(snapshotID) is a snapshot of volume \(snapshot.volumeID), not of \(id)")
            }
            guard snapshot.status == "available" else {
                throw EngineError.conflict("snapshot \(snapshotID) is \(snapshot.status), not available")
            }
            guard volume.attachCount == 0 || force else {
                throw EngineError.inUse("volume \(id) is in-use: detach it before reverting, or revert with force")
            }
            let job = JobRecord(
                id: newID(), kind: JobKind.revertVolume.rawValue, lockKey: id, volumeID: id, snapshotID: snapshotID,
                params: JobParams(force: force).encoded())
            volume.status = "reverting"
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
                id: id, name: name ?? image, sizeGB: 1, status: "managing", pool: pool, rbdImage: RBDNames.volumeImage(id))
            volume.sourceKind = "managed"
            try tx.insert(volume)
            let job = JobRecord(
                id: newID(), kind: JobKind.manageVolume.rawValue, lockKey: "rbd:\(pool)/\(image)", volumeID: id,
                params: JobParams(sourceImage: image).encoded())
            try tx.insert(job)
            return Accepted(job: job, volume: volume)
        }
    }

    /// Releases a volume's image from volumed; refused while anything depends on it.
    public func unmanageVolume(id: String) async throws -> Accepted {
        try await admit { tx in
            var volume = try Self.availableVolume(tx, id)
            guard volume.attachCount == 0 else { throw EngineError.inUse("volume \(id) is in-use: detach it first") }
            guard volume.parentVolumeID == nil, volume.parentImageID == nil else {
                throw EngineError.conflict("volume \(id) is a clone of another volumed image: flatten it before releasing it")
            }
            guard try tx.unpurgedSnapshots(of: id).isEmpty, try tx.cloneChildren(of: id).isEmpty else {
                throw EngineError.inUse("volume \(id) has snapshots or clones: delete them before releasing it")
            }
            let job = JobRecord(id: newID(), kind: JobKind.unmanageVolume.rawValue, lockKey: id, volumeID: id)
            volume.status = "unmanaging"
            try tx.update(volume)
            try tx.insert(job)
            return Accepted(job: job, volume: volume)
        }
    }

    private func admit(_ body: @escaping @Sendable (StoreTransaction) throws -> Accepted) async throws -> Accepted {
        let accepted = try await store.write(.full, body)
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
        if let volume = accepted.volume, accepted.job.kind == JobKind.createVolume.rawValue {
            detail = ": \(volume.sizeGB) GiB \(volume.pool)/\(volume.rbdImage)"
            if let source = volume.sourceID { detail += " from \(volume.sourceKind ?? "") \(source)" }
        }
        await accept(accepted.job, detail: detail)
    }

    private static func availableVolume(_ tx: StoreTransaction, _ id: String) throws -> VolumeRecord {
        guard let volume = try tx.volume(id), volume.status != "deleted" else {
            throw EngineError.notFound("volume \(id) not found")
        }
        guard volume.status == "available" else {
            throw EngineError.conflict("volume \(id) is \(volume.status), not available")
        }
        return volume
    }
}

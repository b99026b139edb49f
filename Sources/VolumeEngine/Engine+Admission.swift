import Foundation
import Logging
import VolumeStore

/// Where a new volume comes from.
public enum VolumeSource: Sendable, Equatable {
    case volume(String)
    case snapshot(String)
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
        sizeGB: Int, name: String?, source: VolumeSource?, idempotencyKey: String?
    ) async throws -> Accepted {
        let settings = self.settings
        let accepted = try await store.write { tx -> (Accepted, Bool) in
            if let key = idempotencyKey, let existing = try tx.job(idempotencyKey: key) {
                guard existing.kind == JobKind.createVolume.rawValue else {
                    throw EngineError.conflict("idempotency_key '\(key)' was used for a \(existing.kind) job")
                }
                return (Accepted(job: existing, volume: try existing.volumeID.flatMap { try tx.volume($0) }), false)
            }
            let id = newID()
            var volume = VolumeRecord(
                id: id, name: name ?? "", sizeGB: sizeGB, status: "creating", pool: settings.pool,
                rbdImage: RBDNames.volumeImage(id))
            var mode = CloneMode.blank
            var note: String?
            if let source {
                let (parent, parentSnapshot, minimumGB, fromSnapshot) = try Self.cloneSource(tx, source, newVolumeID: id)
                guard sizeGB >= minimumGB else {
                    throw EngineError.invalid("size_gb \(sizeGB) is smaller than the source's \(minimumGB) GiB")
                }
                let plan = ClonePolicy.plan(
                    sourceDepth: parent.cloneDepth, maxDepth: settings.maxCloneDepth,
                    flattenFromSnapshot: settings.flattenVolumeFromSnapshot, fromSnapshot: fromSnapshot)
                mode = plan.mode
                note = plan.reason
                volume.parentVolumeID = parent.id
                volume.parentSnapshot = parentSnapshot
                volume.cloneDepth = plan.depth
                switch source {
                case .volume(let sourceID): (volume.sourceKind, volume.sourceID) = ("volume", sourceID)
                case .snapshot(let sourceID): (volume.sourceKind, volume.sourceID) = ("snapshot", sourceID)
                }
            }
            try tx.insert(volume)
            var job = JobRecord(
                id: newID(), kind: JobKind.createVolume.rawValue, lockKey: id, volumeID: id,
                params: JobParams(mode: mode, sizeGB: sizeGB).encoded(), idempotencyKey: idempotencyKey)
            job.note = note
            try tx.insert(job)
            return (Accepted(job: job, volume: volume), true)
        }
        if accepted.1 { await accept(accepted.0) }
        return accepted.0
    }

    /// The parent volume, the RBD snapshot to clone from, the smallest size allowed, and whether
    /// the source is a user snapshot.
    private static func cloneSource(
        _ tx: StoreTransaction, _ source: VolumeSource, newVolumeID: String
    ) throws -> (VolumeRecord, String, Int, Bool) {
        switch source {
        case .volume(let id):
            guard let parent = try tx.volume(id), parent.status != "deleted" else {
                throw EngineError.notFound("source volume \(id) not found")
            }
            guard parent.status == "available" else {
                throw EngineError.conflict("source volume \(id) is \(parent.status), not available")
            }
            return (parent, RBDNames.cloneSnapshot(for: newVolumeID), parent.sizeGB, false)
        case .snapshot(let id):
            guard let snapshot = try tx.snapshot(id), snapshot.status != "deleted" else {
                throw EngineError.notFound("source snapshot \(id) not found")
            }
            guard snapshot.status == "available" else {
                throw EngineError.conflict("source snapshot \(id) is \(snapshot.status), not available")
            }
            let parent = try tx.requireVolume(snapshot.volumeID)
            return (parent, snapshot.rbdSnapshot, snapshot.sizeGB, true)
        }
    }

    public func deleteVolume(id: String) async throws -> Accepted {
        try await admit { tx in
            guard var volume = try tx.volume(id), volume.status != "deleted" else {
                throw EngineError.notFound("volume \(id) not found")
            }
            guard volume.status == "available" || volume.status == "error" else {
                throw EngineError.conflict("volume \(id) is \(volume.status); delete it when its job has ended")
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

    public func createSnapshot(volumeID: String, name: String?, idempotencyKey: String?) async throws -> Accepted {
        let accepted = try await store.write { tx -> (Accepted, Bool) in
            if let key = idempotencyKey, let existing = try tx.job(idempotencyKey: key) {
                guard existing.kind == JobKind.createSnapshot.rawValue else {
                    throw EngineError.conflict("idempotency_key '\(key)' was used for a \(existing.kind) job")
                }
                return (Accepted(job: existing, snapshot: try existing.snapshotID.flatMap { try tx.snapshot($0) }), false)
            }
            let volume = try Self.availableVolume(tx, volumeID)
            let id = newID()
            let snapshot = SnapshotRecord(
                id: id, volumeID: volumeID, name: name ?? "", status: "creating",
                rbdSnapshot: RBDNames.snapshot(id), sizeGB: volume.sizeGB)
            try tx.insert(snapshot)
            let job = JobRecord(
                id: newID(), kind: JobKind.createSnapshot.rawValue, lockKey: volumeID, volumeID: volumeID,
                snapshotID: id, idempotencyKey: idempotencyKey)
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

    private func admit(_ body: @escaping @Sendable (StoreTransaction) throws -> Accepted) async throws -> Accepted {
        let accepted = try await store.write(body)
        await accept(accepted)
        return accepted
    }

    /// Logs the accepted request with its ids (the first line of the volume's story in the
    /// journal) and hands the job to the scheduler.
    private func accept(_ accepted: Accepted) async {
        var metadata: Logger.Metadata = ["job_id": "\(accepted.job.id)", "operation": "\(accepted.job.kind)"]
        if let volumeID = accepted.job.volumeID { metadata["volume_id"] = "\(volumeID)" }
        if let snapshotID = accepted.job.snapshotID { metadata["snapshot_id"] = "\(snapshotID)" }
        var detail = ""
        if let volume = accepted.volume, accepted.job.kind == JobKind.createVolume.rawValue {
            detail = ": \(volume.sizeGB) GiB \(volume.pool)/\(volume.rbdImage)"
            if let source = volume.sourceID { detail += " from \(volume.sourceKind ?? "") \(source)" }
        }
        logger.info("accepted \(accepted.job.kind)\(detail)", metadata: metadata)
        await enqueue(accepted.job)
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

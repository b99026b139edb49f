import Foundation
import Lifecycle
import RBD
import VolumeStore

/// Attachments: Cinder's initialize_connection / terminate_connection. They change only the
/// database (no cluster state), so they answer at once, without a job.
extension Engine {
    public func attachVolume(id: String, host: String, connector: String) async throws -> (AttachmentRecord, ConnectionInfo.Data) {
        // Ask the cluster first: a failure here must not leave an attachment recorded.
        let settings = self.settings
        let (monitors, auth) = try await cluster.run { session in
            (try ClusterFacts.monitors(session), try session.configValue("auth_client_required"))
        }
        let attachment = try await store.admit { tx -> (AttachmentRecord, VolumeRecord) in
            let row = try tx.volume(id)
            let other = (row?.attachCount ?? 0) > 0 ? try tx.attachments(volumeID: id).first?.host : nil
            let volume = try VolumeLifecycle.admit(.attach(attachedTo: other), to: row, id: id).volume
            let attachment = AttachmentRecord(id: newID(), volumeID: id, host: host, connector: connector)
            try tx.insert(attachment)
            try tx.update(volume)
            return (attachment, volume)
        }
        let volume = attachment.1
        logger.info("attached to \(host)", metadata: ["volume_id": "\(id)", "attachment_id": "\(attachment.0.id)"])
        let details = ConnectionInfo.Data(
            name: "\(volume.pool)/\(volume.rbdImage)", hosts: monitors.map(\.host), ports: monitors.map { String($0.port) },
            clusterName: settings.clusterName, authEnabled: auth.contains("cephx"), authUsername: settings.rbdUser,
            secretUUID: settings.secretUUID, volumeID: id)
        return (attachment.0, details)
    }

    public func detachVolume(id: String, attachmentID: String) async throws -> VolumeRecord {
        let volume = try await store.admit { tx -> VolumeRecord in
            var volume = try tx.volume(id).visible(as: "volume", id: id)
            guard let attachment = try tx.attachment(attachmentID), attachment.volumeID == id else {
                throw EngineError.notFound("attachment \(attachmentID) of volume \(id) not found")
            }
            try tx.delete(attachment)
            volume.attachCount = max(0, volume.attachCount - 1)
            try tx.update(volume)
            return volume
        }
        logger.info("detached", metadata: ["volume_id": "\(id)", "attachment_id": "\(attachmentID)"])
        return volume
    }
}

extension Engine {
    /// Capacity of every pool volumed uses. Cinder's formula: used = `stored`; with a quota,
    /// total = quota and free = max(min(quota − used, max_avail), 0); without, free = max_avail;
    /// total is dynamic (free + used). Provisioned comes from the database, never from opening images.
    public func capacity() async throws -> [PoolCapacity] {
        let settings = self.settings
        let pools = settings.volumePools + [settings.imagePool].filter { !settings.volumePools.contains($0) }
        let usage = try await cluster.run { session in try ClusterFacts.usage(session, pools: pools) }
        let (provisioned, images) = try await store.read { tx in (try tx.provisionedGB(), try tx.imageBytes()) }
        return pools.compactMap { pool -> PoolCapacity? in
            guard let use = usage[pool] else { return nil }
            let used = use.stored
            let free = use.quota > 0 ? max(min(use.quota - used, use.maxAvailable), 0) : use.maxAvailable
            let total = use.quota > 0 ? use.quota : free + used
            let promised = Int64(provisioned[pool] ?? 0) << 30 + (images[pool] ?? 0)
            return PoolCapacity(
                pool: pool, totalBytes: total, freeBytes: free, usedBytes: used, provisionedBytes: promised,
                quotaBytes: use.quota > 0 ? use.quota : nil,
                overSubscriptionRatio: total > 0 ? (Double(promised) / Double(total) * 1000).rounded() / 1000 : 0)
        }
    }
}

import Lifecycle
import VolumeStore

/// What callers may read, with the lifecycle's visibility rules applied here once: a deleted
/// volume, snapshot or image (a tombstone) is not found; a job is shown as running while a
/// worker has it.
extension Engine {
    public func volume(id: String) async throws -> VolumeRecord {
        try await refusalsAsEngineErrors { try await store.read { try $0.volume(id).visible(as: "volume", id: id) } }
    }

    /// A volume with its attachments (`volume.get`).
    public func volumeWithAttachments(id: String) async throws -> (VolumeRecord, [AttachmentRecord]) {
        try await refusalsAsEngineErrors {
            try await store.read { tx in
                let volume = try tx.volume(id).visible(as: "volume", id: id)
                return (volume, try tx.attachments(volumeID: id))
            }
        }
    }

    /// Folds the visible volumes, oldest first, after the volume `marker` (the last of the
    /// previous page) and at most `limit` of them, inside one read: a long list is never an
    /// array of rows.
    public func foldVolumes<Result: Sendable>(
        after marker: String?, limit: Int?, into initial: Result, _ add: @escaping @Sendable (inout Result, VolumeRecord) -> Void
    ) async throws -> Result {
        let folded = try await store.read { tx -> Result? in
            var result = initial
            let found = try tx.forEachVisibleVolume(after: marker, limit: limit) { add(&result, $0) }
            return found ? result : nil
        }
        guard let folded else { throw EngineError.notFound("marker volume \(marker ?? "") not found") }
        return folded
    }

    /// Volumes deleted with deferred deletion that may still be undeleted, the soonest to go first.
    public func deferredDeletions() async throws -> [VolumeRecord] {
        try await store.read { try $0.deferredDeletions() }
    }

    public func visibleVolumeCount() async throws -> Int {
        try await store.read { try $0.countVisibleVolumes() }
    }

    public func snapshot(id: String) async throws -> SnapshotRecord {
        try await refusalsAsEngineErrors { try await store.read { try $0.snapshot(id).visible(as: "snapshot", id: id) } }
    }

    public func snapshots(volumeID: String?) async throws -> [SnapshotRecord] {
        try await store.read { try $0.visibleSnapshots(volumeID: volumeID) }
    }

    public func image(id: String) async throws -> ImageRecord {
        try await refusalsAsEngineErrors { try await store.read { try $0.image(id).visible(as: "image", id: id) } }
    }

    public func images() async throws -> [ImageRecord] {
        try await store.read { try $0.visibleImages() }
    }

    public func job(id: String) async throws -> JobRecord {
        guard let job = try await store.read({ try $0.job(id) }) else { throw EngineError.notFound("job \(id) not found") }
        return presented(job)
    }

    /// The newest jobs first (of one volume, or all).
    public func jobs(volumeID: String?, limit: Int) async throws -> [JobRecord] {
        try await store.read { try $0.recentJobs(volumeID: volumeID, limit: limit) }.map(presented)
    }

    /// The rows an accepted request changed, as they are now (a finished delete shows them
    /// `deleted`: they are the caller's own, so no visibility rule).
    public func rows(of accepted: Accepted) async throws -> (VolumeRecord?, SnapshotRecord?) {
        try await store.read { tx in
            (try accepted.volume.flatMap { try tx.volume($0.id) }, try accepted.snapshot.flatMap { try tx.snapshot($0.id) })
        }
    }

    public func row(of accepted: AcceptedImage) async throws -> ImageRecord? {
        try await store.read { try $0.image(accepted.image.id) }
    }

    /// Whether the daemon's connection to the cluster is up, and the cluster's fsid.
    public var clusterConnection: (connected: Bool, fsid: String?) { (cluster.isConnected, cluster.fsid) }

    private func refusalsAsEngineErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let refusal as Refusal {
            throw EngineError(refusal)
        }
    }
}

extension Engine {
    /// What a volume really uses, as `rbd du` computes it (`volume.usage`): for each snapshot
    /// the objects changed since the one before, then the head since the last snapshot.
    public func volumeUsage(id: String) async throws -> VolumeUsage {
        let volume = try await self.volume(id: id)
        let (pool, name) = (volume.pool, volume.rbdImage)
        let parts = try await cluster.run { session -> [VolumeUsage.Part] in
            let io = try session.pool(pool)
            let snapshots = try io.withImage(name, readOnly: true) { try $0.snapshots() }.sorted { $0.id < $1.id }
            var parts: [VolumeUsage.Part] = []
            var previous: String?
            for snapshot in snapshots {
                let used = try io.withImage(name, snapshot: snapshot.name, readOnly: true) { try $0.usedBytes(since: previous) }
                parts.append(.init(rbdSnapshot: snapshot.name, provisionedBytes: Int64(snapshot.size), usedBytes: Int64(used)))
                previous = snapshot.name
            }
            let head = try io.withImage(name, readOnly: true) { image in (try image.size(), try image.usedBytes(since: previous)) }
            parts.append(.init(rbdSnapshot: nil, provisionedBytes: Int64(head.0), usedBytes: Int64(head.1)))
            return parts
        }
        return VolumeUsage(volumeID: id, parts: parts)
    }
}

extension Engine {
    /// Volumes, snapshots and images by the status users see (the metrics).
    public func inventoryCounts() async throws -> InventoryCounts {
        try await store.read { try $0.inventoryCounts() }
    }
}

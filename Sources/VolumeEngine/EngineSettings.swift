/// The options the engine works with. Those marked *live* may change on reload.
public struct EngineSettings: Sendable, Equatable {
    /// Pool for volumes (`rbd_pool`).
    public var pool: String
    /// Worker tasks running jobs (*live*).
    public var workers: Int
    /// Deepest clone chain allowed; ≤ 0 means full copies (`rbd_max_clone_depth`, *live*).
    public var maxCloneDepth: Int
    /// Flatten volumes made from snapshots (`rbd_flatten_volume_from_snapshot`, *live*).
    public var flattenVolumeFromSnapshot: Bool
    /// Object size as a power of two (from `rbd_store_chunk_size` MiB).
    public var imageOrder: Int
    /// Flattens at once; 0 = unlimited (`rbd_concurrent_flatten_operations`, *live*).
    public var concurrentFlattens: Int
    /// Attempts of a step when the cluster is unreachable, and the first wait between them.
    public var clusterRetries: Int
    public var clusterRetryInterval: Duration
    /// Pools a volume may be created in besides `pool` (e.g. `vms` for VM disks, Nova's `images_rbd_pool`).
    public var extraPools: [String] = []
    /// The image store's pool and object order (Glance's `rbd_store_pool`, `rbd_store_chunk_size`).
    public var imagePool: String = "images"
    public var imageStoreOrder: Int = 23
    /// The largest upload without `size_bytes` (`image_upload_max_gb`, *live*).
    public var imageUploadMaximumBytes: Int64 = 1024 << 30
    /// How long a transfer waits for a client that sends or reads nothing (`upload_idle_timeout`, *live*).
    public var uploadIdleTimeout: Duration = .seconds(60)
    /// With deferred deletion on (`enable_deferred_deletion`), how long a deleted volume keeps
    /// its image and snapshots and may be undeleted (`deferred_deletion_delay`); nil: off (*live*).
    public var deferredDeletionDelay: Duration?
    /// The shortest `interval_s` a snapshot schedule may have, in seconds (`schedule_min_interval`, *live*).
    public var scheduleMinimumInterval: Int = 300
    /// How long a finished job's row is kept (`job_retention_days`); nil: for ever (*live*).
    public var jobRetention: Duration? = .seconds(30 * 86_400)
    /// Where backups go (Cinder's `backup_ceph_pool`).
    public var backupPool: String = "backups"
    /// What attachments hand to hypervisors: the cephx user, the libvirt secret and the cluster name.
    public var rbdUser: String = "admin"
    public var secretUUID: String?
    public var clusterName: String = "ceph"

    /// Every pool volumes may live in.
    public var volumePools: [String] { [pool] + extraPools.filter { $0 != pool } }

    public init(
        pool: String = "volumes", workers: Int = 4, maxCloneDepth: Int = 5, flattenVolumeFromSnapshot: Bool = false,
        imageOrder: Int = 22, concurrentFlattens: Int = 3, clusterRetries: Int = 3, clusterRetryInterval: Duration = .seconds(5)
    ) {
        self.pool = pool
        self.workers = workers
        self.maxCloneDepth = maxCloneDepth
        self.flattenVolumeFromSnapshot = flattenVolumeFromSnapshot
        self.imageOrder = imageOrder
        self.concurrentFlattens = concurrentFlattens
        self.clusterRetries = clusterRetries
        self.clusterRetryInterval = clusterRetryInterval
    }
}

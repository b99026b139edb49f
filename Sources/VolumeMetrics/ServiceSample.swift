import Lifecycle

/// What a scrape reads off the daemon at that moment (the gauges); counters and histograms
/// are recorded as things happen instead.
public struct ServiceSample: Sendable {
    public var version: String
    public var uptimeSeconds: Double
    /// `ok`, `standby`, `starting`, `fenced` or `degraded`.
    public var state: String
    public var active: Bool
    public var clusterReachable: Bool
    /// HEALTH_OK, HEALTH_WARN or HEALTH_ERR; nil when unknown.
    public var clusterHealth: String?
    public var jobsRunning: Int
    public var jobsQueued: Int
    public var workers: Int
    /// Nil on a daemon that does not serve the database (a standby): the active one reports it.
    public var inventory: InventoryCounts?
    public var pools: [PoolCapacity]

    public init(
        version: String, uptimeSeconds: Double, state: String, active: Bool, clusterReachable: Bool, clusterHealth: String?,
        jobsRunning: Int, jobsQueued: Int, workers: Int, inventory: InventoryCounts?, pools: [PoolCapacity]
    ) {
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.state = state
        self.active = active
        self.clusterReachable = clusterReachable
        self.clusterHealth = clusterHealth
        self.jobsRunning = jobsRunning
        self.jobsQueued = jobsQueued
        self.workers = workers
        self.inventory = inventory
        self.pools = pools
    }

    public static let states = ["ok", "standby", "starting", "fenced", "degraded"]
    public static let healthStatuses = ["HEALTH_OK", "HEALTH_WARN", "HEALTH_ERR"]
}

extension Instruments {
    /// Sets every gauge from `sample`. Each status a user can see has its series, at 0 when
    /// nothing is in it, so that a dashboard's sum and an alert on a status always find one.
    public func record(_ sample: ServiceSample) {
        set(.info, [("version", sample.version)], to: 1)
        set(.uptime, to: sample.uptimeSeconds)
        for state in ServiceSample.states { set(.serving, [("state", state)], to: state == sample.state ? 1 : 0) }
        set(.active, to: sample.active ? 1 : 0)
        set(.clusterReachable, to: sample.clusterReachable ? 1 : 0)
        for status in ServiceSample.healthStatuses {
            set(.clusterHealth, [("status", status)], to: status == sample.clusterHealth ? 1 : 0)
        }
        set(.jobsRunning, to: Double(sample.jobsRunning))
        set(.jobsQueued, to: Double(sample.jobsQueued))
        set(.workers, to: Double(sample.workers))
        if let inventory = sample.inventory {
            let volumeStatuses = VolumeStatus.allCases.filter { $0 != .deleted }.map(\.rawValue)
            let snapshotStatuses = SnapshotStatus.allCases.filter { $0 != .deleted }.map(\.rawValue)
            let imageStatuses = ImageStatus.allCases.filter { $0 != .deleted }.map(\.rawValue)
            for status in volumeStatuses { set(.volumes, [("status", status)], to: Double(inventory.volumes[status] ?? 0)) }
            for status in snapshotStatuses { set(.snapshots, [("status", status)], to: Double(inventory.snapshots[status] ?? 0)) }
            for status in imageStatuses { set(.images, [("status", status)], to: Double(inventory.images[status] ?? 0)) }
        }
        for pool in sample.pools {
            let labels = [("pool", pool.pool)]
            set(.poolProvisionedBytes, labels, to: Double(pool.provisionedBytes))
            set(.poolUsedBytes, labels, to: Double(pool.usedBytes))
            set(.poolFreeBytes, labels, to: Double(pool.freeBytes))
            set(.poolTotalBytes, labels, to: Double(pool.totalBytes))
        }
    }
}

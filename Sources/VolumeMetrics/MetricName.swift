/// Every metric volumed exposes: the names are a contract with dashboards and alerts
/// (Prometheus conventions: `_total` counters, `_seconds` and `_bytes` units, no unit in a label).
public enum MetricName: String, Sendable, CaseIterable {
    // Requests on the socket.
    case requests = "volumed_requests_total"
    case requestDuration = "volumed_request_duration_seconds"
    case connections = "volumed_connections"
    case connectionsAccepted = "volumed_connections_accepted_total"
    case connectionsRefused = "volumed_connections_refused_total"
    // Jobs.
    case jobsStarted = "volumed_jobs_started_total"
    case jobsFinished = "volumed_jobs_total"
    case jobDuration = "volumed_job_duration_seconds"
    case jobsQueued = "volumed_jobs_queued"
    case jobsRunning = "volumed_jobs_running"
    case workers = "volumed_workers"
    case flattenBytes = "volumed_flatten_bytes_total"
    case uploadBytes = "volumed_image_upload_bytes_total"
    case downloadBytes = "volumed_image_download_bytes_total"
    // What the database holds.
    case volumes = "volumed_volumes"
    case snapshots = "volumed_snapshots"
    case images = "volumed_images"
    // The cluster.
    case poolProvisionedBytes = "volumed_pool_provisioned_bytes"
    case poolUsedBytes = "volumed_pool_used_bytes"
    case poolFreeBytes = "volumed_pool_free_bytes"
    case poolTotalBytes = "volumed_pool_total_bytes"
    case clusterReachable = "volumed_cluster_reachable"
    case clusterHealth = "volumed_cluster_health"
    // This daemon.
    case active = "volumed_active"
    case serving = "volumed_serving"
    case info = "volumed_build_info"
    case uptime = "volumed_uptime_seconds"

    public enum Kind: String, Sendable { case counter, gauge, histogram }

    public var kind: Kind {
        switch self {
        case .requests, .connectionsAccepted, .connectionsRefused, .jobsStarted, .jobsFinished, .flattenBytes,
             .uploadBytes, .downloadBytes: .counter
        case .requestDuration, .jobDuration: .histogram
        default: .gauge
        }
    }

    /// The labels its series carry.
    public var labels: [String] {
        switch self {
        case .requests: ["method", "outcome"]
        case .requestDuration: ["method"]
        case .connectionsRefused: ["reason"]
        case .jobsStarted, .jobDuration: ["kind"]
        case .jobsFinished: ["kind", "state"]
        case .volumes, .snapshots, .images: ["status"]
        case .poolProvisionedBytes, .poolUsedBytes, .poolFreeBytes, .poolTotalBytes: ["pool"]
        case .clusterHealth: ["status"]
        case .serving: ["state"]
        case .info: ["version"]
        default: []
        }
    }

    /// The `# HELP` line.
    public var help: String {
        switch self {
        case .requests: "Requests answered on the socket, by method and outcome (ok, or the error kind)."
        case .requestDuration: "Time from a request line to its reply, by method (a waiting call includes its job)."
        case .connections: "Open socket connections."
        case .connectionsAccepted: "Socket connections accepted."
        case .connectionsRefused: "Socket connections refused at a limit (max_connections, max_connections_per_user)."
        case .jobsStarted: "Jobs a worker started (a resumed job counts again), by kind."
        case .jobsFinished: "Jobs that ended, by kind and final state (succeeded, failed, cancelled)."
        case .jobDuration: "Run time of jobs that ended, by kind."
        case .jobsQueued: "Jobs waiting for a worker or a lock."
        case .jobsRunning: "Jobs a worker runs now."
        case .workers: "Job workers (the workers option)."
        case .flattenBytes: "Bytes of clone data flattened (copied from parents)."
        case .uploadBytes: "Image bytes received from clients (a hole counts its length)."
        case .downloadBytes: "Image bytes sent to clients (a hole counts its length)."
        case .volumes: "Volumes by status (deleted ones left out)."
        case .snapshots: "Snapshots by status (deleted ones left out)."
        case .images: "Images by status (deleted ones left out)."
        case .poolProvisionedBytes: "Bytes provisioned to volumed's images in the pool (sum of their sizes)."
        case .poolUsedBytes: "Bytes stored in the pool, as Ceph reports it."
        case .poolFreeBytes: "Bytes the pool can still take, as Ceph reports it (max avail, or what its quota leaves)."
        case .poolTotalBytes: "Used plus free bytes of the pool."
        case .clusterReachable: "1 when the Ceph cluster answers, else 0."
        case .clusterHealth: "1 for the cluster's current health status (HEALTH_OK, HEALTH_WARN, HEALTH_ERR), 0 for the others."
        case .active: "1 when this daemon holds the cluster lock and may change things, else 0."
        case .serving: "1 for this daemon's state (ok, standby, starting, fenced, degraded), 0 for the others."
        case .info: "Always 1; the version label says which volumed runs."
        case .uptime: "Seconds since this daemon started."
        }
    }
}

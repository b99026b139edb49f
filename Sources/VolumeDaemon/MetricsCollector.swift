import Lifecycle
import VolumeEngine
import VolumeMetrics

/// Reads the daemon's gauges at the moment of a scrape and renders every metric in
/// Prometheus' text format, for `service.metrics` and `GET /metrics` alike.
struct MetricsCollector: Sendable {
    let exporter: PrometheusExporter
    let engine: Engine
    let version: String
    let startedAt: ContinuousClock.Instant
    let isActive: @Sendable () -> Bool
    /// Non-nil on a daemon that does not serve the database (standby, fenced, starting).
    let notServing: @Sendable () -> String?
    let statusLine: @Sendable () async -> String
    /// The monitors' last health answer, and whether they answered the last question in time.
    let health: @Sendable () -> (status: String?, answering: Bool)
    /// Pool capacity as last measured in the background.
    let cachedCapacity: @Sendable () -> [PoolCapacity]?

    func exposition() async -> String {
        exporter.instruments.record(await sample())
        return exporter.exposition()
    }

    func sample() async -> ServiceSample {
        let (running, queued) = await engine.load()
        let serving = notServing() == nil
        let inventory = serving ? try? await engine.inventoryCounts() : nil
        let (status, answering) = health()
        let connected = engine.clusterConnection.connected
        // Measured now while the monitors answer (a scrape shows what a test just did); the
        // background figure otherwise, so that a scrape never waits for an absent cluster.
        var pools = cachedCapacity() ?? []
        if serving, connected, answering, let fresh = try? await engine.capacity() { pools = fresh }
        return ServiceSample(
            version: version, uptimeSeconds: Double(startedAt.duration(to: .now).components.seconds),
            state: Dispatcher.state(ofStatusLine: await statusLine()), active: isActive(),
            clusterReachable: connected && answering, clusterHealth: connected && answering ? status : nil,
            jobsRunning: running, jobsQueued: queued, workers: engine.settings.workers,
            inventory: inventory, pools: pools)
    }
}

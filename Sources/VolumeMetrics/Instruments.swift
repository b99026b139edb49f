import CoreMetrics
import Lifecycle

/// What volumed records as it goes, through swift-metrics: the caller picks the backend (the
/// daemon's Prometheus registry; `none` for tools and tests that measure nothing). No global
/// metrics system is bootstrapped.
public struct Instruments: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Records nothing.
    public static let none = Instruments(factory: NOOPMetricsHandler.instance)

    public func count(_ metric: MetricName, _ labels: [(String, String)] = [], by amount: Int64 = 1) {
        Counter(label: metric.rawValue, dimensions: labels, factory: factory).increment(by: amount)
    }

    public func set(_ metric: MetricName, _ labels: [(String, String)] = [], to value: Double) {
        Gauge(label: metric.rawValue, dimensions: labels, factory: factory).record(value)
    }

    public func time(_ metric: MetricName, _ labels: [(String, String)] = [], _ duration: Duration) {
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        Timer(label: metric.rawValue, dimensions: labels, factory: factory).recordNanoseconds(nanoseconds)
    }

    // MARK: what the engine records

    public func jobStarted(_ kind: JobKind) {
        count(.jobsStarted, [("kind", kind.rawValue)])
    }

    public func jobFinished(_ kind: JobKind, state: JobState, after duration: Duration?) {
        count(.jobsFinished, [("kind", kind.rawValue), ("state", state.rawValue)])
        if let duration { time(.jobDuration, [("kind", kind.rawValue)], duration) }
    }

    // MARK: what the socket records

    /// `outcome` is `ok` or an error kind; `method` one of the protocol's names or `unknown`
    /// (a client cannot grow the label set by inventing methods).
    public func request(_ method: String, outcome: String, after duration: Duration) {
        count(.requests, [("method", method), ("outcome", outcome)])
        time(.requestDuration, [("method", method)], duration)
    }
}

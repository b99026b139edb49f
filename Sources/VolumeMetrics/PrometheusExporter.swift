import CoreMetrics
import Prometheus

/// The daemon's metrics backend: a Prometheus registry that swift-metrics records into, with
/// each metric's `# HELP` from `MetricName` and bucket bounds chosen per histogram, and the
/// text exposition format for `service.metrics` and `GET /metrics`.
public final class PrometheusExporter: Sendable {
    let registry = PrometheusCollectorRegistry()

    public init() {}

    public var instruments: Instruments { Instruments(factory: Factory(registry: registry)) }

    /// Prometheus' text format (version 0.0.4): what a scrape returns.
    public func exposition() -> String {
        registry.emitToString()
    }

    /// The content type of `exposition()` for HTTP.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Creates the registry's metrics with their help texts, so that one name always carries
    /// the same help (the registry refuses two). A name outside `MetricName` gets none.
    struct Factory: MetricsFactory {
        let registry: PrometheusCollectorRegistry

        private func descriptor(_ label: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: label, unitName: "", helpText: MetricName(rawValue: label)?.help ?? "")
        }

        private static func buckets(_ label: String) -> [Duration] {
            switch MetricName(rawValue: label) {
            // From a cached read to a long flatten.
            case .jobDuration?:
                [.milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
                 .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(900), .seconds(3600)]
            default:
                [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2500), .milliseconds(5), .milliseconds(10),
                 .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                 .seconds(5), .seconds(30)]
            }
        }

        func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
            registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
        }

        func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
            registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
        }

        func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
            registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
        }

        func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
            registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
        }

        func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
            registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: Self.buckets(label))
        }

        // Series stay for the daemon's life: a label set is never removed once seen.
        func destroyCounter(_ handler: any CounterHandler) {}
        func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
        func destroyRecorder(_ handler: any RecorderHandler) {}
        func destroyMeter(_ handler: any MeterHandler) {}
        func destroyTimer(_ handler: any TimerHandler) {}
    }
}

import Lifecycle
import VolumeEngine
import VolumeMetrics
import VolumeProtocol

/// The `service.*` methods.
extension Dispatcher {
    /// `service.capacity`
    func serviceCapacity(_ request: Request) async throws -> any Encodable & Sendable {
        try await engine.capacity()
    }

    /// `service.metrics`
    func serviceMetrics(_ request: Request) async throws -> any Encodable & Sendable {
        MetricsText(contentType: PrometheusExporter.contentType, text: await metrics.exposition())
    }

    /// `rpc.discover`
    func rpcDiscover(_ request: Request) async throws -> any Encodable & Sendable {
        OpenRPCDocument.make(version: version)
    }

    /// `service.reconcile`
    func serviceReconcile(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let fix = try p.bool("fix") ?? false
        if fix {
            guard isActive() else { throw RPCError.domain(.busy, "service.reconcile with fix: this daemon is in standby") }
        }
        return try await engine.reconcile(fix: fix)
    }

    /// `service.status`
    func serviceStatus(_ request: Request) async throws -> any Encodable & Sendable {
        try await status()
    }
}

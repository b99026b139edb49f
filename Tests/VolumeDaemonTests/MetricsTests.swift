import Foundation
import TestSupport
import Testing
import VolumeMetrics
import VolumeProtocol

/// The metrics, scraped through `service.metrics` and over HTTP from a real daemon, checked
/// against what the test did to it.
@Suite(.timeLimit(.minutes(10))) struct MetricsTests {
    @Test func scrapesShowWhatHappened() async throws {
        let port = try HTTPGet.freePort()
        let daemon = try await DaemonProcess.started(defaultExtra: "metrics_listen = 127.0.0.1:\(port)")
        defer { daemon.cleanUp() }
        let client = try daemon.client()

        // Two volumes, a snapshot, a clone of it flattened, one volume deleted; three refusals.
        let first = try await client.createdVolume(["size_gb": .int(1), "name": .string("m1")])
        let second = try await client.createdVolume(["size_gb": .int(2), "name": .string("m2")])
        try await daemon.cluster.fill(pool: daemon.pool, image: first.rbdImage, megabytes: 8)
        let snapshot = try #require(try await client.call(
            "snapshot.create", .object(["volume_id": .string(first.id), "wait": .bool(true)]), as: MutationResult.self).snapshot)
        let clone = try await client.createdVolume(["size_gb": .int(1), "source": .object(["snapshot_id": .string(snapshot.id)])])
        _ = try await client.call("volume.flatten", .object(["volume_id": .string(clone.id), "wait": .bool(true)]), as: MutationResult.self)
        _ = try await client.call("volume.delete", .object(["volume_id": .string(second.id), "wait": .bool(true)]), as: MutationResult.self)
        let missing = try await client.call("volume.get", .object(["volume_id": .string("00000000-0000-0000-0000-000000000000")]))
        #expect(missing.error?.kind == .notFound)
        let unknown = try await client.call("volume.teleport", .object([:]))
        #expect(unknown.error?.code == -32601)
        let wrong = try await client.call("volume.create", .object(["size_gb": .string("ten")]))
        #expect(wrong.error?.kind == .invalidParams)

        let reply = try await client.call("service.metrics", as: MetricsText.self)
        #expect(reply.contentType.hasPrefix("text/plain; version=0.0.4"))
        let socket = PrometheusText(reply.text)

        #expect(socket.value("volumed_requests_total", ["method": "volume.create", "outcome": "ok"]) == 3)
        #expect(socket.value("volumed_requests_total", ["method": "volume.create", "outcome": "invalid_params"]) == 1)
        #expect(socket.value("volumed_requests_total", ["method": "volume.get", "outcome": "not_found"]) == 1)
        #expect(socket.value("volumed_requests_total", ["method": "unknown", "outcome": "method_not_found"]) == 1)
        #expect(socket.value("volumed_request_duration_seconds_count", ["method": "volume.flatten"]) == 1)
        #expect(socket.value("volumed_jobs_started_total", ["kind": "volume.create"]) == 3)
        #expect(socket.value("volumed_jobs_total", ["kind": "volume.create", "state": "succeeded"]) == 3)
        #expect(socket.value("volumed_jobs_total", ["kind": "snapshot.create", "state": "succeeded"]) == 1)
        #expect(socket.value("volumed_jobs_total", ["kind": "volume.flatten", "state": "succeeded"]) == 1)
        #expect(socket.value("volumed_job_duration_seconds_count", ["kind": "volume.create"]) == 3)
        #expect((socket.value("volumed_job_duration_seconds_sum", ["kind": "volume.flatten"]) ?? 0) > 0)
        #expect(socket.value("volumed_jobs_running") == 0)
        #expect(socket.value("volumed_jobs_queued") == 0)
        // librbd flattens the clone's whole overlap (1 GiB), object by object.
        #expect(socket.value("volumed_flatten_bytes_total") == Double(1 << 30))
        #expect(socket.value("volumed_volumes", ["status": "available"]) == 2)
        #expect(socket.value("volumed_volumes", ["status": "error"]) == 0)
        #expect(socket.value("volumed_snapshots", ["status": "available"]) == 1)
        // Pool figures, as service.capacity says them, and both volumes provisioned.
        #expect(socket.value("volumed_pool_provisioned_bytes", ["pool": daemon.pool]) == Double(2 << 30))
        let capacity = try await client.call("service.capacity", as: [PoolCapacity].self)
        let pool = try #require(capacity.first { $0.pool == daemon.pool })
        #expect(socket.value("volumed_pool_used_bytes", ["pool": daemon.pool]) != nil)
        #expect(pool.provisionedBytes == 2 << 30)
        #expect(socket.value("volumed_active") == 1)
        #expect(socket.value("volumed_cluster_reachable") == 1)
        #expect(socket.value("volumed_serving", ["state": "ok"]) == 1)
        let health = try await daemon.cluster.ceph(["health", "--format", "json"])
        let status = try #require((try JSONSerialization.jsonObject(with: Data(health.utf8)) as? [String: Any])?["status"] as? String)
        #expect(socket.value("volumed_cluster_health", ["status": status]) == 1)
        #expect((socket.value("volumed_connections") ?? 0) >= 1)
        // This client's, and the one that saw the daemon ready.
        #expect((socket.value("volumed_connections_accepted_total") ?? 0) >= 1)
        #expect(socket.value("volumed_build_info", ["version": "0.1.0"]) == 1)
        // Every family is one of the catalogue's, with its type and help.
        for (family, type) in socket.types {
            let metric = try #require(MetricName(rawValue: family), "\(family) is not in MetricName")
            #expect(metric.kind.rawValue == type, "\(family)")
            #expect(socket.helps.contains(family), "\(family) has no HELP")
        }

        // The same figures over HTTP, and nothing but /metrics there.
        let scrape = try HTTPGet.fetch(port: port, path: "/metrics")
        #expect(scrape.status == 200)
        #expect(scrape.headers["content-type"] == PrometheusExporter.contentType)
        let http = PrometheusText(scrape.body)
        #expect(http.value("volumed_jobs_total", ["kind": "volume.create", "state": "succeeded"]) == 3)
        #expect(http.value("volumed_requests_total", ["method": "service.metrics", "outcome": "ok"]) == 1)
        #expect(http.value("volumed_volumes", ["status": "available"]) == 2)
        #expect(try HTTPGet.fetch(port: port, path: "/").status == 404)
        #expect(try HTTPGet.fetch(port: port, path: "/metrics", method: "POST").status == 405)
        #expect(try HTTPGet.fetch(port: port, path: "/metrics", method: "HEAD").status == 200)
    }

    @Test func readmeListsEveryMetric() throws {
        let readme = try String(contentsOfFile: FileManager.default.currentDirectoryPath + "/README.md", encoding: .utf8)
        for metric in MetricName.allCases {
            #expect(readme.contains("`\(metric.rawValue)`"), "README's metrics table lacks \(metric.rawValue)")
        }
    }

    @Test func aTakenPortIsNamed() async throws {
        let port = try HTTPGet.freePort()
        let first = try await DaemonProcess.started(defaultExtra: "metrics_listen = 127.0.0.1:\(port)")
        defer { first.cleanUp() }
        let second = try await DaemonProcess(defaultExtra: "metrics_listen = 127.0.0.1:\(port)")
        defer { second.cleanUp() }
        let run = try await second.runTool([])
        #expect(run.status != 0)
        #expect(run.output.contains("metrics_listen = 127.0.0.1:\(port): cannot listen there"), "\(run.output)")
    }

    @Test func aBadListenAddressIsNamed() async throws {
        let daemon = try await DaemonProcess(defaultExtra: "metrics_listen = localhost:99999")
        defer { daemon.cleanUp() }
        let run = try await daemon.runTool(["--check-config"])
        #expect(run.status != 0)
        #expect(run.output.contains("metrics_listen") && run.output.contains("port from 1 to 65535"), "\(run.output)")
    }
}

import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// The cluster goes away under running jobs (OSD, then monitor), and is down when the daemon
/// starts: within the cluster lock's deadline volumed stays up, answers reads, says `degraded`,
/// retries, and finishes when the cluster returns; a job that outlives its retries fails with
/// `cluster_unavailable`. Past the deadline (two thirds of the lease) it cannot know whether
/// another daemon took over: it fences itself and exits, and once restarted finishes its jobs.
/// Runs on a private dev cluster, since it stops its daemons.
@Suite(.serialized, .timeLimit(.minutes(10))) struct OutageTests {
    static let rados = """
        rados_connect_timeout = 3
        rados_connection_retries = 5
        rados_connection_interval = 1
        """
    /// Retries that outlast the short outages below even on a loaded machine (six attempts of
    /// 3 s with waits of 1+2+4+8+16 s: about 50 s, where stopping and booting a monitor and an
    /// OSD takes 20 to 35 s on two busy cores).
    static let patientRetries = "rados_connection_retries = 6"

    static func waitForState(_ client: VolumeClient, _ wanted: String, within: Duration) async throws -> ServiceStatus {
        let deadline = ContinuousClock.now + within
        var status = try await client.call("service.status", as: ServiceStatus.self)
        while status.state != wanted && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            status = try await client.call("service.status", as: ServiceStatus.self)
        }
        return status
    }

    @Test func jobsWaitThroughAnOutageAndFinishWhenTheClusterReturns() async throws {
        let cluster = try await TestCluster.startPrivate()
        defer { cluster.destroyLater() }
        // A lease long enough that these outages stay within its deadline (120 s; the long
        // outage alone, retries running out and the OSD booting again, takes about a minute).
        let daemon = try await DaemonProcess.started(
            extraConfig: Self.rados.replacingOccurrences(of: "rados_connection_retries = 5", with: Self.patientRetries),
            defaultExtra: "cluster_lock_lease = 180", pool: "volumes", cluster: cluster)
        defer { daemon.cleanUp(keepPool: true) }
        let client = try daemon.client()
        let base = try #require(try await client.call(
            "volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self).volume)

        // The OSD goes, with jobs queued behind it.
        try await cluster.control("stop-osd")
        var jobs: [String] = []
        for _ in 0..<3 { jobs.append(try await client.call("volume.create", .object(["size_gb": .int(1)]), as: MutationResult.self).job.id) }
        jobs.append(try await client.call("snapshot.create", .object(["volume_id": .string(base.id)]), as: MutationResult.self).job.id)
        let degraded = try await Self.waitForState(client, "degraded", within: .seconds(15))
        #expect(degraded.state == "degraded", "\(degraded.statusLine)")
        #expect(try await client.call("volume.get", .object(["volume_id": .string(base.id)]), as: Volume.self).id == base.id, "reads go on")
        // Then the monitor too.
        try await cluster.control("stop-mon")
        try await Task.sleep(for: .seconds(6))
        let blind = try await client.call("service.status", as: ServiceStatus.self)
        #expect(blind.state == "degraded", "\(blind.statusLine)")
        #expect(try await client.call("volume.list", as: [Volume].self).count >= 1)

        try await cluster.control("start-mon")
        try await cluster.control("start-osd")
        for job in jobs {
            let final = try await client.call("job.wait", .object(["job_id": .string(job)]), as: Job.self)
            #expect(final.state == "succeeded", "\(final.kind): \(final.error?.message ?? "")")
        }
        let back = try await Self.waitForState(client, "ok", within: .seconds(30))
        #expect(back.state == "ok", "\(back.statusLine)")
        try await Invariants.settle(daemon)
        #expect(try await Self.poolMatches(daemon, client))

        // A longer outage: the job's retries run out, it fails with cluster_unavailable, and
        // what it leaves is recorded (its volume is `error`, deleted cleanly once the cluster is back).
        // Fewer retries from here (a reload applies them to new jobs): about 10 s of them.
        try daemon.setOption("rados_connection_retries = 3")
        try await daemon.reload()
        try await cluster.control("stop-osd")
        let failed = try await client.call("volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]))
        #expect(failed.error?.kind == .clusterUnavailable, "\(failed.error?.message ?? "no error")")
        try await cluster.control("start-osd")
        _ = try await Self.waitForState(client, "ok", within: .seconds(30))
        for volume in try await client.call("volume.list", as: [Volume].self) where volume.status == "error" {
            _ = try await client.call("volume.delete", .object(["volume_id": .string(volume.id), "wait": .bool(true)]), as: MutationResult.self)
        }
        try await Invariants.settle(daemon)
        #expect(try await Self.poolMatches(daemon, client))
    }

    @Test func anOutagePastTheDeadlineFencesTheDaemonAndItsJobsFinishAfterARestart() async throws {
        let cluster = try await TestCluster.startPrivate()
        defer { cluster.destroyLater() }
        let lease = 6
        let daemon = try await DaemonProcess.started(extraConfig: Self.rados, defaultExtra: "cluster_lock_lease = \(lease)", pool: "volumes", cluster: cluster)
        defer { daemon.cleanUp(keepPool: true) }
        let client = try daemon.client()
        try await cluster.control("stop-osd")
        let queued = try await client.call("volume.create", .object(["size_gb": .int(1)]), as: MutationResult.self)
        let status = await daemon.waitForExit(within: .seconds(lease * 2))
        #expect(status == 75, "exit status \(String(describing: status))")
        #expect(daemon.log.contains("self-fencing"))
        try await cluster.control("start-osd")
        // Restarted (as systemd would): it takes the lock again and finishes the job.
        try await daemon.start()
        // A standby first: the lock it held until it fenced itself expires a lease later.
        #expect(try await daemon.waitUntilActive(within: .seconds(lease * 3)), "active again after the restart")
        let restarted = try daemon.client()
        let final = try await restarted.call("job.wait", .object(["job_id": .string(queued.job.id)]), as: Job.self)
        #expect(final.state == "succeeded", "\(final.error?.message ?? "")")
        try await Invariants.settle(daemon)
        #expect(try await Self.poolMatches(daemon, restarted))
    }

    /// The pool's images are the live volumes' and its trash is empty, asked with the `rbd` CLI:
    /// no librados connection from this process to a cluster the test destroys (librados aborts
    /// when such a connection faults later).
    static func poolMatches(_ daemon: DaemonProcess, _ client: VolumeClient) async throws -> Bool {
        let images = Set(try await daemon.cluster.rbd(["ls", "volumes"]).split(separator: "\n").map(String.init))
        let trash = try await daemon.cluster.rbd(["trash", "ls", "volumes"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let volumes = Set(try await client.call("volume.list", as: [Volume].self).map(\.rbdImage))
        return images == volumes && trash.isEmpty
    }

    @Test func aDaemonStartedWithTheClusterDownServesReadsThenConnects() async throws {
        let cluster = try await TestCluster.startPrivate()
        defer { cluster.destroyLater() }
        try await cluster.control("stop-osd")
        try await cluster.control("stop-mon")
        let daemon = try await DaemonProcess.started(
            extraConfig: "rados_connect_timeout = 2\nrados_connection_retries = 2\nrados_connection_interval = 1",
            pool: "volumes", cluster: cluster)
        defer { daemon.cleanUp(keepPool: true) }
        let client = try daemon.client()
        let status = try await client.call("service.status", as: ServiceStatus.self)
        #expect(status.state == "degraded")
        #expect(!status.clusterConnected)
        #expect(try await client.call("volume.list", as: [Volume].self).isEmpty, "reads answer from the database")

        try await cluster.control("start-mon")
        try await cluster.control("start-osd")
        let ready = try await Self.waitForState(client, "ok", within: .seconds(90))
        #expect(ready.state == "ok", "\(ready.statusLine)")
        let created = try await client.call("volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self)
        #expect(created.job.state == "succeeded")
    }
}

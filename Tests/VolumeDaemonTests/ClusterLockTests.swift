import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// One active daemon per pool set: a second one waits in standby and takes over within the lease.
@Suite(.timeLimit(.minutes(5))) struct ClusterLockTests {
    @Test func aSecondDaemonStaysInStandbyUntilTheFirstDiesThenTakesOver() async throws {
        let lease = 6
        let first = try DaemonProcess(defaultExtra: "cluster_lock_lease = \(lease)")
        defer { first.cleanUp(keepPool: true) }
        try await first.start()
        let firstClient = try first.client()
        let volume = try #require(try await firstClient.call(
            "volume.create", .object(["size_gb": .int(1), "name": .string("shared"), "wait": .bool(true)]), as: MutationResult.self).volume)

        let second = try DaemonProcess(defaultExtra: "cluster_lock_lease = \(lease)", pool: first.pool)
        defer { second.cleanUp() }
        try await second.start()
        let secondClient = try second.client()
        // Give it a few lock attempts: it stays in standby and refuses changes.
        try await Task.sleep(for: .seconds(2))
        let status = try await secondClient.call("service.status", as: ServiceStatus.self)
        #expect(status.state == "standby")
        #expect(status.statusLine.hasPrefix("standby: cluster lock held by"))
        let refused = try await secondClient.call("volume.create", .object(["size_gb": .int(1)]))
        #expect(refused.error?.kind == .busy)
        #expect(try await firstClient.call("service.status", as: ServiceStatus.self).state == "ok")

        // The first dies without releasing: the second takes over once the lease runs out.
        let killed = ContinuousClock.now
        first.kill()
        var active = false
        while ContinuousClock.now - killed < .seconds(lease + 5) {
            if try await secondClient.call("service.status", as: ServiceStatus.self).state == "ok" {
                active = true
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let takeover = ContinuousClock.now - killed
        #expect(active, "took over after \(takeover)")
        // The lease runs out at most `lease` after the kill; the standby asks every second and then
        // rebuilds its database: a few seconds of slack on a loaded 2-core machine.
        #expect(takeover <= .seconds(lease + 4), "took over after \(takeover), lease \(lease) s")
        // Its empty database was rebuilt from the cluster: it knows the first one's volume, and runs jobs.
        let listed = try await secondClient.call("volume.list", as: [Volume].self)
        #expect(listed.map(\.id) == [volume.id])
        #expect(listed.first?.name == "shared")
        let created = try await secondClient.call("volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self)
        #expect(created.job.state == "succeeded")
    }
}

import Foundation
import TestSupport
import Testing
import VolumeProtocol

/// `job.list` with `watch`: the list, then a `job.changed` notification with the job each time
/// one is queued, moves or ends; and `volumectl job list --watch` built on it.
@Suite(.timeLimit(.minutes(2))) struct JobWatchTests {
    @Test func aWatcherSeesAJobQueuedAndEnded() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let watcher = try daemon.client()
        let listed = try await watcher.call("job.list", .object(["watch": .bool(true)]), as: [Job].self)
        #expect(listed.isEmpty)

        let other = try daemon.client()
        let created = try await other.call("volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self)
        var states: [String] = []
        while states.last != "succeeded" {
            let line = try await watcher.readLine()
            let notification = try JSONDecoder.volumed().decode(RPCNotification.self, from: line)
            #expect(notification.method == "job.changed")
            let job = try JSONDecoder.volumed().decode(Job.self, from: try JSONEncoder.volumed().encode(notification.params))
            #expect(job.id == created.job.id && job.volumeID == created.volume?.id)
            states.append(job.state)
        }
        #expect(states.first == "queued", "\(states)")

        // Only the volume's jobs when a volume is named.
        let filtered = try daemon.client()
        _ = try await filtered.call("job.list", .object(["watch": .bool(true), "volume_id": .string(try #require(created.volume?.id))]), as: [Job].self)
        _ = try await other.call("volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self)
        let deleted = try await other.call(
            "volume.delete", .object(["volume_id": .string(try #require(created.volume?.id)), "wait": .bool(true)]), as: MutationResult.self)
        let line = try await filtered.readLine()
        let first = try JSONDecoder.volumed().decode(RPCNotification.self, from: line)
        #expect(first.params["id"] == .string(deleted.job.id), "the other volume's create is not shown")
    }

    @Test func volumectlJobListWatchPrintsEachChange() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let binary = (ProcessInfo.processInfo.environment["VOLUMED_BIN"] ?? ".build/debug") + "/volumectl"
        async let watched = ToolRun.run("/usr/bin/timeout", ["5", binary, "--socket", daemon.socketPath, "--json", "job", "list", "--watch"])
        try await Task.sleep(for: .seconds(1.5))
        let created = try await daemon.client().call("volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self)
        let run = try await watched
        #expect(run.status == 124, "ended by timeout, not by itself: \(run.stderr)")
        let jobs = try run.stdout.split(separator: "\n").map { try JSONDecoder.volumed().decode(Job.self, from: Data($0.utf8)) }
        #expect(jobs.contains { $0.id == created.job.id && $0.state == "queued" })
        #expect(jobs.last?.id == created.job.id && jobs.last?.state == "succeeded", "\(run.stdout)")
    }
}

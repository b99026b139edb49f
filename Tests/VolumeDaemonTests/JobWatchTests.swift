import Foundation
import Synchronization
import TestSupport
import Testing
import VolumeProtocol

/// `job.list` with `watch`: the list, then a `job.changed` notification with the job each time
/// one is queued, moves or ends; and `volumectl job list --watch` built on it.
@Suite(.timeLimit(.minutes(10))) struct JobWatchTests {
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
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: binary)
        watcher.arguments = ["--socket", daemon.socketPath, "--json", "job", "list", "--watch"]
        let output = Pipe()
        watcher.standardOutput = output
        let printed = PrintedLines()
        output.fileHandleForReading.readabilityHandler = { handle in printed.append(handle.availableData) }
        try watcher.run()
        defer { watcher.terminate() }
        // volumectl is subscribed once its job.list has been answered (the count comes after the reply).
        let client = try daemon.client()
        try await eventually("volumectl's job.list answered") {
            let metrics = try await client.call("service.metrics", as: MetricsText.self)
            return metrics.text.contains(#"volumed_requests_total{method="job.list",outcome="ok"} 1"#)
        }
        let created = try await client.call("volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self)
        try await eventually("volumectl printed the job's end") { printed.text.contains(#""state":"succeeded""#) }
        let jobs = try printed.text.split(separator: "\n").map { try JSONDecoder.volumed().decode(Job.self, from: Data($0.utf8)) }
        #expect(jobs.first?.id == created.job.id && jobs.first?.state == "queued", "\(printed.text)")
        #expect(jobs.last?.id == created.job.id && jobs.last?.state == "succeeded", "\(printed.text)")
    }

    /// Waits up to 30 s for `condition`, looking every 100 ms.
    private func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { Issue.record("timed out waiting: \(what)"); return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// What a child process printed, collected from its pipe's reader thread.
final class PrintedLines: Sendable {
    private let data = Mutex(Data())
    func append(_ chunk: Data) { data.withLock { $0.append(chunk) } }
    var text: String { String(decoding: data.withLock { $0 }, as: UTF8.self) }
}

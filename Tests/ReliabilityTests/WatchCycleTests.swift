import Foundation
import Glibc
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// A `job.watch` lives only as long as its connection: clients that watch a running job and
/// hang up, 10,000 times, leave the daemon's descriptors, threads and memory where they were,
/// and the job running. Long mode only (`VOLUMED_LONG=1`): the flatten that keeps the job running
/// (a 64 TiB thin clone) floods the dev cluster's single OSD, and in the full suite the other
/// tests' requests timed out behind it.
@Suite(.timeLimit(.minutes(10)), .enabled(if: ProcessInfo.processInfo.environment["VOLUMED_LONG"] == "1"))
struct WatchCycleTests {
    static let cycles = 10_000

    @Test func tenThousandWatchThenHangUpCyclesLeaveNothingBehind() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        // A flatten that runs for minutes: a clone of a 64 TiB thin volume has 16 million objects to walk.
        let parent = try await client.createdVolume(["size_gb": .int(65_536)])
        let clone = try await client.createdVolume(["size_gb": .int(65_536), "source": .object(["volume_id": .string(parent.id)])])
        let flatten = try await client.call("volume.flatten", .object(["volume_id": .string(clone.id)]), as: MutationResult.self).job
        let pid = try #require(daemon.pid)

        // A first round warms up what the daemon keeps (buffers, the pool's threads).
        _ = await Self.watchAndHangUp(daemon.socketPath, jobID: flatten.id, times: 200)
        let before = Self.usage(of: pid)
        let answered = await Self.watchAndHangUp(daemon.socketPath, jobID: flatten.id, times: Self.cycles)
        #expect(answered == Self.cycles, "every watch was answered with the job")
        // Let the daemon notice the last hang-ups.
        var after = Self.usage(of: pid)
        for _ in 0..<50 where after.descriptors > before.descriptors {
            try await Task.sleep(for: .milliseconds(100))
            after = Self.usage(of: pid)
        }
        #expect(after.descriptors <= before.descriptors, "descriptors \(before.descriptors) → \(after.descriptors)")
        #expect(after.threads <= before.threads + 2, "threads \(before.threads) → \(after.threads)")
        #expect(after.rssKiB - before.rssKiB < 8 << 10, "RSS \(before.rssKiB) → \(after.rssKiB) KiB after \(Self.cycles) watches")
        let job = try await client.call("job.get", .object(["job_id": .string(flatten.id)]), as: Job.self)
        #expect(job.jobState == .running, "the watched job is still running (\(job.state))")
        _ = try await client.call("job.cancel", .object(["job_id": .string(flatten.id)]))
        print("watch cycles: \(Self.cycles) watched and hung up; fds \(before.descriptors) → \(after.descriptors), threads \(before.threads) → \(after.threads), RSS \(before.rssKiB) → \(after.rssKiB) KiB")
    }

    /// Open descriptors, threads and resident memory of process `pid`.
    static func usage(of pid: Int32) -> (descriptors: Int, threads: Int, rssKiB: Int) {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            let line = status.split(separator: "\n").first { $0.hasPrefix(name) } ?? ""
            return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? -1
        }
        return (descriptors, field("Threads:"), field("VmRSS:"))
    }

    /// `times` clients, one after another, each sending `job.watch` and closing once the
    /// reply (the job now) is in; how many got it. Blocking sockets, on a thread of their own.
    static func watchAndHangUp(_ path: String, jobID: String, times: Int) async -> Int {
        let request = Array(#"{"jsonrpc":"2.0","id":1,"method":"job.watch","params":{"job_id":"\#(jobID)"}}"#.utf8) + [0x0A]
        return await onOwnThread {
            var answered = 0
            for _ in 0..<times {
                guard let fd = RawSocket.connect(path) else { continue }
                defer { close(fd) }
                guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count,
                      let reply = RawSocket.readLine(fd, within: 5_000) else { continue }
                if String(decoding: reply, as: UTF8.self).contains(#""result""#) { answered += 1 }
            }
            return answered
        }
    }
}

import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// Snapshot schedules on the real cluster: the active daemon snapshots the volume every
/// interval, keeps the newest `keep` of its own (never a user's), takes one catch-up snapshot
/// after a downtime, and refuses intervals below `schedule_min_interval`.
@Suite(.timeLimit(.minutes(10))) struct ScheduleTests {
    static func scheduled(_ client: VolumeClient, _ volumeID: String) async throws -> [Snapshot] {
        try await client.call("snapshot.list", .object(["volume_id": .string(volumeID)]), as: [Snapshot].self).filter { $0.scheduleID != nil }
    }

    @Test func aScheduleKeepsTheNewestAndNeverTouchesAUsersSnapshot() async throws {
        let daemon = try await DaemonProcess.started(defaultExtra: "schedule_min_interval = 2")
        defer { daemon.cleanUp() }
        var client = try daemon.client()
        let volume = try await client.createdVolume(["size_gb": .int(1)])
        // The user's own, named like a scheduled one: never the schedule's to delete.
        let mine = try #require(try await client.call("snapshot.create", .object([
            "volume_id": .string(volume.id), "name": .string("scheduled-mine"), "wait": .bool(true),
        ]), as: MutationResult.self).snapshot)

        let tooOften = try await client.call("schedule.create", .object(["volume_id": .string(volume.id), "interval_s": .int(1), "keep": .int(2)]))
        #expect(tooOften.error?.kind == .invalidParams)
        #expect(tooOften.error?.message.contains("schedule_min_interval") == true, "\(String(describing: tooOften.error))")
        let schedule = try await client.call("schedule.create", .object([
            "volume_id": .string(volume.id), "interval_s": .int(2), "keep": .int(2),
        ]), as: Schedule.self)
        #expect(schedule.volumeID == volume.id && schedule.intervalSeconds == 2 && schedule.keep == 2)
        #expect(try await client.call("schedule.list", .object(["volume_id": .string(volume.id)]), as: [Schedule].self).map(\.id) == [schedule.id])

        // A snapshot every 2 s (about 10 s for four turns; longer on a loaded machine, where a turn
        // waits for the last one's snapshot to be made), two kept.
        let started = ContinuousClock.now
        var turns = 0
        while turns < 4, ContinuousClock.now < started + .seconds(60) {
            try await Task.sleep(for: .seconds(1))
            turns = try await client.call("job.list", .object(["volume_id": .string(volume.id), "limit": .int(100)]), as: [Job].self)
                .filter { $0.kind == "snapshot.create" }.count - 1
        }
        #expect(turns >= 4, "a snapshot every 2 s (\(turns) in \(ContinuousClock.now - started))")
        let listed = try await client.call("schedule.list", as: [Schedule].self)
        let lastRun = try #require(listed.first?.lastRunAt)
        #expect(Date().timeIntervalSince(lastRun) < 4, "it keeps running: last at \(lastRun)")
        let deleted = try await client.call("schedule.delete", .object(["schedule_id": .string(schedule.id)]), as: Schedule.self)
        #expect(deleted.id == schedule.id)
        try await Invariants.settle(daemon)
        let kept = try await Self.scheduled(client, volume.id)
        #expect(kept.count == 2, "\(kept.map(\.name))")
        #expect(kept.allSatisfy { $0.name.hasPrefix("scheduled-20") && $0.scheduleID == schedule.id && $0.status == "available" })
        let all = try await client.call("snapshot.list", .object(["volume_id": .string(volume.id)]), as: [Snapshot].self)
        #expect(all.contains { $0.id == mine.id && $0.status == "available" }, "the user's snapshot is untouched")
        let onImage = try await daemon.cluster.snapshots(pool: daemon.pool, image: volume.rbdImage)
        #expect(Set(onImage) == Set(all.map(\.rbdSnapshot)), "the image holds exactly these: \(onImage)")
        #expect(try await client.call("schedule.list", as: [Schedule].self).isEmpty)

        // After a downtime of several intervals (a SIGKILL): one catch-up snapshot, not one per interval.
        let again = try await client.call("schedule.create", .object([
            "volume_id": .string(volume.id), "interval_s": .int(5), "keep": .int(5),
        ]), as: Schedule.self)
        try await Invariants.settle(daemon)
        await daemon.kill()
        let stopped = Date()
        try await Task.sleep(for: .seconds(16))
        try await daemon.start()
        client = try daemon.client()
        try await Task.sleep(for: .seconds(2))
        let afterDowntime = try await Self.scheduled(client, volume.id).filter { $0.scheduleID == again.id && $0.createdAt > stopped }
        // The catch-up, and on a loaded machine perhaps already the regular turn after it (5 s
        // later), never a burst of the missed ones.
        let times = afterDowntime.map(\.createdAt).sorted()
        #expect(!times.isEmpty, "a catch-up snapshot after the downtime")
        #expect(zip(times, times.dropFirst()).allSatisfy { $1.timeIntervalSince($0) >= 4 },
                "one catch-up for three missed turns, not one per turn: \(afterDowntime.map(\.name))")

        // A volume deleted for good takes its schedules with it.
        let cut = try await client.call("volume.delete", .object(["volume_id": .string(volume.id), "wait": .bool(true)]))
        #expect(cut.error == nil, "\(String(describing: cut.error))")
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, try await !client.call("schedule.list", as: [Schedule].self).isEmpty {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try await client.call("schedule.list", as: [Schedule].self).isEmpty)
        let missing = try await client.call("schedule.delete", .object(["schedule_id": .string(again.id)]))
        #expect(missing.error?.kind == .notFound)
        try await Invariants.settle(daemon)
        await daemon.terminate()
        let problems = try await Invariants.check(daemon)
        #expect(problems.isEmpty, "\(problems)")
    }
}

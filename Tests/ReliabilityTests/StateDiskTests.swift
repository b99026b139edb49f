import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// volumed's own disk full or read-only: new work is refused with `storage_unavailable` naming
/// the folder, reads go on, nothing recorded is lost, and it all works again once fixed.
@Suite(.serialized, .timeLimit(.minutes(10))) struct StateDiskTests {
    /// A small tmpfs for the state folder (the tests run as root).
    static func mount(_ path: String, size: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func aFullOrReadOnlyStateFolderRefusesNewWorkAndKeepsTheRest() async throws {
        let daemon = try await DaemonProcess()
        let state = daemon.directory + "/state"
        try Self.mount(state, size: "4m")
        defer {
            // A lazy unmount: the stopping daemon keeps its files until it exits.
            _ = try? Self.run("/bin/umount", ["-l", state])
            daemon.cleanUp()
        }
        try await daemon.start()
        let client = try daemon.client()
        let kept = try #require(try await client.call(
            "volume.create", .object(["size_gb": .int(1), "name": .string("kept"), "wait": .bool(true)]), as: MutationResult.self).volume)

        // Full: fill the tmpfs, then ask for more work.
        let filler = state + "/filler"
        try Self.run("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=64k", "status=none"])
        var refused: RPCResponse?
        for _ in 0..<50 {  // the WAL may still have room for a few commits
            let reply = try await client.call("volume.create", .object(["size_gb": .int(1)]))
            if reply.error != nil { refused = reply; break }
        }
        let full = try #require(refused?.error)
        #expect(full.kind == .storageUnavailable)
        #expect(full.message.contains(state) && full.message.contains("full"), "\(full.message)")
        #expect(try await client.call("volume.get", .object(["volume_id": .string(kept.id)]), as: Volume.self).name == "kept")
        #expect(try await client.call("service.status", as: ServiceStatus.self).version.isEmpty == false)
        try FileManager.default.removeItem(atPath: filler)
        let afterFull = try await client.call("volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self)
        #expect(afterFull.job.state == "succeeded")

        // Read-only (it cannot be remounted so under a running daemon: files are open for
        // writing): stopped, remounted read-only, started again, volumed says so in plain words.
        try await Invariants.settle(daemon)
        let before = try await client.call("volume.list", as: [Volume].self).map(\.id).sorted()
        #expect(await daemon.terminate() == 0)
        #expect(try Self.run("/bin/mount", ["-o", "remount,ro", state]) == 0)
        do {
            try await daemon.start()
            Issue.record("volumed started on a read-only state folder it cannot open")
        } catch let failed as DaemonProcess.StartFailed {
            #expect(failed.log.contains("read-only") && failed.log.contains(state), "\(failed.log.suffix(400))")
        }
        #expect(try Self.run("/bin/mount", ["-o", "remount,rw", state]) == 0)
        try await daemon.start()
        let restarted = try daemon.client()
        #expect(try await restarted.call("volume.list", as: [Volume].self).map(\.id).sorted() == before, "nothing recorded was lost")
        let again = try await restarted.call("volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self)
        #expect(again.job.state == "succeeded")
        try await Invariants.settle(daemon)
        let problems = try await Invariants.check(daemon)
        #expect(problems.isEmpty, "\(problems)")
    }
}

import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// One active daemon per pool set. With `state_store = local` each host has its own file: a
/// second daemon waits in standby, and when it gets the lock it refuses to run from a database
/// that is not the one that last ran jobs here (another host's, or an old copy), saying what to do.
@Suite(.serialized, .timeLimit(.minutes(10))) struct ClusterLockTests {
    static let lease = 6

    @Test func aSecondHostsLocalDatabaseRefusesToTakeOverUntilRebuilt() async throws {
        let first = try await DaemonProcess.started(defaultExtra: "cluster_lock_lease = \(Self.lease)")
        defer { first.cleanUp(keepPool: true) }
        let firstClient = try first.client()
        let volume = try #require(try await firstClient.call(
            "volume.create", .object(["size_gb": .int(1), "name": .string("shared"), "wait": .bool(true)]), as: MutationResult.self).volume)

        let second = try await DaemonProcess.started(defaultExtra: "cluster_lock_lease = \(Self.lease)", pool: first.pool)
        defer { second.cleanUp() }
        let secondClient = try second.client()
        try await Task.sleep(for: .seconds(1))
        let status = try await secondClient.call("service.status", as: ServiceStatus.self)
        #expect(status.state == "standby")
        #expect(status.statusLine.hasPrefix("standby: cluster lock held by volumed on"))
        #expect(status.holder?.pid == first.pid)
        // A standby answers nothing from its own file, reads included.
        for method in ["volume.list", "volume.create"] {
            let refused = try await secondClient.call(method, .object(method == "volume.create" ? ["size_gb": .int(1)] : [:]))
            #expect(refused.error?.kind == .standby, "\(method): \(String(describing: refused.error))")
        }
        #expect(try await firstClient.call("service.status", as: ServiceStatus.self).state == "ok")

        // The first dies: the second gets the lock, finds its own new database is not the one
        // that ran jobs here, and refuses (EX_CONFIG: systemd does not restart it).
        await first.kill()
        let exit = await second.waitForExit(within: .seconds(Self.lease + 10))
        #expect(exit == 78, "exit status \(String(describing: exit))")
        #expect(second.log.contains("refusing to take over"))
        #expect(second.log.contains("rebuild-state"))

        // The operator rebuilds it from the cluster: the cluster now records this database.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: second.directory + "/state/volumed.sqlite" + suffix) }
        let rebuilt = try await second.runTool(["rebuild-state"])
        #expect(rebuilt.status == 0, "\(rebuilt.output)")
        try await second.start()
        let again = try second.client()
        #expect(try await again.call("service.status", as: ServiceStatus.self).state == "ok")
        #expect(try await again.call("volume.list", as: [Volume].self).map(\.id) == [volume.id])

        // The first host's file is now the foreign one: it refuses in turn.
        try await first.start()
        await second.kill()
        let firstExit = await first.waitForExit(within: .seconds(Self.lease + 10))
        #expect(firstExit == 78, "exit status \(String(describing: firstExit))")
        #expect(first.log.contains("refusing to take over"))
    }

    @Test func anOldCopyOfTheDatabaseRefusesToTakeOver() async throws {
        let daemon = try await DaemonProcess.started(defaultExtra: "cluster_lock_lease = \(Self.lease)")
        defer { daemon.cleanUp() }
        await daemon.terminate()
        let file = daemon.directory + "/state/volumed.sqlite"
        let copy = daemon.directory + "/copy.sqlite"
        // The whole database: its WAL may still hold the first run's writes (its identity).
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: file + suffix) {
            try FileManager.default.copyItem(atPath: file + suffix, toPath: copy + suffix)
        }
        try await daemon.start()
        _ = try await daemon.client().call("volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self)
        await daemon.terminate()
        // The old copy back in place (a restored backup): it would resurrect and forget.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: copy + suffix) {
            try FileManager.default.copyItem(atPath: copy + suffix, toPath: file + suffix)
        }
        // Clients keep connecting while the refused daemon stops: a connection accepted as its
        // socket server was cancelled once made NIO trap (SIGILL, exit status 4, not 78).
        let socketPath = daemon.socketPath
        let connecting = Thread { while !Thread.current.isCancelled { if let fd = RawSocket.connect(socketPath) { close(fd) }; usleep(500) } }
        connecting.start()
        defer { connecting.cancel() }
        try? await daemon.start()
        let exit = await daemon.waitForExit(within: .seconds(10))
        #expect(exit == 78, "exit status \(String(describing: exit))")
        #expect(daemon.log.contains("an old copy"))
        #expect(!daemon.log.contains("Fatal error"), "\(daemon.log)")
    }

    /// A second daemon started by hand on a running one's state folder exits at once, naming it,
    /// instead of running beside it on the same database.
    @Test func aSecondDaemonOnTheSameStateFolderIsRefused() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let (status, text) = try await DaemonProcess.run("/usr/bin/timeout", ["20", DaemonProcess.binary, "--config", daemon.configPath])
        #expect(status == 75, "\(text)")
        #expect(text.contains("another volumed (pid \(daemon.pid ?? 0))"), "\(text)")
        #expect(try await daemon.client().call("service.status", as: ServiceStatus.self).state == "ok", "the first one runs on")
    }

    /// `volumed migrate-state`: a stopped daemon's file into RADOS and back, verified, with
    /// everything (attachments, jobs) kept; the cluster follows the copy.
    @Test func migrateStateMovesTheDatabaseBetweenStores() async throws {
        let daemon = try await DaemonProcess.started(defaultExtra: "cluster_lock_lease = \(Self.lease)")
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let volume = try #require(try await client.call(
            "volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self).volume)
        _ = try await client.call("volume.attach", .object(["volume_id": .string(volume.id), "connector": .object(["host": .string("hv1")])]))
        let refused = try await daemon.runTool(["migrate-state", "--to", "rados"])
        #expect(refused.status != 0 && refused.output.contains("stop it first"), "\(refused.output)")
        await daemon.terminate()

        let toRados = try await daemon.runTool(["migrate-state", "--to", "rados"])
        #expect(toRados.status == 0, "\(toRados.output)")
        #expect(toRados.output.contains("integrity ok"))
        try daemon.setDefault("state_store = rados")
        try await daemon.start()
        let shared = try daemon.client()
        let status = try await shared.call("service.status", as: ServiceStatus.self)
        #expect(status.state == "ok" && status.stateStore == "rados", "\(status.statusLine)")
        #expect(try await shared.call("volume.get", .object(["volume_id": .string(volume.id)]), as: Volume.self).status == "in-use")
        #expect(try await shared.call("job.list", as: [Job].self).count >= 1)
        await daemon.terminate()

        // Back: the old file is in the way until moved.
        let blocked = try await daemon.runTool(["migrate-state", "--to", "local"])
        #expect(blocked.status != 0 && blocked.output.contains("already holds"), "\(blocked.output)")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: daemon.directory + "/state/volumed.sqlite" + suffix) }
        let toLocal = try await daemon.runTool(["migrate-state", "--to", "local"])
        #expect(toLocal.status == 0, "\(toLocal.output)")
        try daemon.setDefault("state_store = local")
        try await daemon.start()
        let local = try daemon.client()
        #expect(try await local.call("volume.get", .object(["volume_id": .string(volume.id)]), as: Volume.self).status == "in-use")
        _ = try await local.call("volume.delete", .object(["volume_id": .string(volume.id), "force": .bool(true), "wait": .bool(true)]))
    }
}

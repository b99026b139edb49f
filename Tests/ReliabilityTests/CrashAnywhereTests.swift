import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// SIGKILL at random moments while random lifecycle operations run (every job kind, flattens of
/// real data, deletes of volumes with clones, images copied from volumes), then a restart: every job ends, nothing is stuck,
/// the pool holds exactly what the database says, the SQLite file is sound.
/// 30 kills by default, 200 with VOLUMED_LONG=1.
@Suite(.timeLimit(.minutes(30))) struct CrashAnywhereTests {
    @Test func killedAnywhereNothingLeaksNothingSticks() async throws {
        let kills = Invariants.longMode ? 200 : 30
        let daemon = try await DaemonProcess.started(defaultExtra: "workers = 4")
        defer { daemon.cleanUp() }
        let seed = SeededRandom.newSeed()
        var random = SeededRandom(seed: seed)
        let file = try TestFiles.rawImage(megabytes: 4)
        defer { try? FileManager.default.removeItem(atPath: file) }

        // A parent with real data, so that flattens and copies take a while.
        let setup = try daemon.client()
        let parent = try #require(try await setup.call(
            "volume.create", .object(["size_gb": .int(1), "name": .string("data"), "wait": .bool(true)]), as: MutationResult.self).volume)
        try await daemon.cluster.fill(pool: daemon.pool, image: parent.rbdImage, megabytes: 64)

        var counts: [String: Int] = [:]
        /// The daemon's log (every kill and restart) outlives the test, for the post-mortem.
        func keepLog() -> String {
            let kept = "/tmp/crash-anywhere-\(seed).log"
            try? FileManager.default.removeItem(atPath: kept)
            try? FileManager.default.copyItem(atPath: daemon.logPath, toPath: kept)
            return kept
        }
        for kill in 0..<kills {
            do {
                try await World.sendRandomOperations(to: daemon, &random, file: file, counts: &counts)
            } catch {
                Issue.record("round \(kill + 1) of \(kills) (seed \(seed), daemon log \(keepLog())): \(error)\n\(daemon.postMortem())")
                throw error
            }
            await daemon.kill()
            try await daemon.start()
            try await Invariants.settle(daemon)
            // A clone whose removal was killed inside librbd (half-removed: in the trash, still
            // listed by name) once leaked here; removals now finish it from the trash.
            let problems = try await Invariants.check(daemon)
            if !problems.isEmpty {
                Issue.record("after kill \(kill + 1) of \(kills) (seed \(seed), daemon log \(keepLog())): \(problems)")
                break
            }
        }
        print("crash-anywhere: \(kills) kills, seed \(seed), accepted operations: \(counts.sorted { $0.key < $1.key })")
    }
}

/// The same on `state_store = rados` with two hosts: SIGKILL of the active daemon at random
/// moments, the standby taking over each time (fencing it), the killed one back as standby.
/// Deferred deletion is on (5 s), so undeletes and purges at their time are killed too (the
/// invariants are checked with both daemons stopped: no purge runs under the check).
/// 12 kills by default, 100 with VOLUMED_LONG=1; the invariants are checked every 4 kills and
/// at the end (with both daemons stopped: only a holder may open the shared database).
@Suite(.timeLimit(.minutes(30))) struct SharedCrashAnywhereTests {
    @Test func killedAnywhereTheStandbyTakesOverNothingLeaksNothingSticks() async throws {
        let kills = Invariants.longMode ? 100 : 12
        let shared = "workers = 4\nstate_store = rados"
        let deferred = "enable_deferred_deletion = true\ndeferred_deletion_delay = 5"
        let first = try await DaemonProcess(extraConfig: deferred, defaultExtra: shared)
        defer { first.cleanUp(keepPool: true) }
        let second = try await DaemonProcess(extraConfig: deferred, defaultExtra: shared, pool: first.pool)
        defer { second.cleanUp() }
        try await first.start()
        try await second.start()
        let seed = SeededRandom.newSeed()
        var random = SeededRandom(seed: seed)
        let file = try TestFiles.rawImage(megabytes: 4)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let parent = try #require(try await first.client().call(
            "volume.create", .object(["size_gb": .int(1), "name": .string("data"), "wait": .bool(true)]), as: MutationResult.self).volume)
        try await first.cluster.fill(pool: first.pool, image: parent.rbdImage, megabytes: 64)

        var (active, standby) = (first, second)
        var counts: [String: Int] = [:]
        for kill in 0..<kills {
            do {
                try await World.sendRandomOperations(to: active, &random, file: file, counts: &counts)
            } catch {
                Issue.record("round \(kill + 1) of \(kills) (seed \(seed), logs \(first.logPath) \(second.logPath)): \(error)\n\(active.postMortem())")
                throw error
            }
            await active.kill()
            (active, standby) = (standby, active)
            let took = try await active.waitUntilActive(within: .seconds(40))
            #expect(took, "the standby took over after kill \(kill + 1) (seed \(seed))")
            guard took else { break }
            try await standby.start()
            try await Invariants.settle(active)
            if kill % 4 == 3 || kill == kills - 1 {
                await standby.terminate()
                await active.terminate()
                let problems = try await Invariants.check(active)
                if !problems.isEmpty {
                    Issue.record("after kill \(kill + 1) of \(kills) (seed \(seed), logs \(first.logPath) \(second.logPath)): \(problems)")
                    break
                }
                try await active.start()
                try await standby.start()
            }
        }
        print("shared crash-anywhere: \(kills) kills, seed \(seed), accepted operations: \(counts.sorted { $0.key < $1.key })")
    }
}

/// What exists right now, to pick operations that make sense (and some that do not).
struct World {
    var volumes: [Volume]
    var snapshots: [Snapshot]
    var images: [Image]
    /// Deleted with deferred deletion, not yet purged (none unless it is on).
    var deleted: [Volume]
    var backups: [Backup]

    /// 4–9 random operations sent to `daemon` without waiting, then 0–400 ms: the moment to kill.
    static func sendRandomOperations(
        to daemon: DaemonProcess, _ random: inout SeededRandom, file: String, counts: inout [String: Int]
    ) async throws {
        let client = try daemon.client()
        let world = try await World(client)
        for _ in 0..<random.next(in: 4...9) {
            let (method, params) = await world.randomOperation(&random, file: file, pool: daemon.pool, cluster: daemon.cluster)
            let reply = switch method {
            case "image.create" where params["source"] == nil: try await client.upload(file: file, method, params)
            case "image.export": try await client.download(method, params, to: file + ".export")
            default: try await client.call(method, .object(params))
            }
            if reply.error == nil { counts[method, default: 0] += 1 }
        }
        try await Task.sleep(for: .milliseconds(random.next(in: 0...400)))
    }

    init(_ client: VolumeClient) async throws {
        volumes = try await client.call("volume.list", as: [Volume].self)
        snapshots = try await client.call("snapshot.list", as: [Snapshot].self)
        images = try await client.call("image.list", as: [Image].self)
        deleted = try await client.call("volume.list", .object(["deleted": .bool(true)]), as: [Volume].self)
        backups = try await client.call("backup.list", as: [Backup].self)
    }

    func randomOperation(
        _ random: inout SeededRandom, file: String, pool: String, cluster: TestCluster
    ) async -> (String, [String: JSONValue]) {
        func id(_ value: String) -> JSONValue { .string(value) }
        let volume = volumes.isEmpty ? nil : volumes[random.next(in: 0...(volumes.count - 1))]
        let snapshot = snapshots.isEmpty ? nil : snapshots[random.next(in: 0...(snapshots.count - 1))]
        let image = images.isEmpty ? nil : images[random.next(in: 0...(images.count - 1))]
        let backup = backups.isEmpty ? nil : backups[random.next(in: 0...(backups.count - 1))]
        // A volume kept by deferred deletion comes back now and then (never without deferral:
        // no draw is made then, so seeds replay as before).
        if let gone = deleted.first, random.next(in: 0...3) == 0 { return ("volume.undelete", ["volume_id": id(gone.id)]) }
        // Keep the population bounded: past 24 volumes, mostly delete.
        let choice = volumes.count > 24 && random.next(in: 0...2) > 0 ? 4 : random.next(in: 0...19)
        switch choice {
        case 0: return ("volume.create", ["size_gb": .int(1)])
        case 1: if let volume { return ("volume.create", ["size_gb": .int(Int64(volume.sizeGB)), "source": .object(["volume_id": id(volume.id)])]) }
        case 2: if let snapshot { return ("volume.create", ["size_gb": .int(Int64(snapshot.sizeGB)), "source": .object(["snapshot_id": id(snapshot.id)])]) }
        case 3: if let volume { return ("snapshot.create", ["volume_id": id(volume.id)]) }
        case 4: if let volume, volume.name != "data" { return ("volume.delete", ["volume_id": id(volume.id)]) }
        case 5: if let snapshot { return ("snapshot.delete", ["snapshot_id": id(snapshot.id)]) }
        case 6: if let volume { return ("volume.extend", ["volume_id": id(volume.id), "size_gb": .int(Int64(volume.sizeGB + 1))]) }
        case 7: if let volume = volumes.first(where: { $0.parent != nil }) ?? volume { return ("volume.flatten", ["volume_id": id(volume.id)]) }
        case 8: if let snapshot { return ("volume.revert", ["volume_id": id(snapshot.volumeID), "snapshot_id": id(snapshot.id)]) }
        case 9: if images.count < 3 { return ("image.create", [:]) }
        case 10: if let image { return ("image.delete", ["image_id": id(image.id)]) }
        case 11: if let image { return ("volume.create", ["size_gb": .int(1), "source": .object(["image_id": id(image.id)])]) }
        case 12: if let image { return ("image.export", ["image_id": id(image.id)]) }
        case 13:
            let name = "foreign-\(random.next(in: 0...1_000_000))"
            if (try? await cluster.rbd(["create", "--size", "8M", "\(pool)/\(name)"])) != nil {
                return ("volume.manage", ["rbd_image": .string(name)])
            }
        case 14: if let volume, volume.name != "data" { return ("volume.unmanage", ["volume_id": id(volume.id)]) }
        // Images copied in the cluster (from the volume with data: the copy takes a while).
        case 15: if images.count < 4, let volume = volumes.first(where: { $0.name == "data" }) ?? volume {
            return ("image.create", ["source": .object(["volume_id": id(volume.id)])])
        }
        case 16: if images.count < 4, let snapshot { return ("image.create", ["source": .object(["snapshot_id": id(snapshot.id)])]) }
        // Backups of the volume with data (full, then incremental), restores, deletes in any order.
        case 17: if backups.count < 6, let volume = volumes.first(where: { $0.name == "data" }) ?? volume {
            return ("backup.create", ["volume_id": id(volume.id)])
        }
        case 18: if let backup { return ("backup.restore", ["backup_id": id(backup.id)]) }
        case 19: if let backup { return ("backup.delete", ["backup_id": id(backup.id)]) }
        default: break
        }
        return ("volume.create", ["size_gb": .int(1)])
    }
}

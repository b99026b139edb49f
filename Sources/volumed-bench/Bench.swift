import ArgumentParser
import Foundation
import Logging
import RBD
import VolumeClient
import VolumeProtocol

/// `volumed-bench`: measurements of volumed against the librbd floor. Subcommands: `overhead`
/// (the default), `throughput`, `scale`, `big`, `images`.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volumed-bench", abstract: "Measure volumed against the librbd floor.",
        subcommands: [Overhead.self, Throughput.self, Scale.self, JobScale.self, BigVolumes.self, ImageTransfers.self], defaultSubcommand: Overhead.self)
}

/// Where the cluster and the daemon are.
struct Target: ParsableArguments {
    @Option(help: "Ceph configuration file.") var cephConf: String
    @Option(help: "Keyring of the cephx user.") var keyring: String
    @Option(help: "cephx id.") var user = "admin"
    @Option(help: "Pool for the floor and the CLI (volumed uses its own rbd_pool).") var pool: String
    @Option(help: "volumed's socket.") var socket: String
    @Option(help: "A second volumed's socket, with state_store = rados, measured beside the first.") var radosSocket: String?

    /// Runs the `rbd` CLI as this user; fails when it does.
    func rbd(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/rbd")
        process.arguments = ["-c", cephConf, "--id", user, "--keyring", keyring] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("rbd \(arguments.joined(separator: " ")) failed") }
    }

    func connect() async throws -> Cluster {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let cluster = Cluster(settings: .init(user: user, cephConf: cephConf, keyring: keyring), blockingThreads: 4, logger: logger)
        try await cluster.connect()
        return cluster
    }
}

/// `volumed-bench overhead`: the same lifecycle, op by op, (a) in-process on librbd with one
/// persistent connection (the floor), (b) through volumed's socket with `wait: true`, (c) with the
/// `rbd` CLI; interleaved round by round so that a noisy machine hurts all three alike.
/// Prints medians and the ratios b/a and c/b.
struct Overhead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One lifecycle, op by op: librbd floor, volumed, rbd CLI.")

    @OptionGroup var target: Target
    @Option(help: "Rounds.") var rounds = 15
    var cephConf: String { target.cephConf }
    var keyring: String { target.keyring }
    var user: String { target.user }
    var pool: String { target.pool }
    var socket: String { target.socket }

    static let ops = ["create 1 GiB", "snapshot", "volume from snapshot", "clone volume", "extend", "delete clone",
                      "delete volume from snapshot", "delete snapshot", "delete volume"]

    func run() async throws {
        let cluster = try await target.connect()
        let client = try VolumeClient(socketPath: socket)
        let radosClient = try target.radosSocket.map { try VolumeClient(socketPath: $0) }
        var floor: [String: [Double]] = [:], daemon: [String: [Double]] = [:], cli: [String: [Double]] = [:], rados: [String: [Double]] = [:]
        for round in 0..<rounds {
            for (op, ms) in try await floorRound(cluster, round) { floor[op, default: []].append(ms) }
            for (op, ms) in try await daemonRound(client) { daemon[op, default: []].append(ms) }
            if let radosClient { for (op, ms) in try await daemonRound(radosClient) { rados[op, default: []].append(ms) } }
            for (op, ms) in try cliRound(round) { cli[op, default: []].append(ms) }
        }
        print("volumed-bench overhead: \(rounds) rounds, medians in ms (volumed: state_store = local\(radosClient == nil ? "" : "; rados: state_store = rados"))")
        print("op".padding(toLength: 30, withPad: " ", startingAt: 0) + "  floor   volumed      rbd   volumed/floor  rbd/volumed"
              + (radosClient == nil ? "" : "    rados  rados/floor"))
        var ratios: [Double] = [], radosRatios: [Double] = []
        for op in Self.ops {
            let a = median(floor[op] ?? []), b = median(daemon[op] ?? []), c = median(cli[op] ?? [])
            ratios.append(b / a)
            var line = op.padding(toLength: 30, withPad: " ", startingAt: 0)
                + String(format: "%7.1f  %8.1f  %7.1f  %14.2f  %11.2f", a, b, c, b / a, c / b)
            if radosClient != nil {
                let r = median(rados[op] ?? [])
                radosRatios.append(r / a)
                line += String(format: "  %7.1f  %11.2f", r, r / a)
            }
            print(line)
        }
        let total = Self.ops.map { median(floor[$0] ?? []) }.reduce(0, +)
        let totalDaemon = Self.ops.map { median(daemon[$0] ?? []) }.reduce(0, +)
        print(String(format: "whole lifecycle: floor %.1f ms, volumed %.1f ms, ratio %.2f; worst op ratio %.2f",
                     total, totalDaemon, totalDaemon / total, ratios.max() ?? 0))
        if radosClient != nil {
            let totalRados = Self.ops.map { median(rados[$0] ?? []) }.reduce(0, +)
            print(String(format: "whole lifecycle, rados: %.1f ms, ratio %.2f; worst op ratio %.2f (goal ≤ 1.5 each)",
                         totalRados, totalRados / total, radosRatios.max() ?? 0))
        }
        await cluster.blockingPool.shutdown()
    }


    /// The floor: the bare librbd calls a user would make for each op (issue 11: create =
    /// rbd_create4, volume from snapshot = rbd_clone3, clone volume = open, snapshot create,
    /// protect, close, clone, ...), one hop to a blocking thread each. Whatever volumed adds
    /// (its tags for rebuild-state, its checks) counts as its overhead.
    func floorRound(_ cluster: Cluster, _ round: Int) async throws -> [(String, Double)] {
        let pool = self.pool
        let root = "floor-\(round)-root", snap = "snapshot-\(round)", fromSnap = "floor-\(round)-fs", clone = "floor-\(round)-cl"
        let cloneSnap = "\(clone).clone_snap"
        func op(_ name: String, _ body: @escaping @Sendable (IOContext) throws -> Void) async throws -> (String, Double) {
            let (_, ms) = try await timed { try await cluster.run { try body(try $0.pool(pool)) } }
            return (name, ms)
        }
        var results: [(String, Double)] = []
        results.append(try await op("create 1 GiB") { io in try io.createImage(name: root, size: 1 << 30, order: 22) })
        results.append(try await op("snapshot") { io in
            try io.withImage(root) { try $0.createSnapshot(snap); try $0.protectSnapshot(snap) }
        })
        results.append(try await op("volume from snapshot") { io in
            try io.clone(parent: root, snapshot: snap, into: io, child: fromSnap, order: 22)
        })
        results.append(try await op("clone volume") { io in
            try io.withImage(fromSnap) { try $0.createSnapshot(cloneSnap); try $0.protectSnapshot(cloneSnap) }
            try io.clone(parent: fromSnap, snapshot: cloneSnap, into: io, child: clone, order: 22)
        })
        results.append(try await op("extend") { io in try io.withImage(clone) { try $0.resize(to: 2 << 30) } })
        results.append(try await op("delete clone") { io in
            try io.removeImage(name: clone)
            try io.withImage(fromSnap) { try $0.unprotectSnapshot(cloneSnap); try $0.removeSnapshot(cloneSnap) }
        })
        results.append(try await op("delete volume from snapshot") { io in try io.removeImage(name: fromSnap) })
        results.append(try await op("delete snapshot") { io in
            try io.withImage(root) { try $0.unprotectSnapshot(snap); try $0.removeSnapshot(snap) }
        })
        results.append(try await op("delete volume") { io in try io.removeImage(name: root) })
        return results
    }

    func daemonRound(_ client: VolumeClient) async throws -> [(String, Double)] {
        func call(_ method: String, _ params: [String: JSONValue]) async throws -> (MutationResult, Double) {
            var params = params
            params["wait"] = .bool(true)
            return try await timed { try await client.call(method, .object(params), as: MutationResult.self) }
        }
        var results: [(String, Double)] = []
        let (root, t1) = try await call("volume.create", ["size_gb": .int(1)])
        let rootID = root.volume?.id ?? ""
        results.append(("create 1 GiB", t1))
        let (snap, t2) = try await call("snapshot.create", ["volume_id": .string(rootID)])
        let snapID = snap.snapshot?.id ?? ""
        results.append(("snapshot", t2))
        let (fromSnap, t3) = try await call("volume.create", ["size_gb": .int(1), "source": .object(["snapshot_id": .string(snapID)])])
        let fromSnapID = fromSnap.volume?.id ?? ""
        results.append(("volume from snapshot", t3))
        let (clone, t4) = try await call("volume.create", ["size_gb": .int(1), "source": .object(["volume_id": .string(fromSnapID)])])
        let cloneID = clone.volume?.id ?? ""
        results.append(("clone volume", t4))
        results.append(("extend", try await call("volume.extend", ["volume_id": .string(cloneID), "size_gb": .int(2)]).1))
        // Includes the follow-up purge of the parent's clone snapshot, as the floor's step does.
        let (_, deleteClone) = try await timed {
            _ = try await call("volume.delete", ["volume_id": .string(cloneID)])
            try await settle(client)
        }
        results.append(("delete clone", deleteClone))
        results.append(("delete volume from snapshot", try await call("volume.delete", ["volume_id": .string(fromSnapID)]).1))
        results.append(("delete snapshot", try await call("snapshot.delete", ["snapshot_id": .string(snapID)]).1))
        results.append(("delete volume", try await call("volume.delete", ["volume_id": .string(rootID)]).1))
        try await settle(client)
        return results
    }


    func cliRound(_ round: Int) throws -> [(String, Double)] {
        let base = ["-c", cephConf, "--id", user, "--keyring", keyring, "--no-progress"]
        let root = "\(pool)/cli-\(round)-root", fromSnap = "\(pool)/cli-\(round)-fs", clone = "\(pool)/cli-\(round)-cl"
        func rbd(_ name: String, _ commands: [[String]]) throws -> (String, Double) {
            let start = ContinuousClock.now
            for command in commands {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/rbd")
                process.arguments = base + command
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                process.waitUntilExit()
            }
            let elapsed = start.duration(to: .now)
            return (name, Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
        return [
            try rbd("create 1 GiB", [["create", root, "--size", "1G"], ["image-meta", "set", root, "volumed.volume_id", "x"]]),
            try rbd("snapshot", [["snap", "create", "\(root)@s"], ["snap", "protect", "\(root)@s"]]),
            try rbd("volume from snapshot", [["clone", "\(root)@s", fromSnap]]),
            try rbd("clone volume", [["snap", "create", "\(fromSnap)@c"], ["snap", "protect", "\(fromSnap)@c"], ["clone", "\(fromSnap)@c", clone]]),
            try rbd("extend", [["resize", clone, "--size", "2G"]]),
            try rbd("delete clone", [["rm", clone], ["snap", "unprotect", "\(fromSnap)@c"], ["snap", "rm", "\(fromSnap)@c"]]),
            try rbd("delete volume from snapshot", [["rm", fromSnap]]),
            try rbd("delete snapshot", [["snap", "unprotect", "\(root)@s"], ["snap", "rm", "\(root)@s"]]),
            try rbd("delete volume", [["rm", root]]),
        ]
    }
}

func median(_ values: [Double]) -> Double { percentile(values, 0.5) }

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    if p == 0.5 && sorted.count % 2 == 0 { return (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2 }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

func timed<T>(_ body: () async throws -> T) async throws -> (T, Double) {
    let start = ContinuousClock.now
    let value = try await body()
    return (value, milliseconds(start.duration(to: .now)))
}

func timedSync<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let value = try body()
    return (value, milliseconds(start.duration(to: .now)))
}

/// Waits for follow-up jobs (purges) so measurements do not overlap.
func settle(_ client: VolumeClient) async throws {
    for job in try await client.call("job.list", .object(["limit": .int(200)]), as: [Job].self) where !job.isFinal {
        _ = try await client.call("job.wait", .object(["job_id": .string(job.id)]))
    }
}

/// A call with `wait: true` that must succeed.
func waited(_ client: VolumeClient, _ method: String, _ params: [String: JSONValue]) async throws -> MutationResult {
    var params = params
    params["wait"] = .bool(true)
    return try await client.call(method, .object(params), as: MutationResult.self)
}

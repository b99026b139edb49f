import ArgumentParser
import Foundation
import Logging
import RBD
import VolumeClient
import VolumeProtocol

/// `volumed-bench throughput`: the mix of issue 11 (40 % volume from snapshot, 20 % clone
/// volume, 20 % extend, 20 % delete) from concurrent clients, each cloning a source volume and
/// snapshot of its own, through volumed with its shipped defaults, against the same operations as the bare librbd calls a user would make, from as
/// many threads as clients and from one (Cinder's sequential driver); then snapshot creates one
/// at a time and all at once, counting the OSD map epochs they took (concurrent jobs share epochs).
struct Throughput: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Mixed requests from concurrent clients against raw librbd threads.")

    @OptionGroup var target: Target
    @Option(help: "Requests in all (a multiple of 5).") var requests = 100
    @Option(help: "Concurrent clients (and raw librbd threads).") var clients = 10

    /// One operation of the mix, by index: two in five from a snapshot, then clone, extend, delete.
    enum Kind { case fromSnapshot, cloneVolume, extend, delete }
    static func kind(_ index: Int) -> Kind { [.fromSnapshot, .fromSnapshot, .cloneVolume, .extend, .delete][index % 5] }

    func run() async throws {
        let cluster = try await target.connect()
        let setup = try VolumeClient(socketPath: target.socket)
        let (daemonSeconds, latencies) = try await mix(socket: target.socket)
        var radosRun: (Double, [Double])?
        if let radosSocket = target.radosSocket { radosRun = try await mix(socket: radosSocket) }

        // Raw librbd: from `clients` threads at once, then from one.
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let threaded = Cluster(settings: .init(user: target.user, cephConf: target.cephConf, keyring: target.keyring),
                               blockingThreads: clients, logger: logger)
        try await threaded.connect()
        let (threadsSeconds, threadsLatencies) = try await raw(threaded, prefix: "tp-t", concurrency: clients)
        let (oneSeconds, oneLatencies) = try await raw(cluster, prefix: "tp-1", concurrency: 1)
        await threaded.blockingPool.shutdown()

        let rate = { (seconds: Double) in Double(requests) / seconds }
        print("volumed-bench throughput: \(requests) mixed requests (40 % volume from snapshot, 20 % clone volume, 20 % extend, 20 % delete), \(clients) clients")
        print(String(format: "  volumed (local, shipped defaults): %5.1f ops/s, p50 %.1f ms, p99 %.1f ms", rate(daemonSeconds), median(latencies), percentile(latencies, 0.99)))
        if let (radosSeconds, radosLatencies) = radosRun {
            print(String(format: "  volumed (rados):                   %5.1f ops/s, p50 %.1f ms, p99 %.1f ms; rados/local %.2f",
                         rate(radosSeconds), median(radosLatencies), percentile(radosLatencies, 0.99), daemonSeconds / radosSeconds))
        }
        print(String(format: "  raw librbd, %2d threads:            %5.1f ops/s, p50 %.1f ms, p99 %.1f ms", clients, rate(threadsSeconds), median(threadsLatencies), percentile(threadsLatencies, 0.99)))
        print(String(format: "  raw librbd, one thread (Cinder):   %5.1f ops/s, p50 %.1f ms, p99 %.1f ms", rate(oneSeconds), median(oneLatencies), percentile(oneLatencies, 0.99)))
        let ratio = threadsSeconds / daemonSeconds
        print(String(format: "  throughput ratio volumed/raw threads: %.2f (goal >= 1.0: %@); volumed/one thread: %.2f (goal >= 7.5: %@)",
                     ratio, ratio >= 1.0 ? "met" : "missed", oneSeconds / daemonSeconds, oneSeconds / daemonSeconds >= 7.5 ? "met" : "missed"))
        if let (radosSeconds, _) = radosRun {
            print(String(format: "  throughput ratio rados/raw threads: %.2f", threadsSeconds / radosSeconds))
        }

        // Snapshots: each waits for an OSD map epoch; concurrent ones share them.
        var volumes: [String] = []
        for _ in 0..<20 { volumes.append(try await waited(setup, "volume.create", ["size_gb": .int(1)]).volume?.id ?? "") }
        let epoch0 = try await osdMapEpoch(cluster)
        let (_, sequentialMs) = try await timed {
            for id in volumes { _ = try await waited(setup, "snapshot.create", ["volume_id": .string(id)]) }
        }
        let epoch1 = try await osdMapEpoch(cluster)
        let (_, concurrentMs) = try await timed {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in volumes {
                    group.addTask {
                        let client = try VolumeClient(socketPath: target.socket)
                        _ = try await waited(client, "snapshot.create", ["volume_id": .string(id)])
                    }
                }
                try await group.waitForAll()
            }
        }
        let epoch2 = try await osdMapEpoch(cluster)
        print(String(format: "  20 snapshot creates one at a time: %.0f ms, %d OSD map epochs", sequentialMs, epoch1 - epoch0))
        print(String(format: "  20 snapshot creates at once:       %.0f ms, %d OSD map epochs (%.1fx faster: epochs shared)",
                     concurrentMs, epoch2 - epoch1, sequentialMs / concurrentMs))
        await cluster.blockingPool.shutdown()
    }

    /// The mix from `clients` concurrent clients on the daemon at `socket`: its duration in
    /// seconds and each request's latency (sources and targets made beforehand are not timed).
    func mix(socket: String) async throws -> (Double, [Double]) {
        let setup = try VolumeClient(socketPath: socket)
        // Each client clones its own source volume and snapshot.
        var sources: [(volume: String, snapshot: String)] = []
        for _ in 0..<clients {
            let volume = try await waited(setup, "volume.create", ["size_gb": .int(1)]).volume?.id ?? ""
            sources.append((volume, try await waited(setup, "snapshot.create", ["volume_id": .string(volume)]).snapshot?.id ?? ""))
        }
        var operations: [(String, [String: JSONValue])] = []
        for index in 0..<requests {
            let (source, snapshot) = sources[lane(of: index)]
            switch Self.kind(index) {
            case .fromSnapshot: operations.append(("volume.create", ["size_gb": .int(1), "source": .object(["snapshot_id": .string(snapshot)])]))
            case .cloneVolume: operations.append(("volume.create", ["size_gb": .int(1), "source": .object(["volume_id": .string(source)])]))
            case .extend:
                let id = try await waited(setup, "volume.create", ["size_gb": .int(1)]).volume?.id ?? ""
                operations.append(("volume.extend", ["volume_id": .string(id), "size_gb": .int(2)]))
            case .delete:
                let id = try await waited(setup, "volume.create", ["size_gb": .int(1)]).volume?.id ?? ""
                operations.append(("volume.delete", ["volume_id": .string(id)]))
            }
        }
        let latencies = try await spread(operations, concurrency: clients) { chunk in
            let client = try VolumeClient(socketPath: socket)
            var times: [Double] = []
            for (method, params) in chunk { times.append(try await timed { try await waited(client, method, params) }.1) }
            return times
        }
        try await settle(setup)
        return latencies
    }

    /// The same mix as the bare librbd calls (issue 11's floor for each op), `concurrency` at a
    /// time on `cluster` (whose blocking pool has at least that many threads).
    func raw(_ cluster: Cluster, prefix: String, concurrency: Int) async throws -> (Double, [Double]) {
        let pool = target.pool
        let requests = self.requests
        let clients = self.clients
        try await cluster.run { session in
            let io = try session.pool(pool)
            for lane in 0..<clients {
                try io.createImage(name: "\(prefix)-source-\(lane)", size: 1 << 30, order: 22)
                try io.withImage("\(prefix)-source-\(lane)") { try $0.createSnapshot("snap"); try $0.protectSnapshot("snap") }
            }
            for index in 0..<requests where [.extend, .delete].contains(Self.kind(index)) {
                try io.createImage(name: "\(prefix)-\(index)", size: 1 << 30, order: 22)
            }
        }
        return try await spread(Array(0..<requests), concurrency: concurrency) { chunk in
            var times: [Double] = []
            for index in chunk {
                let source = "\(prefix)-source-\(lane(of: index))"
                times.append(try await timed { try await cluster.run { session in
                    let io = try session.pool(pool)
                    switch Self.kind(index) {
                    case .fromSnapshot:
                        try io.clone(parent: source, snapshot: "snap", into: io, child: "\(prefix)-fs-\(index)", order: 22)
                    case .cloneVolume:
                        let snap = "\(prefix)-cv-\(index).clone_snap"
                        try io.withImage(source) { try $0.createSnapshot(snap); try $0.protectSnapshot(snap) }
                        try io.clone(parent: source, snapshot: snap, into: io, child: "\(prefix)-cv-\(index)", order: 22)
                    case .extend:
                        try io.withImage("\(prefix)-\(index)") { try $0.resize(to: 2 << 30) }
                    case .delete:
                        try io.removeImage(name: "\(prefix)-\(index)")
                    }
                } }.1)
            }
            return times
        }
    }

    /// The client (lane of `spread`) that sends request `index`.
    func lane(of index: Int) -> Int { index / ((requests + clients - 1) / clients) }

    /// Runs `items` in `concurrency` lanes of consecutive items at once: the whole duration in
    /// seconds and what the lanes returned.
    func spread<Item: Sendable>(
        _ items: [Item], concurrency: Int, lane: @escaping @Sendable ([Item]) async throws -> [Double]
    ) async throws -> (Double, [Double]) {
        let perLane = (items.count + concurrency - 1) / concurrency
        let start = ContinuousClock.now
        let all = try await withThrowingTaskGroup(of: [Double].self) { group in
            for index in 0..<concurrency {
                let mine = Array(items.dropFirst(index * perLane).prefix(perLane))
                group.addTask { try await lane(mine) }
            }
            var all: [Double] = []
            for try await times in group { all += times }
            return all
        }
        return (milliseconds(start.duration(to: .now)) / 1000, all)
    }

    func osdMapEpoch(_ cluster: Cluster) async throws -> Int {
        let reply = try await cluster.run { try $0.monitorCommand(#"{"prefix": "osd stat", "format": "json"}"#) }
        let object = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any]
        return (object?["epoch"] as? NSNumber)?.intValue ?? 0
    }
}

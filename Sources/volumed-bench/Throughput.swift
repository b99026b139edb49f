import ArgumentParser
import Foundation
import RBD
import VolumeClient
import VolumeProtocol

/// `volumed-bench throughput`: 100 mixed requests (clone from snapshot, clone volume, extend,
/// delete) from 10 concurrent clients through volumed, against the same 100 operations one at a
/// time on the librbd floor; then snapshot creates one at a time and all at once, counting the
/// OSD map epochs they took (concurrent jobs share epochs).
struct Throughput: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Mixed requests from concurrent clients against the sequential floor.")

    @OptionGroup var target: Target
    @Option(help: "Requests in all.") var requests = 100
    @Option(help: "Concurrent clients.") var clients = 10

    func run() async throws {
        let cluster = try await target.connect()
        let setup = try VolumeClient(socketPath: target.socket)
        let quarter = requests / 4
        let (daemonSeconds, latencies) = try await mix(socket: target.socket)
        var radosRun: (Double, [Double])?
        if let radosSocket = target.radosSocket { radosRun = try await mix(socket: radosSocket) }

        // The floor: the same operations, one at a time, on one connection.
        let pool = target.pool
        try await cluster.run { session in
            let io = try session.pool(pool)
            try io.createImage(name: "tp-source", size: 1 << 30, order: 22)
            try io.withImage("tp-source") { try $0.createSnapshot("snap"); try $0.protectSnapshot("snap") }
            for index in 0..<(2 * quarter) { try io.createImage(name: "tp-\(index)", size: 1 << 30, order: 22) }
        }
        var floorTimes: [Double] = []
        let floorStart = ContinuousClock.now
        for index in 0..<quarter {
            floorTimes.append(try await timed { try await cluster.run { session in
                let io = try session.pool(pool)
                try io.clone(parent: "tp-source", snapshot: "snap", into: io, child: "tp-fs-\(index)", order: 22)
                try io.withImage("tp-fs-\(index)") { _ = try $0.metadata(prefix: "volumed."); try $0.setMetadata("volumed.volume_id", "x") }
            } }.1)
            floorTimes.append(try await timed { try await cluster.run { session in
                let io = try session.pool(pool)
                let snap = "tp-cv-\(index).clone_snap"
                try io.withImage("tp-source") { try $0.createSnapshot(snap); try $0.protectSnapshot(snap) }
                try io.clone(parent: "tp-source", snapshot: snap, into: io, child: "tp-cv-\(index)", order: 22)
                try io.withImage("tp-cv-\(index)") { _ = try $0.metadata(prefix: "volumed."); try $0.setMetadata("volumed.volume_id", "x") }
            } }.1)
            floorTimes.append(try await timed { try await cluster.run { session in
                try session.pool(pool).withImage("tp-\(index)") { try $0.resize(to: 2 << 30) }
            } }.1)
            floorTimes.append(try await timed { try await cluster.run { session in
                try session.pool(pool).removeImage(name: "tp-\(quarter + index)")
            } }.1)
        }
        let floorSeconds = milliseconds(floorStart.duration(to: .now)) / 1000

        print("volumed-bench throughput: \((4 * quarter)) mixed requests (clone from snapshot, clone volume, extend, delete)")
        print(String(format: "  volumed, %d concurrent clients: %.1f ops/s, p50 %.1f ms, p99 %.1f ms",
                     clients, Double((4 * quarter)) / daemonSeconds, median(latencies), percentile(latencies, 0.99)))
        print(String(format: "  librbd floor, one at a time:   %.1f ops/s, p50 %.1f ms, p99 %.1f ms",
                     Double((4 * quarter)) / floorSeconds, median(floorTimes), percentile(floorTimes, 0.99)))
        print(String(format: "  throughput ratio volumed/floor: %.2f", floorSeconds / daemonSeconds))
        if let (radosSeconds, radosLatencies) = radosRun {
            print(String(format: "  volumed on state_store = rados, %d clients: %.1f ops/s, p50 %.1f ms, p99 %.1f ms; ratio rados/floor %.2f, rados/local %.2f",
                         clients, Double(requests) / radosSeconds, median(radosLatencies), percentile(radosLatencies, 0.99),
                         floorSeconds / radosSeconds, daemonSeconds / radosSeconds))
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

    /// The 100-request mix from `clients` concurrent clients on the daemon at `socket`: its
    /// duration in seconds and each request's latency (targets made beforehand are not timed).
    func mix(socket: String) async throws -> (Double, [Double]) {
        let setup = try VolumeClient(socketPath: socket)
        let quarter = requests / 4
        let source = try await waited(setup, "volume.create", ["size_gb": .int(1)]).volume?.id ?? ""
        let snapshot = try await waited(setup, "snapshot.create", ["volume_id": .string(source)]).snapshot?.id ?? ""
        var extendable: [String] = [], deletable: [String] = []
        for index in 0..<(2 * quarter) {
            let id = try await waited(setup, "volume.create", ["size_gb": .int(1)]).volume?.id ?? ""
            if index < quarter { extendable.append(id) } else { deletable.append(id) }
        }
        var operations: [(String, [String: JSONValue])] = []
        for index in 0..<quarter {
            operations.append(("volume.create", ["size_gb": .int(1), "source": .object(["snapshot_id": .string(snapshot)])]))
            operations.append(("volume.create", ["size_gb": .int(1), "source": .object(["volume_id": .string(source)])]))
            operations.append(("volume.extend", ["volume_id": .string(extendable[index]), "size_gb": .int(2)]))
            operations.append(("volume.delete", ["volume_id": .string(deletable[index])]))
        }
        let perClient = (operations.count + clients - 1) / clients
        let start = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for index in 0..<clients {
                let mine = Array(operations.dropFirst(index * perClient).prefix(perClient))
                group.addTask {
                    let client = try VolumeClient(socketPath: socket)
                    var times: [Double] = []
                    for (method, params) in mine { times.append(try await timed { try await waited(client, method, params) }.1) }
                    return times
                }
            }
            var all: [Double] = []
            for try await times in group { all += times }
            return all
        }
        let seconds = milliseconds(start.duration(to: .now)) / 1000
        try await settle(setup)
        return (seconds, latencies)
    }

    func osdMapEpoch(_ cluster: Cluster) async throws -> Int {
        let reply = try await cluster.run { try $0.monitorCommand(#"{"prefix": "osd stat", "format": "json"}"#) }
        let object = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any]
        return (object?["epoch"] as? NSNumber)?.intValue ?? 0
    }
}

import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// 1,000 concurrent requests over 50 connections, most of them fighting over the same ten
/// volumes: each is served, queued or refused with `conflict`, every reply arrives, the
/// database is never "locked", and the pool matches the database at the end.
@Suite(.timeLimit(.minutes(10))) struct LoadTests {
    @Test func aThousandConflictingRequestsOverFiftyConnections() async throws {
        let daemon = try await DaemonProcess.started(defaultExtra: "workers = 8")
        defer { daemon.cleanUp() }
        let setup = try daemon.client()
        var made: [(volume: String, snapshot: String)] = []
        for _ in 0..<10 {
            let volume = try #require(try await setup.call(
                "volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self).volume)
            let snapshot = try #require(try await setup.call(
                "snapshot.create", .object(["volume_id": .string(volume.id), "wait": .bool(true)]), as: MutationResult.self).snapshot)
            made.append((volume.id, snapshot.id))
        }
        let connections = 50, perConnection = 20
        let targets = made
        let allowed: Set<ErrorKind> = [.conflict, .notFound, .inUse, .invalidParams]
        let outcomes = try await withThrowingTaskGroup(of: [String: Int].self) { group in
            for connection in 0..<connections {
                group.addTask {
                    var random = SeededRandom(seed: UInt64(connection) &* 7919 &+ 17)
                    let client = try daemon.client()
                    var lines: [String] = []
                    for request in 0..<perConnection {
                        let target = targets[random.next(in: 0...(targets.count - 1))]
                        let id = connection * 1000 + request
                        let (method, params): (String, String) = switch random.next(in: 0...7) {
                        case 0: ("volume.extend", #"{"volume_id":"\#(target.volume)","size_gb":\#(random.next(in: 2...40))}"#)
                        case 1: ("snapshot.create", #"{"volume_id":"\#(target.volume)"}"#)
                        case 2: ("volume.flatten", #"{"volume_id":"\#(target.volume)"}"#)
                        case 3: ("volume.create", #"{"size_gb":40,"source":{"volume_id":"\#(target.volume)"}}"#)
                        case 4: ("volume.revert", #"{"volume_id":"\#(target.volume)","snapshot_id":"\#(target.snapshot)"}"#)
                        case 5: ("volume.delete", #"{"volume_id":"\#(target.volume)"}"#)
                        case 6: ("volume.create", #"{"size_gb":1,"source":{"snapshot_id":"\#(target.snapshot)"}}"#)
                        default: ("volume.get", #"{"volume_id":"\#(target.volume)"}"#)
                        }
                        lines.append(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#)
                    }
                    try await client.sendRaw(Data((lines.joined(separator: "\n") + "\n").utf8))
                    var outcome: [String: Int] = [:]
                    var ids: Set<Int> = []
                    for _ in 0..<perConnection {
                        let reply = try JSONDecoder.volumed().decode(RPCResponse.self, from: try await client.readLine())
                        if case .number(let id)? = reply.id { ids.insert(Int(id)) }
                        if let error = reply.error {
                            let kind = error.kind ?? .internalError
                            outcome[allowed.contains(kind) ? kind.rawValue : "unexpected \(kind.rawValue): \(error.message)", default: 0] += 1
                            if error.message.localizedCaseInsensitiveContains("locked") { outcome["database locked", default: 0] += 1 }
                        } else {
                            outcome["ok", default: 0] += 1
                        }
                    }
                    outcome["distinct ids"] = ids.count
                    return outcome
                }
            }
            var total: [String: Int] = [:]
            for try await outcome in group { total.merge(outcome, uniquingKeysWith: +) }
            return total
        }
        #expect(outcomes["distinct ids"] == connections * perConnection, "every request got its own reply: \(outcomes)")
        let unexpected = outcomes.filter { $0.key.hasPrefix("unexpected") || $0.key == "database locked" }
        #expect(unexpected.isEmpty, "\(unexpected)")
        #expect((outcomes["ok"] ?? 0) > 0 && (outcomes["conflict"] ?? 0) > 0, "\(outcomes)")
        try await Invariants.settle(daemon, timeout: .seconds(300))
        let problems = try await Invariants.check(daemon)
        #expect(problems.isEmpty, "\(problems)")
        print("load: \(connections * perConnection) requests over \(connections) connections: \(outcomes.sorted { $0.key < $1.key })")
    }
}

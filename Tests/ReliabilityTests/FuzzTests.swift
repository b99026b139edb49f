import Foundation
import Glibc
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// At least 100,000 generated bad frames: every complete frame gets a JSON-RPC error, nothing
/// crashes or hangs, memory stays bounded, and the daemon serves normal requests afterwards.
@Suite(.timeLimit(.minutes(15))) struct FuzzTests {
    @Test func badFramesGetErrorsAndChangeNothing() async throws {
        let frames = Invariants.longMode ? 500_000 : 100_000
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let pid = try #require(daemon.pid)
        let rssBefore = Self.rss(pid)
        let connections = 8
        let perConnection = frames / connections
        let seed = SeededRandom.newSeed()

        let answered = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for index in 0..<connections {
                group.addTask {
                    var random = SeededRandom(seed: seed &+ UInt64(index))
                    let client = try daemon.client()
                    var sent = 0, errors = 0
                    while sent < perConnection {
                        // Generated on a thread of its own: megabyte frames are CPU work that would
                        // hold one of the test process's two cooperative threads.
                        let count = min(256, perConnection - sent)
                        let generated = await onOwnThread { [random] () -> ([Data], SeededRandom) in
                            var random = random
                            return ((0..<count).map { _ in FrameFuzzer.frame(&random) }, random)
                        }
                        let batch = generated.0
                        random = generated.1
                        // One huge frame at a time; the small ones in a pipelined batch.
                        let (huge, small) = (batch.filter { $0.count > 1 << 20 }, batch.filter { $0.count <= 1 << 20 })
                        for frame in huge {
                            try await client.sendRaw(frame + Data([0x0a]))
                            errors += try Self.isError(try await client.readLine()) ? 1 : 0
                        }
                        try await client.sendRaw(Data(small.map { $0 + Data([0x0a]) }.joined()))
                        for _ in small { errors += try Self.isError(try await client.readLine()) ? 1 : 0 }
                        sent += batch.count
                    }
                    return (sent, errors)
                }
            }
            var total = (0, 0)
            for try await (sent, errors) in group { total = (total.0 + sent, total.1 + errors) }
            return total
        }
        #expect(answered.0 == connections * perConnection)
        #expect(answered.1 == answered.0, "every frame answered with an error (seed \(seed))")

        // Connections cut in the middle of a frame, and half-closed ones that still get their replies
        // (blocking sockets: on a thread of their own).
        let socketPath = daemon.socketPath
        let halfClosedReplies = try await onOwnThread { () throws -> [Int] in
            for index in 0..<200 {
                let fd = try Self.connect(socketPath)
                let partial = #"{"jsonrpc":"2.0","id":\#(index),"method":"volume.cre"#
                _ = partial.withCString { write(fd, $0, strlen($0)) }
                close(fd)
            }
            return try (0..<100).map { index in
                let fd = try Self.connect(socketPath)
                defer { close(fd) }
                let frames = "{\"jsonrpc\":\"2.0\",\"id\":\(index),\"method\":\"volume.list\"}\n{broken\n"
                _ = frames.withCString { write(fd, $0, strlen($0)) }
                shutdown(fd, Int32(SHUT_WR))
                return Self.readToEnd(fd).filter { $0 == 0x0a }.count
            }
        }
        #expect(halfClosedReplies.allSatisfy { $0 == 2 }, "a half-closed connection gets both replies")

        // Still alive, still serving, memory bounded, nothing created.
        let client = try daemon.client()
        #expect(try await client.call("volume.list", as: [Volume].self).isEmpty)
        #expect(try await client.call("job.list", as: [Job].self).isEmpty, "no frame made a job")
        let created = try await client.call("volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self)
        #expect(created.job.state == "succeeded")
        let rssAfter = Self.rss(pid)
        #expect(rssAfter - rssBefore < 150 << 20, "RSS grew from \(rssBefore >> 20) MiB to \(rssAfter >> 20) MiB")
        print("fuzz: \(answered.0) frames (seed \(seed)), all answered with errors; RSS \(rssBefore >> 20) → \(rssAfter >> 20) MiB")
    }

    static func isError(_ line: Data) throws -> Bool {
        let reply = try JSONDecoder.volumed().decode(RPCResponse.self, from: line)
        return reply.error != nil && reply.result == nil
    }

    static func rss(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) << 10
    }

    /// Everything `fd` sends until it closes (blocking).
    static func readToEnd(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return data
    }

    static func connect(_ path: String) throws -> Int32 {
        guard let fd = RawSocket.connect(path) else { throw POSIXError(.ECONNREFUSED) }
        return fd
    }
}

/// Generates frames that must each get exactly one error reply: broken JSON, wrong types, huge
/// numbers, deep nesting, over-long lines, invalid UTF-8, unknown methods, names with `/`, `@`,
/// `..` and NUL, 10 MB strings. Never a valid mutating call, never a notification (no id).
enum FrameFuzzer {
    static let methods = ["volume.create", "volume.delete", "volume.extend", "volume.flatten", "volume.revert", "volume.attach",
                          "volume.manage", "snapshot.create", "snapshot.delete", "image.create", "image.export", "image.delete",
                          "job.cancel", "volume.get", "snapshot.get", "job.get", "job.wait", "image.get", "volume.detach"]
    static let badValues = [
        #""../../etc/passwd""#, #""vol@snap""#, #""a/b""#, #"".."""#, #""x\u0000y""#, "1e308", "-1", "99999999999999999999999999",
        "1.5", "true", "null", "[]", "{}", #""""#, #""\ud800""#, "-0", "0x10", #""volume-\u0001""#,
    ]

    static func frame(_ random: inout SeededRandom) -> Data {
        let id = random.next(in: 1...1_000_000)
        let method = methods[random.next(in: 0...(methods.count - 1))]
        let bad = badValues[random.next(in: 0...(badValues.count - 1))]
        // Per 1,000: 150 broken, 300 wrong fields, 100 unknown methods, 100 deep, 100 bad UTF-8,
        // 80 bad envelopes, 140 bad numbers, 2 over-long lines, about one 10 MB string in 7,000.
        switch random.next(in: 0...999) / 10 {
        case 0..<15:  // broken JSON
            let valid = #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":{"volume_id":\#(bad)}}"#
            return Data(valid.utf8.prefix(random.next(in: 1...(valid.utf8.count - 1))).map { $0 == 0x0a ? 0x20 : $0 })
        case 15..<45:  // a known method, every field wrong (and an unknown one, so never valid)
            let fields = ["volume_id", "snapshot_id", "image_id", "size_gb", "name", "path", "rbd_image", "pool", "source", "connector", "job_id"]
            let field = fields[random.next(in: 0...(fields.count - 1))]
            return Data(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":{"\#(field)":\#(bad),"zz":1}}"#.utf8)
        case 45..<55:  // unknown methods, some with path-like names
            let names = ["volume.destroy", "../volume.create", "volume/create", "volume.create\\u0000", "", "rpc.describe", "VOLUME.CREATE"]
            return Data(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(names[random.next(in: 0...(names.count - 1))])"}"#.utf8)
        case 55..<65:  // deep nesting
            let depth = random.next(in: 64...1_500)
            return Data((#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":{"x":"#
                + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}}").utf8)
        case 65..<75:  // invalid UTF-8
            var bytes = Array(#"{"jsonrpc":"2.0","id":\#(id),"method":"volume.get","params":{"volume_id":""#.utf8)
            bytes += [0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80]
            bytes += Array(#""}}"#.utf8)
            return Data(bytes)
        case 75..<83:  // wrong envelope: bad jsonrpc, id types, batches, scalars
            let envelopes = [#"{"jsonrpc":"1.0","id":\#(id),"method":"volume.list"}"#, #"{"jsonrpc":"2.0","id":{"a":1},"method":"volume.list"}"#,
                             #"[{"jsonrpc":"2.0","id":\#(id),"method":"volume.list"}]"#, "42", #""text""#, "null",
                             #"{"jsonrpc":"2.0","id":\#(id),"method":7}"#, #"{"jsonrpc":"2.0","id":\#(id),"method":"volume.list","params":[1]}"#,
                             "   ", #"{"jsonrpc":"2.0","id":1.5,"method":"volume.list"}"#]
            return Data(envelopes[random.next(in: 0...(envelopes.count - 1))].utf8)
        case 83..<97:  // huge numbers and sizes
            let numbers = ["1e400", "18446744073709551616", "-9223372036854775809", "1048577", "0", "3.5", "-3"]
            return Data(#"{"jsonrpc":"2.0","id":\#(id),"method":"volume.create","params":{"size_gb":\#(numbers[random.next(in: 0...(numbers.count - 1))])}}"#.utf8)
        case 97..<99 where random.next(in: 0...9) == 0:  // just over the line limit
            return Data((#"{"jsonrpc":"2.0","id":\#(id),"method":"volume.list","params":{"x":""# + String(repeating: "a", count: 1 << 20) + #""}}"#).utf8)
        default:  // a 10 MB string, now and then
            if random.next(in: 0...199) == 0 {
                return Data((#"{"jsonrpc":"2.0","id":\#(id),"method":"volume.create","params":{"name":""# + String(repeating: "n", count: 10 << 20) + #""}}"#).utf8)
            }
            return Data(#"{"jsonrpc":"2.0","id":\#(id),"method":"volume.create","params":{"size_gb":1,"name":"\#(String(repeating: "n", count: 300))"}}"#.utf8)
        }
    }
}

/// A big reply on a half-closed connection arrives whole.
@Suite(.timeLimit(.minutes(10))) struct HalfCloseTests {
    @Test func aLargeReplyReachesAHalfClosedClient() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        for _ in 0..<300 { _ = try await client.call("volume.create", .object(["size_gb": .int(1)])) }
        try await Invariants.settle(daemon)
        let socketPath = daemon.socketPath
        let data = try await onOwnThread { () throws -> Data in
            let fd = try FuzzTests.connect(socketPath)
            defer { close(fd) }
            let request = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"volume.list\"}\n"
            _ = request.withCString { write(fd, $0, strlen($0)) }
            shutdown(fd, Int32(SHUT_WR))
            return FuzzTests.readToEnd(fd)
        }
        #expect(data.count > 100_000)
        let reply = try JSONDecoder.volumed().decode(RPCResponse.self, from: data.dropLast())
        guard case .array(let volumes)? = reply.result else { Issue.record("no list in the reply"); return }
        #expect(volumes.count == 300)
    }
}

import ArgumentParser
import Foundation
import Lifecycle
import VolumeClient
import VolumeProtocol
import VolumeStore

/// `volumed-bench scale`: real volumes created through the daemon (the rate), `volume.list` of
/// them, and a seeded database of many more rows: a second daemon's start-up time, its list
/// time and its memory, next to the first daemon's idle memory.
struct Scale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "10k real volumes, a 100k-row database: rate, list, start-up, RSS.")

    @OptionGroup var target: Target
    @Option(help: "Real volumes to create through volumed.") var volumes = 10_000
    @Option(help: "Rows of the seeded database.") var rows = 100_000
    @Option(help: "The running daemon's pid (for its RSS).") var daemonPID: Int32
    @Option(name: .customLong("idle-rss-kb"), help: "The daemon's RSS in KiB right after it started (else measured now).") var idleRSSKB: Int?
    @Option(name: .customLong("idle-anon-kb"), help: "The anonymous part of it (RssAnon).") var idleAnonKB: Int?
    @Option(help: "The volumed binary (for the seeded daemon).") var volumed: String
    @Option(help: "A folder for the seeded daemon.") var scratch: String

    func run() async throws {
        let idleRSS = idleRSSKB.map { $0 << 10 } ?? rss(daemonPID)
        let idleAnon = idleAnonKB.map { $0 << 10 } ?? rss(daemonPID, field: "RssAnon:")
        let socket = target.socket
        // Real volumes, 16 clients at a time.
        let clients = 16
        let (_, createMs) = try await timed {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<clients {
                    let count = volumes / clients + (index < volumes % clients ? 1 : 0)
                    group.addTask {
                        let client = try VolumeClient(socketPath: socket)
                        for _ in 0..<count { _ = try await waited(client, "volume.create", ["size_gb": .int(1)]) }
                    }
                }
                try await group.waitForAll()
            }
        }
        let client = try VolumeClient(socketPath: socket)
        let (listed, listTimes, listDecodeTimes) = try await listTimings(client)
        let busyRSS = rss(daemonPID)
        let busyAnon = rss(daemonPID, field: "RssAnon:")

        // A seeded database of `rows` volumes for a second daemon (on a pool of its own, so the
        // two daemons do not share the cluster lock).
        let state = scratch + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let store = try Store(path: state + "/volumed.sqlite")
        let batch = 5_000
        let rows = self.rows
        for start in stride(from: 0, to: rows, by: batch) {
            try await store.write { tx in
                for index in start..<min(rows, start + batch) {
                    let id = String(format: "%08x-0000-4000-8000-%012x", index, index)
                    try tx.insert(VolumeRecord(id: id, name: "seeded-\(index)", sizeGB: 1, status: .available, pool: "images",
                                               rbdImage: "volume-\(id)"))
                }
            }
        }
        store.close()
        let daemon = try await SeededDaemon.start(volumed: volumed, target: target, folder: scratch, name: "seeded", state: state)
        let (seeded, process, startMs) = (daemon.client, daemon.process, daemon.startupMs)
        let seededIdle = rss(process.processIdentifier)
        let seededIdleAnon = rss(process.processIdentifier, field: "RssAnon:")
        let (bigListed, bigListTimes, bigListDecodeTimes) = try await listTimings(seeded)
        // A page of 1,000 from the middle, as Cinder's API serves lists (`limit`, `marker`).
        let middle = String(format: "%08x-0000-4000-8000-%012x", rows / 2, rows / 2)
        let (pageCount, pageTimes, _) = try await listTimings(seeded, params: #","params":{"limit":1000,"marker":"\#(middle)"}"#)
        let seededRSS = rss(process.processIdentifier)
        let seededAnon = rss(process.processIdentifier, field: "RssAnon:")
        daemon.stop()

        print("volumed-bench scale")
        print(String(format: "  %d real volumes created through volumed (16 clients): %.0f volumes/s", volumes, Double(volumes) / (createMs / 1000)))
        print(String(format: "  volume.list of %d volumes: reply in %.0f ms (median); decoded into [Volume] by the Swift client %.0f ms more",
                     listed, median(listTimes), median(listDecodeTimes)))
        print(String(format: "  volume.list of %d rows (seeded database): reply in %.0f ms (median, goal 100 ms); decoded by the client %.0f ms more",
                     bigListed, median(bigListTimes), median(bigListDecodeTimes)))
        print(String(format: "  volume.list page of %d (limit and marker) out of %d rows: reply in %.1f ms (median)", pageCount, rows, median(pageTimes)))
        print(String(format: "  start-up with %d rows, to READY and answering: %.0f ms (goal 2000 ms)", rows, startMs))
        print(String(format: "  RSS: idle at start %.1f MB (goal 30), after %d volumes %.1f MB; seeded daemon idle %.1f MB, after listing %d rows %.1f MB (goal 100)",
                     mb(idleRSS), volumes, mb(busyRSS), mb(seededIdle), rows, mb(seededRSS)))
        print(String(format: "  of which anonymous (RssAnon; the rest is shared library code mapped from files): idle %.1f MB, after %d volumes %.1f MB; seeded idle %.1f MB, after listing %.1f MB",
                     mb(idleAnon), volumes, mb(busyAnon), mb(seededIdleAnon), mb(seededAnon)))
    }

    /// `volume.list` five times: how long until the whole reply line is in (request, query,
    /// encoding, transfer), and how long the client then takes to decode it.
    func listTimings(_ client: VolumeClient, params: String = "") async throws -> (count: Int, reply: [Double], decode: [Double]) {
        var replies: [Double] = []
        var decodes: [Double] = []
        var count = 0
        for index in 0..<5 {
            let request = Data(#"{"jsonrpc":"2.0","id":\#(index),"method":"volume.list"\#(params)}"#.utf8 + [0x0A])
            let (line, ms) = try await timed {
                try await client.sendRaw(request)
                return try await client.readLine()
            }
            replies.append(ms)
            let (list, decodeMs) = try timedSync { try JSONDecoder.volumed().decode(ListReply.self, from: line).result }
            decodes.append(decodeMs)
            count = list.count
        }
        return (count, replies, decodes)
    }

    struct ListReply: Decodable { let result: [Volume] }

    func rss(_ pid: Int32, field: String = "VmRSS:") -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(field) } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) << 10
    }

    func mb(_ bytes: Int) -> Double { Double(bytes) / 1e6 }
}

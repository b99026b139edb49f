import ArgumentParser
import Foundation
import VolumeProtocol

struct CapacityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "capacity", abstract: "Show each pool's capacity (Cinder's formula).")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let pools = try await global.connect().run("service.capacity", as: [PoolCapacity].self)
        if global.json { return try Output.json(pools) }
        func gib(_ bytes: Int64) -> String { String(format: "%.2f GiB", Double(bytes) / Double(1 << 30)) }
        Output.table(["POOL", "TOTAL", "FREE", "USED", "PROVISIONED", "RATIO", "QUOTA"], pools.map {
            [$0.pool, gib($0.totalBytes), gib($0.freeBytes), gib($0.usedBytes), gib($0.provisionedBytes),
             String(format: "%.2f", $0.overSubscriptionRatio), $0.quotaBytes.map(gib) ?? "-"]
        })
    }
}

struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics", abstract: "Print every metric in Prometheus' text format (what GET /metrics on metrics_listen serves).")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let metrics = try await global.connect().run("service.metrics", as: MetricsText.self)
        if global.json { return try Output.json(metrics) }
        print(metrics.text, terminator: metrics.text.hasSuffix("\n") ? "" : "\n")
    }
}

struct DiscoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discover", abstract: "Print the protocol as an OpenRPC document (rpc.discover), for client generators and validators.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try Output.json(try await global.connect().run("rpc.discover", as: JSONValue.self))
    }
}

struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare the database with the pools and report drift.",
        discussion: "Exit code 0 when clean, 1 when drift was found. --fix records missing images as errors and purges stale snapshots; unknown images are never touched.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Repair what can be repaired safely.") var fix = false

    func run() async throws {
        let drift = try await global.connect().run("service.reconcile", fix ? ["fix": .bool(true)] : [:], as: Drift.self)
        if global.json {
            try Output.json(drift)
        } else {
            let sections: [(String, [Drift.Item])] = [
                ("unknown image", drift.unknownImages), ("missing image", drift.missingImages),
                ("stale snapshot", drift.staleSnapshots), ("missing snapshot", drift.missingSnapshots), ("trash", drift.trash),
            ]
            let rows = sections.flatMap { kind, items in items.map { [kind, $0.location, $0.id ?? "-", $0.detail] } }
            if rows.isEmpty { print("clean: the database and the pools agree") } else { Output.table(["DRIFT", "WHERE", "ID", "DETAIL"], rows) }
            for line in drift.fixed { print("fixed: \(line)") }
        }
        if !drift.clean && drift.fixed.isEmpty { throw ExitCode(1) }
    }
}

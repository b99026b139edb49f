import Foundation
import Testing
@testable import VolumeStore

/// The lists that grow without bound walk an index in their own order: no scan of the table, no
/// sort, so that 1,000,000 finished jobs do not slow `job.list` (docs/benchmarks.md, issue 11).
struct ListQueryPlanTests {
    @Test func listsAndPruningWalkTheirIndexes() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("plans-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try Store(path: folder + "/volumed.sqlite")
        defer { store.close() }
        let cases: [(query: String, sql: String, index: String)] = [
            ("a volume's jobs", ListQueries.jobsOfVolume, "job_volume"),
            ("every job", ListQueries.recentJobs, "job_recent"),
            ("the pruning", ListQueries.pruneFinishedJobs, "job_finished"),
            ("a volume's snapshots", ListQueries.snapshotsOfVolume, "snapshot_volume_list"),
            ("every snapshot", ListQueries.snapshots, "snapshot_list"),
        ]
        for entry in cases {
            let plan = try await store.read { tx in try tx.queryPlan(entry.sql) }
            #expect(plan.contains { $0.contains("USING INDEX \(entry.index)") }, "\(entry.query): \(plan)")
            // "SCAN t USING INDEX i" walks the index in order (and a LIMIT stops it); a scan of the table itself would not.
            #expect(!plan.contains { $0.hasPrefix("SCAN") && !$0.contains("USING") }, "\(entry.query) scans its table: \(plan)")
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(entry.query) sorts: \(plan)")
        }
    }
}

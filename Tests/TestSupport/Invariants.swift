import Foundation
import Lifecycle
import RBD
import VolumeStore

/// What must hold whenever a daemon has no job left: every job final, nothing in a
/// transitional state, the pools holding exactly what the database says is alive (images,
/// snapshots, no trash), and a sound SQLite file. Returns the problems found, in words.
public enum Invariants {
    public static func check(_ daemon: DaemonProcess, pools: [String]? = nil) async throws -> [String] {
        let store = try daemon.openDatabase()
        defer { store.close() }
        var problems: [String] = []
        let (jobs, volumes, snapshots, images, released, backups) = try await store.read { tx in
            (try tx.unfinishedJobs(), try tx.unpurgedVolumes(), try tx.unpurgedSnapshots(), try tx.unpurgedImages(),
             try tx.recentJobs(volumeID: nil, limit: 100_000).filter { $0.kind == .unmanageVolume && $0.state == .succeeded }.compactMap(\.volumeID),
             try tx.unpurgedBackups())
        }
        for backup in backups where ![.available, .error].contains(backup.status) {
            problems.append("backup \(backup.id) is stuck in \(backup.status)")
        }
        for job in jobs { problems.append("job \(job.id) (\(job.kind)) is still \(job.state)") }
        for volume in volumes where ![.available, .error, .deleted].contains(volume.status) {
            problems.append("volume \(volume.id) is stuck in \(volume.status)")
        }
        for snapshot in snapshots where ![.available, .error, .deleted].contains(snapshot.status) {
            problems.append("snapshot \(snapshot.id) is stuck in \(snapshot.status)")
        }
        for image in images where ![.active, .error, .deleted].contains(image.status) {
            problems.append("image \(image.id) is stuck in \(image.status)")
        }
        let integrity = try await store.integrityCheck()
        if integrity != "ok" { problems.append("integrity_check: \(integrity)") }

        // What the pools should hold.
        var expectedImages: [String: Set<String>] = [:]
        var expectedSnapshots: [String: Set<String>] = [:]
        for volume in volumes {
            let key = "\(volume.pool)/\(volume.rbdImage)"
            expectedImages[volume.pool, default: []].insert(volume.rbdImage)
            expectedSnapshots[key, default: []].formUnion(snapshots.filter { $0.volumeID == volume.id }.map(\.rbdSnapshot))
            if let parent = volume.parentVolumeID, let snap = volume.parentSnapshot,
               let owner = volumes.first(where: { $0.id == parent }) {
                expectedSnapshots["\(owner.pool)/\(owner.rbdImage)", default: []].insert(snap)
            }
        }
        // A backup is a snapshot of its chain's image; the newest of a live volume's backups keeps
        // its source snapshot on the volume (the base of the next incremental one).
        for backup in backups where backup.status == .available {
            expectedImages[backup.pool, default: []].insert(backup.chainImage)
            expectedSnapshots["\(backup.pool)/\(backup.chainImage)", default: []].insert(backup.rbdSnapshot)
            if let source = backup.sourceSnapshot, let volume = volumes.first(where: { $0.id == backup.volumeID }), volume.status != .deleted {
                expectedSnapshots["\(volume.pool)/\(volume.rbdImage)", default: []].insert(source)
            }
        }
        for image in images {
            expectedImages[image.pool, default: []].insert(image.rbdImage)
            expectedSnapshots["\(image.pool)/\(image.rbdImage)"] = image.status == .active || image.status == .deleting ? ["snap"] : nil
        }
        let ignored = Set(released.map { "volume-\($0)" })
        let admin = daemon.cluster.adminCluster
        for pool in pools ?? [daemon.pool] {
            let (names, trash) = try await daemon.cluster.contents(of: pool)
            let present = Set(names).subtracting(ignored).filter { !$0.hasPrefix("foreign-") }
            let expected = expectedImages[pool] ?? []
            /// The row and the recent jobs of the volume an image name belongs to, for the post-mortem.
            func story(of name: String) async throws -> String {
                if name.hasPrefix("backup-") {
                    let onChain = try await store.read { tx in
                        try tx.unpurgedBackups().filter { $0.chainImage == name }.map { "\($0.id) \($0.status)" }
                    }
                    return "unpurged backups on this chain: \(onChain)"
                }
                let id = name.hasPrefix("volume-") ? String(name.dropFirst("volume-".count)) : name
                return try await store.read { tx in
                    let row = try tx.volume(id).map { "row \($0.status) purged=\($0.purged) source=\($0.sourceKind?.rawValue ?? "-")" } ?? "no row"
                    let jobs = try tx.recentJobs(volumeID: id, limit: 20).reversed().map { "\($0.kind) \($0.state) step \($0.step) \($0.errorMessage ?? "")" }
                    return "\(row); jobs \(jobs)"
                }
            }
            for leaked in present.subtracting(expected).sorted() {
                problems.append("\(pool)/\(leaked) is in the pool but not alive in the database (leak): \(try await story(of: leaked))")
            }
            for missing in expected.subtracting(present).sorted() {
                problems.append("\(pool)/\(missing) is alive in the database but not in the pool: \(try await story(of: missing))")
            }
            for entry in trash { problems.append("\(pool) trash holds \(entry)") }
            for name in present.intersection(expected).sorted() {
                let listed: Set<String>? = try await admin.run { session in
                    do {
                        return Set(try session.pool(pool).withImage(name, readOnly: true) { try $0.snapshots().map(\.name) })
                    } catch let error as RBDError where error.code == .notFound {
                        return nil
                    }
                }
                guard let actual = listed else {
                    problems.append("\(pool)/\(name) is alive in the database but vanished while checked")
                    continue
                }
                let wanted = expectedSnapshots["\(pool)/\(name)"] ?? []
                if actual != wanted {
                    let owner = volumes.first { $0.pool == pool && $0.rbdImage == name }
                    let history = try await store.read { tx in
                        try tx.recentJobs(volumeID: owner?.id, limit: 50).reversed().map { "\($0.kind) \($0.snapshotID ?? "") \($0.state) \($0.errorMessage ?? "")" }
                    }
                    let rows = snapshots.filter { $0.volumeID == owner?.id }.map { "\($0.rbdSnapshot) \($0.status)" }
                    var all = (try? await daemon.cluster.rbd(["snap", "ls", "--all", "\(pool)/\(name)"])) ?? ""
                    for extra in actual.subtracting(wanted).sorted() where !extra.contains("-") || extra.hasSuffix(".clone_snap") || extra.hasPrefix("snapshot-") {
                        let children = (try? await daemon.cluster.rbd(["children", "--all", "\(pool)/\(name)@\(extra)"])) ?? ""
                        if children.contains("trash") { all += " [children of \(extra) in trash (\(children.trimmingCharacters(in: .whitespacesAndNewlines)))]" }
                    }
                    problems.append("\(pool)/\(name) has snapshots \(actual.sorted()) (\(all)) but the database wants \(wanted.sorted()); volume \(owner?.status.rawValue ?? "?"), snapshot rows \(rows), jobs \(history)")
                }
            }
        }
        return problems
    }

    /// Waits until the daemon has no queued or running job (follow-up purges included).
    public static func settle(_ daemon: DaemonProcess, timeout: Duration = .seconds(120)) async throws {
        let client = try daemon.client()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let jobs = try await client.call("job.list", .object(["limit": .int(10_000)]))
            guard case .array(let list)? = jobs.result else {
                // Not ready yet (a daemon just restarted answers before it resumes its jobs).
                try await Task.sleep(for: .milliseconds(50))
                continue
            }
            let open = list.compactMap { job -> String? in
                guard case .object(let fields) = job, case .string(let state)? = fields["state"], case .string(let id)? = fields["id"],
                      state == "queued" || state == "running" else { return nil }
                return id
            }
            if open.isEmpty { return }
            for id in open { _ = try await client.call("job.wait", .object(["job_id": .string(id)])) }
        }
        throw SettleTimeout()
    }

    public struct SettleTimeout: Error {}

    /// `VOLUMED_LONG=1`: the reliability suites' long counts.
    public static var longMode: Bool { ProcessInfo.processInfo.environment["VOLUMED_LONG"] == "1" }
}

import Foundation
import Lifecycle

/// Rows for the lifecycle's tests: no database, no cluster.
enum Rows {
    static let epoch = Date(timeIntervalSince1970: 1_800_000_000)

    static func volume(
        _ id: String = "v", status: VolumeStatus = .available, sizeGB: Int = 1, attached: Int = 0,
        parent: String? = nil, parentSnapshot: String? = nil, depth: Int = 0, multiattach: Bool = false
    ) -> VolumeRecord {
        var row = VolumeRecord(
            id: id, name: "", sizeGB: sizeGB, status: status, pool: "volumes", rbdImage: "volume-\(id)",
            parentVolumeID: parent, parentSnapshot: parentSnapshot ?? parent.map { _ in "volume-\(id).clone_snap" },
            sourceKind: parent == nil ? nil : .volume, sourceID: parent, cloneDepth: depth, multiattach: multiattach, now: epoch)
        row.attachCount = attached
        return row
    }

    static func snapshot(_ status: SnapshotStatus = .available, id: String = "s", of volumeID: String = "v") -> SnapshotRecord {
        SnapshotRecord(id: id, volumeID: volumeID, name: "", status: status, rbdSnapshot: "snapshot-\(id)", sizeGB: 1, now: epoch)
    }

    static func image(_ status: ImageStatus = .active, id: String = "i", sizeBytes: Int64 = 1 << 20) -> ImageRecord {
        ImageRecord(id: id, name: "", status: status, pool: "images", rbdImage: id, sizeBytes: sizeBytes, now: epoch)
    }

    static func job(_ kind: JobKind, _ state: JobState = .queued, step: Int = 0, params: String = "{}") -> JobRecord {
        var row = JobRecord(id: "j", kind: kind, lockKey: "v", volumeID: "v", params: params, now: epoch)
        row.state = state
        row.step = step
        return row
    }

    /// Every status a volume row can hold (`in-use` is only shown, never stored).
    static let storedVolumeStatuses = VolumeStatus.allCases.filter { $0 != .inUse }
}

/// The refusal `body` throws, if any (the lifecycle throws nothing else).
func refusal<T>(_ body: () throws -> T) -> Refusal? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? Refusal ?? Refusal(.internalError, "not a refusal: \(error)")
    }
}

import Foundation
import Lifecycle
import Testing

/// Which backup a new one is incremental to, what may be restored where, and deletes.
@Suite struct BackupLifecycleTests {
    static func backup(_ id: String, minute: Double, status: BackupStatus = .available, parent: BackupRecord? = nil) -> BackupRecord {
        var row = BackupRecord(id: id, volumeID: "v", name: "", sizeGB: 2, parent: parent, pool: "backups", now: Rows.epoch.addingTimeInterval(minute * 60))
        row.status = status
        return row
    }

    @Test func aNewBackupIsIncrementalToTheNewestThatStillHasItsBase() throws {
        let full = Self.backup("a", minute: 1)
        var second = Self.backup("b", minute: 2, parent: full)
        #expect(second.chainImage == full.chainImage && second.parentID == "a", "on the parent's chain")
        #expect(try BackupLifecycle.parent(among: [full, second], incremental: nil, volumeID: "v")?.id == "b")
        #expect(try BackupLifecycle.parent(among: [full, second], incremental: false, volumeID: "v") == nil, "full when asked")
        second.sourceSnapshot = nil
        #expect(try BackupLifecycle.parent(among: [full, second], incremental: nil, volumeID: "v")?.id == "a")
        let failed = Self.backup("c", minute: 3, status: .error)
        #expect(try BackupLifecycle.parent(among: [full, failed], incremental: nil, volumeID: "v")?.id == "a", "never a failed one")
        #expect(try BackupLifecycle.parent(among: [], incremental: nil, volumeID: "v") == nil)
        #expect(throws: Refusal.self) { try BackupLifecycle.parent(among: [], incremental: true, volumeID: "v") }
    }

    @Test func aRestoreNeedsAnAvailableBackupAndADetachedVolumeBigEnough() throws {
        let backup = Self.backup("a", minute: 1)
        #expect(try BackupLifecycle.admitRestore(over: Rows.volume(sizeGB: 2), id: "v", backup: backup).status == .reverting)
        #expect(throws: Refusal.self) { try BackupLifecycle.admitRestore(over: Rows.volume(sizeGB: 1), id: "v", backup: backup) }
        #expect(throws: Refusal.self) { try BackupLifecycle.admitRestore(over: Rows.volume(sizeGB: 2, attached: 1), id: "v", backup: backup) }
        #expect(throws: Refusal.self) { try BackupLifecycle.requireRestorable(Self.backup("c", minute: 1, status: .creating), id: "c") }
        let deleted = BackupLifecycle.ended(.deleteBackup, succeeded: true, backup: backup)
        #expect(deleted.purged && deleted.status == .deleted && deleted.sourceSnapshot == nil)
        #expect(throws: Refusal.self) { try BackupLifecycle.requireRestorable(deleted, id: "a") }
        #expect(throws: Refusal.self) { try BackupLifecycle.admitDelete(deleted, id: "a") }
        #expect(try BackupLifecycle.admitDelete(backup, id: "a").backup.status == .deleting)
        #expect(BackupLifecycle.ended(.createBackup, succeeded: false, backup: Self.backup("d", minute: 1, status: .creating)).status == .error)
    }
}

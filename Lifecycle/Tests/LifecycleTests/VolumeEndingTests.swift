import Foundation
import Lifecycle
import Testing

/// What the end of each job writes for its volume, and what a restart repairs.
@Suite struct VolumeEndingTests {
    typealias Outcome = VolumeLifecycle.Outcome

    static let failed = Outcome.undone(cancelled: false, started: true, imageRemoved: false)

    @Test(arguments: [
        (JobKind.createVolume, VolumeStatus.creating), (.manageVolume, .managing), (.extendVolume, .extending),
        (.revertVolume, .reverting), (.deleteVolume, .deleting), (.unmanageVolume, .unmanaging),
    ])
    func successSettlesTheTransition(kind: JobKind, from: VolumeStatus) {
        let ended = VolumeLifecycle.ended(kind, .succeeded(), volume: Rows.volume(status: from)).volume
        let expected: VolumeStatus = kind == .deleteVolume || kind == .unmanageVolume ? .deleted : .available
        #expect(ended.status == expected)
        #expect(ended.purged == (kind == .unmanageVolume), "an unmanaged image is no longer volumed's to remove")
    }

    @Test func aFailedCreateIsErrorAndACancelledOneWhoseImageWentIsGone() {
        let creating = Rows.volume(status: .creating, parent: "p")
        let failed = VolumeLifecycle.ended(.createVolume, .undone(cancelled: false, started: true, imageRemoved: false), volume: creating)
        #expect(failed.volume.status == .error)
        #expect(failed.volume.parentVolumeID == "p", "the image may still hang from its parent")
        #expect(failed.purges.isEmpty)
        let cancelled = VolumeLifecycle.ended(.createVolume, .undone(cancelled: true, started: true, imageRemoved: true), volume: creating)
        #expect(cancelled.volume.status == .deleted)
        #expect(cancelled.volume.purged)
        #expect(cancelled.volume.parentVolumeID == nil)
        #expect(cancelled.purges == ["p"], "the parent's clone snapshot may go now")
        let removedButFailed = VolumeLifecycle.ended(.createVolume, .undone(cancelled: false, started: true, imageRemoved: true), volume: creating)
        #expect(removedButFailed.volume.status == .error)
        #expect(removedButFailed.volume.purged)
    }

    @Test func aCopiedOrFlattenedCloneLetsGoOfItsParent() {
        let clone = Rows.volume(status: .creating, parent: "p", depth: 3)
        let copied = VolumeLifecycle.ended(.createVolume, .succeeded(detached: true), volume: clone)
        #expect(copied.volume.status == .available)
        #expect(copied.volume.cloneDepth == 0)
        #expect(copied.purges == ["p"])
        #expect(copied.descendantDepthChange == 0, "a new volume has no descendants")

        let flattened = VolumeLifecycle.ended(.flattenVolume, .succeeded(detached: true), volume: Rows.volume(parent: "p", depth: 3))
        #expect(flattened.volume.parentVolumeID == nil && flattened.volume.parentSnapshot == nil)
        #expect(flattened.volume.cloneDepth == 0)
        #expect(flattened.descendantDepthChange == -3, "its clones are three hops shallower")
        #expect(flattened.purges == ["p"])
    }

    @Test func anExtendWritesTheNewSizeOnlyWhenItSucceeds() {
        let extending = Rows.volume(status: .extending, sizeGB: 1)
        #expect(VolumeLifecycle.ended(.extendVolume, .succeeded(sizeGB: 4), volume: extending).volume.sizeGB == 4)
        let failed = VolumeLifecycle.ended(.extendVolume, Self.failed, volume: extending).volume
        #expect(failed.sizeGB == 1)
        #expect(failed.status == .available)
    }

    @Test func aRevertStoppedHalfWayLeavesErrorOneRefusedBeforeItBeganStaysAvailable() {
        let reverting = Rows.volume(status: .reverting)
        #expect(VolumeLifecycle.ended(.revertVolume, .undone(cancelled: true, started: true, imageRemoved: false), volume: reverting).volume.status == .error)
        #expect(VolumeLifecycle.ended(.revertVolume, .undone(cancelled: true, started: false, imageRemoved: false), volume: reverting).volume.status == .available)
    }

    @Test(arguments: [VolumeStatus.available, .error])
    func aDeleteThatCannotStartGivesBackThePriorStatus(prior: VolumeStatus) {
        let deleting = Rows.volume(status: .deleting)
        #expect(VolumeLifecycle.ended(.deleteVolume, Self.failed, volume: deleting, prior: prior).volume.status == prior)
        // Once the tombstone is written it stays: a later purge finishes the job.
        #expect(VolumeLifecycle.ended(.deleteVolume, Self.failed, volume: Rows.volume(status: .deleted), prior: prior).volume.status == .deleted)
    }

    @Test func aFailedManageGivesTheImageBack() {
        let ended = VolumeLifecycle.ended(.manageVolume, Self.failed, volume: Rows.volume(status: .managing)).volume
        #expect(ended.status == .deleted)
        #expect(ended.purged, "the image is the user's again, never removed by a purge")
    }

    @Test(arguments: JobKind.allCases)
    func jobsThatDoNotOwnTheVolumesStatusLeaveItAlone(kind: JobKind) {
        let owners: Set<JobKind> = [.createVolume, .manageVolume, .extendVolume, .revertVolume, .deleteVolume, .unmanageVolume, .flattenVolume, .restoreBackup]
        guard !owners.contains(kind) else { return }
        let volume = Rows.volume()
        #expect(VolumeLifecycle.ended(kind, .succeeded(), volume: volume) == VolumeLifecycle.Ending(volume: volume))
        #expect(VolumeLifecycle.ended(kind, Self.failed, volume: volume) == VolumeLifecycle.Ending(volume: volume))
    }

    @Test(arguments: Rows.storedVolumeStatuses)
    func aRestartRepairsEveryTransitionalStatusWithNoJob(status: VolumeStatus) {
        let repaired = VolumeLifecycle.recovered(status)
        switch status {
        case .deleting, .extending, .unmanaging: #expect(repaired == .available, "nothing changed yet: the volume is as it was")
        case .creating, .reverting, .managing: #expect(repaired == .error, "its image is in an unknown state")
        default: #expect(repaired == nil)
        }
        #expect((repaired != nil) == status.isTransitional, "every transitional status is repaired, and only those")
    }

    @Test func onlyVolumesBeingMadeMayLackTheirImage() {
        let may = Rows.storedVolumeStatuses.filter(VolumeLifecycle.mayLackImage)
        #expect(Set(may) == [.creating, .managing])
    }

    /// Deferred deletion: nothing of the volume goes before its time, and until then it comes
    /// back as it was; a plain delete, a purged one or one whose time is up does not.
    @Test func aDeferredDeleteCanBeUndoneWithinItsDelay() throws {
        var deleted = Rows.volume(status: .deleted)
        deleted.purgeAfter = Rows.epoch.addingTimeInterval(60)
        let before = Rows.epoch.addingTimeInterval(59)
        #expect(!VolumeLifecycle.mayPurge(deleted, now: before))
        #expect(VolumeLifecycle.mayPurge(deleted, now: Rows.epoch.addingTimeInterval(60)))
        #expect(VolumeLifecycle.mayPurge(Rows.volume(status: .deleted), now: before), "a plain delete purges at once")

        let back = try VolumeLifecycle.admitUndelete(deleted, id: "v", prior: .available, now: before)
        #expect(back.status == .available && back.purgeAfter == nil)
        #expect(try VolumeLifecycle.admitUndelete(deleted, id: "v", prior: .error, now: before).status == .error)
        #expect(VolumeLifecycle.mayPurge(back, now: before), "a live volume's own purges (clone snapshots) run as before")

        func refusal(_ row: VolumeRecord?, now: Date) -> FailureKind? {
            do {
                _ = try VolumeLifecycle.admitUndelete(row, id: "v", prior: .available, now: now)
                return nil
            } catch { return error.kind }
        }
        #expect(refusal(deleted, now: Rows.epoch.addingTimeInterval(61)) == .conflict, "its time is up")
        #expect(refusal(Rows.volume(status: .deleted), now: before) == .conflict, "deleted without deferral")
        #expect(refusal(Rows.volume(status: .available), now: before) == .conflict)
        var purged = deleted
        purged.purged = true
        #expect(refusal(purged, now: before) == .notFound)
        #expect(refusal(nil, now: before) == .notFound)
    }
}

/// A restore fills a new volume (creating) or replaces an existing one's data (reverting).
@Suite struct RestoreEndingTests {
    @Test func aRestoreSettlesItsVolumeOrLeavesItInError() {
        for from in [VolumeStatus.creating, .reverting] {
            #expect(VolumeLifecycle.ended(.restoreBackup, .succeeded(), volume: Rows.volume(status: from)).volume.status == .available)
            let failed = VolumeLifecycle.ended(.restoreBackup, .undone(cancelled: false, started: true, imageRemoved: from == .creating), volume: Rows.volume(status: from)).volume
            #expect(failed.status == .error && failed.purged == (from == .creating))
        }
    }
}

import Lifecycle
import Testing

@Suite struct SnapshotLifecycleTests {
    @Test(arguments: SnapshotStatus.allCases)
    func deleteFromEachStatus(status: SnapshotStatus) throws {
        // Settled snapshots go to `deleting`, remembering what a failed delete gives back.
        let refusedAs: [SnapshotStatus: FailureKind] = [.deleted: .notFound, .creating: .conflict, .deleting: .conflict]
        let admit = { try SnapshotLifecycle.admit(.delete, to: Rows.snapshot(status), id: "s") }
        #expect(refusal(admit)?.kind == refusedAs[status])
        if refusedAs[status] == nil {
            #expect(try admit() == (Rows.snapshot(.deleting), status))
        }
    }

    @Test(arguments: SnapshotStatus.allCases)
    func onlyAnAvailableSnapshotIsACloneSource(status: SnapshotStatus) {
        let refused = refusal { try SnapshotLifecycle.admit(.cloneFrom, to: Rows.snapshot(status), id: "s") }
        switch status {
        case .available: #expect(refused == nil)
        case .deleted: #expect(refused == Refusal(.notFound, "source snapshot s not found"))
        default: #expect(refused?.kind == .conflict)
        }
    }

    @Test func endings() {
        let failed = VolumeLifecycle.Outcome.undone(cancelled: false, started: true, imageRemoved: false)
        #expect(SnapshotLifecycle.ended(.createSnapshot, .succeeded(), snapshot: Rows.snapshot(.creating)).status == .available)
        #expect(SnapshotLifecycle.ended(.createSnapshot, failed, snapshot: Rows.snapshot(.creating)).status == .error)
        let gone = SnapshotLifecycle.ended(.createSnapshot, .undone(cancelled: true, started: true, imageRemoved: true), snapshot: Rows.snapshot(.creating))
        #expect(gone.status == .deleted && gone.purged)
        #expect(SnapshotLifecycle.ended(.deleteSnapshot, .succeeded(), snapshot: Rows.snapshot(.deleting)).status == .deleted)
        #expect(SnapshotLifecycle.ended(.deleteSnapshot, failed, snapshot: Rows.snapshot(.deleting), prior: .error).status == .error)
    }
}

@Suite struct ImageLifecycleTests {
    @Test(arguments: ImageStatus.allCases)
    func deleteFromEachStatus(status: ImageStatus) throws {
        let row = Rows.image(status)
        switch status {
        case .active, .error:
            #expect(try ImageLifecycle.admit(.delete(clones: []), to: row, id: "i").image.status == .deleting)
            let refused = refusal { try ImageLifecycle.admit(.delete(clones: ["volumes/volume-1"]), to: row, id: "i") }
            #expect(refused?.kind == .inUse)
            #expect(refused?.message.contains("volumes/volume-1") == true, "Glance's words, and which clone")
        case .deleted:
            #expect(refusal { try ImageLifecycle.admit(.delete(clones: []), to: row, id: "i") }?.kind == .notFound)
        case .creating, .deleting:
            #expect(refusal { try ImageLifecycle.admit(.delete(clones: []), to: row, id: "i") }?.kind == .conflict)
        }
    }

    @Test(arguments: ImageStatus.allCases)
    func exportAndCloneNeedAnActiveImage(status: ImageStatus) {
        for request in [ImageLifecycle.Request.export(offset: 0), .cloneFrom] {
            let refused = refusal { try ImageLifecycle.admit(request, to: Rows.image(status), id: "i") }
            switch status {
            case .active: #expect(refused == nil)
            case .deleted: #expect(refused?.kind == .notFound)
            default: #expect(refused?.kind == .conflict)
            }
        }
    }

    @Test func anExportStartsWithinTheImage() {
        let image = Rows.image(sizeBytes: 100)
        #expect(refusal { try ImageLifecycle.admit(.export(offset: 100), to: image, id: "i") } == nil)
        #expect(refusal { try ImageLifecycle.admit(.export(offset: 101), to: image, id: "i") }?.kind == .invalid)
    }

    @Test func endingsAndRecovery() {
        #expect(ImageLifecycle.ended(.createImage, succeeded: true, from: .creating) == .active)
        #expect(ImageLifecycle.ended(.createImage, succeeded: false, from: .creating) == .error)
        #expect(ImageLifecycle.ended(.deleteImage, succeeded: true, from: .deleting) == .deleted)
        #expect(ImageLifecycle.ended(.deleteImage, succeeded: false, from: .deleting, prior: .error) == .error)
        #expect(ImageLifecycle.ended(.exportImage, succeeded: false, from: .active) == .active, "an export changes nothing")
        #expect(ImageLifecycle.recovered(.creating) == .error)
        #expect(ImageLifecycle.recovered(.deleting) == .active)
        for status in [ImageStatus.active, .error, .deleted] { #expect(ImageLifecycle.recovered(status) == nil) }
    }
}

/// Reconcile's and the purge's repair: a row whose RBD object is gone.
@Suite struct ObjectGoneTests {
    @Test(arguments: Rows.storedVolumeStatuses)
    func aVolumeWhoseImageIsGone(status: VolumeStatus) {
        let gone = VolumeLifecycle.imageGone(Rows.volume(status: status))
        #expect(gone.purged)
        #expect(gone.status == (status == .deleted ? .deleted : .error), "its data is gone: error, unless deleted anyway")
    }

    @Test(arguments: SnapshotStatus.allCases)
    func aSnapshotThatIsGone(status: SnapshotStatus) {
        let gone = SnapshotLifecycle.snapshotGone(Rows.snapshot(status))
        #expect(gone.purged && gone.status == (status == .deleted ? .deleted : .error))
    }

    @Test(arguments: ImageStatus.allCases)
    func anImageThatIsGone(status: ImageStatus) {
        let gone = ImageLifecycle.imageGone(Rows.image(status))
        #expect(gone.purged && gone.status == (status == .deleted ? .deleted : .error))
    }
}

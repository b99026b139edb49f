import Lifecycle
import Testing

/// Every request against a volume in every stored status: allowed ones and the status they
/// write, refused ones and their error kind.
@Suite struct VolumeAdmissionTests {
    typealias Request = VolumeLifecycle.Request

    static let requests: [Request] = [
        .delete(force: false), .extend(sizeGB: 2), .flatten, .snapshot, .cloneFrom,
        .revert(to: Rows.snapshot(), force: false), .attach(attachedTo: nil), .unmanage(hasSnapshotsOrClones: false),
    ]

    /// From which statuses a request is allowed, and the status it writes (nil: unchanged).
    static func rule(_ request: Request) -> (allowed: Set<VolumeStatus>, writes: VolumeStatus?) {
        switch request {
        case .delete: ([.available, .error], .deleting)
        case .extend: ([.available], .extending)
        case .revert: ([.available, .error], .reverting)
        case .unmanage: ([.available], .unmanaging)
        case .flatten, .snapshot, .cloneFrom, .attach: ([.available], nil)
        }
    }

    @Test(arguments: requests, Rows.storedVolumeStatuses)
    func eachRequestFromEachStatus(request: Request, status: VolumeStatus) throws {
        let row = Rows.volume(status: status)
        let (allowed, writes) = Self.rule(request)
        if status == .deleted {
            #expect(refusal { try VolumeLifecycle.admit(request, to: row, id: "v") }?.kind == .notFound, "a tombstone is not found")
        } else if allowed.contains(status) {
            let admitted = try VolumeLifecycle.admit(request, to: row, id: "v")
            #expect(admitted.volume.status == (writes ?? status))
            #expect(admitted.priorStatus == status)
        } else {
            let refused = refusal { try VolumeLifecycle.admit(request, to: row, id: "v") }
            #expect(refused?.kind == .conflict, "\(request) from \(status)")
            #expect(refused?.message.contains(status.rawValue) == true, "the message names the status")
        }
    }

    @Test(arguments: requests)
    func aMissingRowIsNotFound(request: Request) {
        let refused = refusal { try VolumeLifecycle.admit(request, to: nil, id: "v9") }
        #expect(refused?.kind == .notFound)
        #expect(refused?.message.contains("v9") == true)
    }

    @Test func aCloneSourceIsNamedAsSuch() {
        #expect(refusal { try VolumeLifecycle.admit(.cloneFrom, to: nil, id: "v") }?.message == "source volume v not found")
        #expect(refusal { try VolumeLifecycle.admit(.cloneFrom, to: Rows.volume(status: .creating), id: "v") }?.message
            == "source volume v is creating, not available")
    }

    @Test func deletingAnAttachedVolumeNeedsForceAndDropsItsAttachments() throws {
        let attached = Rows.volume(attached: 2)
        #expect(refusal { try VolumeLifecycle.admit(.delete(force: false), to: attached, id: "v") }?.kind == .inUse)
        let forced = try VolumeLifecycle.admit(.delete(force: true), to: attached, id: "v")
        #expect(forced.dropsAttachments)
        #expect(forced.volume.attachCount == 0)
        #expect(forced.volume.status == .deleting)
        #expect(try !VolumeLifecycle.admit(.delete(force: true), to: Rows.volume(), id: "v").dropsAttachments)
    }

    @Test(arguments: [1, 0, -3])
    func volumesOnlyGrow(sizeGB: Int) {
        let refused = refusal { try VolumeLifecycle.admit(.extend(sizeGB: sizeGB), to: Rows.volume(sizeGB: 1), id: "v") }
        #expect(refused?.kind == .invalid)
    }

    @Test func revertNeedsTheVolumesOwnAvailableSnapshotAndForceWhenAttached() throws {
        let volume = Rows.volume()
        #expect(refusal { try VolumeLifecycle.admit(.revert(to: Rows.snapshot(of: "w"), force: false), to: volume, id: "v") }?.kind == .invalid)
        #expect(refusal { try VolumeLifecycle.admit(.revert(to: Rows.snapshot(.creating), force: false), to: volume, id: "v") }?.kind == .conflict)
        let attached = Rows.volume(attached: 1)
        #expect(refusal { try VolumeLifecycle.admit(.revert(to: Rows.snapshot(), force: false), to: attached, id: "v") }?.kind == .inUse)
        #expect(try VolumeLifecycle.admit(.revert(to: Rows.snapshot(), force: true), to: attached, id: "v").volume.status == .reverting)
        // A half-done revert left the volume `error`: reverting again is how it is repaired.
        #expect(try VolumeLifecycle.admit(.revert(to: Rows.snapshot(), force: false), to: Rows.volume(status: .error), id: "v").volume.status == .reverting)
    }

    @Test func aSecondAttachmentNeedsMultiattach() throws {
        let once = Rows.volume(attached: 1)
        let refused = refusal { try VolumeLifecycle.admit(.attach(attachedTo: "compute-1"), to: once, id: "v") }
        #expect(refused?.kind == .inUse)
        #expect(refused?.message.contains("compute-1") == true, "names the host it is attached to")
        let shared = Rows.volume(attached: 1, multiattach: true)
        #expect(try VolumeLifecycle.admit(.attach(attachedTo: "compute-1"), to: shared, id: "v").volume.attachCount == 2)
        #expect(try VolumeLifecycle.admit(.attach(attachedTo: nil), to: Rows.volume(), id: "v").volume.attachCount == 1)
    }

    @Test func unmanageRefusesWhileAnythingDependsOnTheImage() {
        #expect(refusal { try VolumeLifecycle.admit(.unmanage(hasSnapshotsOrClones: false), to: Rows.volume(attached: 1), id: "v") }?.kind == .inUse)
        #expect(refusal { try VolumeLifecycle.admit(.unmanage(hasSnapshotsOrClones: false), to: Rows.volume(parent: "p"), id: "v") }?.kind == .conflict)
        #expect(refusal { try VolumeLifecycle.admit(.unmanage(hasSnapshotsOrClones: true), to: Rows.volume(), id: "v") }?.kind == .inUse)
    }

    @Test func inUseIsShownNeverStoredAndTransitionalStatusesBlockEverything() {
        for status in Rows.storedVolumeStatuses where status.isTransitional {
            for request in Self.requests {
                #expect(refusal { try VolumeLifecycle.admit(request, to: Rows.volume(status: status), id: "v") } != nil,
                        "\(request) while \(status)")
            }
        }
    }
}

@Suite struct ImageSizeLimitTests {
    @Test func theObjectMapBoundsTheSize() throws {
        #expect(ImageSizeLimit.largestGB(objectOrder: 22) == 1_000_000)
        #expect(ImageSizeLimit.largestGB(objectOrder: 23) == 2_000_000)
        try ImageSizeLimit.check(1_000_000, objectOrder: 22)
        let refused = refusal { try ImageSizeLimit.check(1_000_001, objectOrder: 22) }
        #expect(refused?.kind == .invalid)
        #expect(refused?.message.contains("4 MiB objects") == true)
    }
}

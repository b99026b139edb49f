import Lifecycle
import VolumeEngine
import VolumeProtocol

/// The `volume.*` methods.
extension Dispatcher {
    /// `volume.create`
    func volumeCreate(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let source: VolumeSource?
        if let object = try p.object("source") {
            try object.allowOnly(["volume_id", "snapshot_id", "image_id"])
            switch (try object.id("volume_id"), try object.id("snapshot_id"), try object.id("image_id")) {
            case (let volume?, nil, nil): source = .volume(volume)
            case (nil, let snapshot?, nil): source = .snapshot(snapshot)
            case (nil, nil, let image?): source = .image(image)
            default: throw RPCError.invalidParams("volume.create: source needs exactly one of volume_id, snapshot_id and image_id")
            }
        } else {
            source = nil
        }
        let accepted = try await engine.createVolume(
            sizeGB: try p.requiredInt("size_gb", in: 1...maximumSizeGB), name: try p.name("name"), source: source,
            pool: try p.poolName("pool"), multiattach: try p.bool("multiattach") ?? false, idempotencyKey: try p.idempotencyKey())
        return try await mutation(accepted, wait: try p.bool("wait") ?? false)
    }

    /// `volume.delete`
    func volumeDelete(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let accepted = try await engine.deleteVolume(id: try p.requiredID("volume_id"), force: try p.bool("force") ?? false)
        return try await mutation(accepted, wait: try p.bool("wait") ?? false)
    }

    /// `volume.revert`
    func volumeRevert(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let accepted = try await engine.revertVolume(
            id: try p.requiredID("volume_id"), snapshotID: try p.requiredID("snapshot_id"), force: try p.bool("force") ?? false)
        return try await mutation(accepted, wait: try p.bool("wait") ?? false)
    }

    /// `volume.attach`
    func volumeAttach(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let id = try p.requiredID("volume_id")
        guard let connector = try p.object("connector") else { throw RPCError.invalidParams("volume.attach: connector is required") }
        guard let host = try connector.name("host") else { throw RPCError.invalidParams("volume.attach: connector.host is required") }
        let (attachment, details) = try await engine.attachVolume(id: id, host: host, connector: connector.json())
        let volume = try await engine.volume(id: id)
        return AttachResult(attachment: Attachment(attachment), connectionInfo: ConnectionInfo(data: details), volume: Volume(volume))
    }

    /// `volume.detach`
    func volumeDetach(_ request: Request) async throws -> any Encodable & Sendable {
        Volume(try await engine.detachVolume(id: try request.params.requiredID("volume_id"), attachmentID: try request.params.requiredID("attachment_id")))
    }

    /// `volume.manage`
    func volumeManage(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let accepted = try await engine.manageVolume(
            pool: try p.poolName("pool"), image: try p.rbdName("rbd_image"), name: try p.name("name"))
        return try await mutation(accepted, wait: try p.bool("wait") ?? false)
    }

    /// `volume.unmanage`
    func volumeUnmanage(_ request: Request) async throws -> any Encodable & Sendable {
        try await mutation(try await engine.unmanageVolume(id: try request.params.requiredID("volume_id")), wait: try request.params.bool("wait") ?? false)
    }

    /// `volume.undelete`
    func volumeUndelete(_ request: Request) async throws -> any Encodable & Sendable {
        try await mutation(try await engine.undeleteVolume(id: try request.params.requiredID("volume_id")), wait: try request.params.bool("wait") ?? false)
    }

    /// `volume.extend`
    func volumeExtend(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let accepted = try await engine.extendVolume(
            id: try p.requiredID("volume_id"), sizeGB: try p.requiredInt("size_gb", in: 1...maximumSizeGB))
        return try await mutation(accepted, wait: try p.bool("wait") ?? false)
    }

    /// `volume.flatten`
    func volumeFlatten(_ request: Request) async throws -> any Encodable & Sendable {
        try await mutation(try await engine.flattenVolume(id: try request.params.requiredID("volume_id")), wait: try request.params.bool("wait") ?? false)
    }

    /// `volume.get`
    func volumeGet(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let id = try p.requiredID("volume_id")
        let (volume, attachments) = try await engine.volumeWithAttachments(id: id)
        return Volume(volume, attachments: attachments)
    }

    /// `volume.list`
    func volumeList(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        if try p.bool("deleted") == true {
            // What deferred deletion keeps: few rows, soonest to go first, with their purge_at.
            for paging in ["limit", "marker", "paged"] where p.has(paging) {
                throw RPCError.invalidParams("volume.list: \(paging) does not go with deleted")
            }
            return try await engine.deferredDeletions().map { Volume($0) }
        }
        // Oldest first; `limit` and `marker` (the last id of the previous page) page through it as
        // Cinder's API does. No reply holds more than max_list_limit volumes: with `paged`, the
        // reply is {volumes, next_marker} and next_marker is null on the last page.
        let cap = configuration().maxListLimit
        let pageSize = min(try p.int("limit", in: 1...1_000_000) ?? cap, cap)
        let paged = try p.bool("paged") ?? false
        // Written row by row as the cursor goes (no array of records or of volumes); one row
        // past the page says whether there is more.
        let page = try await engine.foldVolumes(after: try p.id("marker"), limit: pageSize + 1, into: VolumePageWriter(size: pageSize)) {
            $0.add($1)
        }
        return WrittenJSON(paged ? page.object() : page.array())
    }

    /// `volume.usage`
    func volumeUsage(_ request: Request) async throws -> any Encodable & Sendable {
        try await engine.volumeUsage(id: try request.params.requiredID("volume_id"))
    }
}

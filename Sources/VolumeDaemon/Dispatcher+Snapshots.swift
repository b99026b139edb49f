import Lifecycle
import VolumeEngine
import VolumeProtocol

/// The `snapshot.*` methods.
extension Dispatcher {
    /// `snapshot.create`
    func snapshotCreate(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let accepted = try await engine.createSnapshot(
            volumeID: try p.requiredID("volume_id"), name: try p.name("name"), idempotencyKey: try p.idempotencyKey())
        return try await mutation(accepted, wait: try p.bool("wait") ?? false)
    }

    /// `snapshot.delete`
    func snapshotDelete(_ request: Request) async throws -> any Encodable & Sendable {
        try await mutation(try await engine.deleteSnapshot(id: try request.params.requiredID("snapshot_id")), wait: try request.params.bool("wait") ?? false)
    }

    /// `snapshot.get`
    func snapshotGet(_ request: Request) async throws -> any Encodable & Sendable {
        Snapshot(try await engine.snapshot(id: try request.params.requiredID("snapshot_id")))
    }

    /// `snapshot.list`
    func snapshotList(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let volumeID = try p.id("volume_id")
        return try await engine.snapshots(volumeID: volumeID).map(Snapshot.init)
    }
}

import Testing
import VolumeClient
import VolumeProtocol

extension VolumeClient {
    /// `volume.create` with `params` (`size_gb` at least), waited for; the new volume.
    public func createdVolume(_ params: [String: JSONValue]) async throws -> Volume {
        var params = params
        params["wait"] = .bool(true)
        return try #require(try await call("volume.create", .object(params), as: MutationResult.self).volume)
    }
}

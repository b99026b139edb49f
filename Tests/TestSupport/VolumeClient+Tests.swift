import Foundation
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

extension VolumeClient {
    /// Uploads `file` as a new image (waited for); the job and the image.
    public func uploadedImage(_ file: String, _ params: [String: JSONValue] = [:]) async throws -> MutationResult {
        var params = params
        params["wait"] = .bool(true)
        return try Self.decoded(try await upload(file: file, "image.create", params), as: MutationResult.self)
    }

    /// Exports image `id` (or a range of it) into `file`; the job.
    public func exportedImage(_ id: String, to file: String, _ params: [String: JSONValue] = [:]) async throws -> MutationResult {
        var params = params
        params["image_id"] = .string(id)
        return try Self.decoded(try await download("image.export", params, to: file), as: MutationResult.self)
    }

    /// A reply's result as `T`, or its error thrown.
    public static func decoded<T: Decodable>(_ response: RPCResponse, as type: T.Type) throws -> T {
        if let error = response.error { throw error }
        return try JSONDecoder.volumed().decode(T.self, from: JSONEncoder.volumed().encode(response.result ?? .null))
    }
}

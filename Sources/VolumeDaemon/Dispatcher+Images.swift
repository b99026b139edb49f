import Lifecycle
import VolumeEngine
import VolumeProtocol

/// The `image.*` methods (the image store).
extension Dispatcher {
    /// `image.create`
    func imageCreate(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let accepted = try await engine.createImage(
            name: try p.name("name"), path: try p.requiredString("path"),
            sizeBytes: try p.int("size_bytes", in: 0...(maximumSizeGB << 30)).map(Int64.init))
        return try await imageMutation(accepted, wait: try p.bool("wait") ?? false)
    }

    /// `image.get`
    func imageGet(_ request: Request) async throws -> any Encodable & Sendable {
        Image(try await engine.image(id: try request.params.requiredID("image_id")))
    }

    /// `image.list`
    func imageList(_ request: Request) async throws -> any Encodable & Sendable {
        try await engine.images().map(Image.init)
    }

    /// `image.export`
    func imageExport(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let accepted = try await engine.exportImage(
            id: try p.requiredID("image_id"), path: try p.requiredString("path"),
            offset: Int64(try p.int("offset", in: 0...(maximumSizeGB << 30)) ?? 0),
            length: try p.int("length", in: 0...(maximumSizeGB << 30)).map(Int64.init))
        return try await imageMutation(accepted, wait: try p.bool("wait") ?? false)
    }

    /// `image.delete`
    func imageDelete(_ request: Request) async throws -> any Encodable & Sendable {
        try await imageMutation(try await engine.deleteImage(id: try request.params.requiredID("image_id")), wait: try request.params.bool("wait") ?? false)
    }
}

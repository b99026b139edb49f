import Lifecycle
import VolumeEngine
import VolumeProtocol

/// The `image.*` methods (the image store). Image data travels on the client's connection
/// (`upload`/`download: "stream"`): volumed never opens a path a client names.
extension Dispatcher {
    /// `image.create`: `upload.ready`, then the client's chunks, then the reply; with `source`,
    /// a copy of a volume or snapshot made in the cluster.
    func imageCreate(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        if let object = try p.object("source") {
            try object.allowOnly(["volume_id", "snapshot_id"])
            let source: ImageSource = switch (try object.id("volume_id"), try object.id("snapshot_id")) {
            case (let volume?, nil): .volume(volume)
            case (nil, let snapshot?): .snapshot(snapshot)
            default: throw RPCError.invalidParams("image.create: source needs exactly one of volume_id and snapshot_id")
            }
            for upload in ["upload", "size_bytes", "path"] where p.has(upload) {
                throw RPCError.invalidParams("image.create: \(upload) is for an upload; with source the data is copied from the cluster")
            }
            let accepted = try await engine.createImage(name: try p.name("name"), from: source)
            return try await imageMutation(accepted, wait: try p.bool("wait") ?? false)
        }
        let stream = try Self.stream(of: request, method: "image.create", key: "upload", how: Self.uploadHow)
        let settings = engine.settings
        let pipe = TransferPipe(idleTimeout: settings.uploadIdleTimeout)
        let accepted = try await engine.createImage(
            name: try p.name("name"), sizeBytes: try p.int("size_bytes", in: 0...(maximumSizeGB << 30)).map(Int64.init), upload: pipe)
        let ready = RPCNotification(method: UploadChunk.uploadReady, params: .object([
            "job_id": .string(accepted.job.id), "image_id": .string(accepted.image.id),
        ]))
        do {
            try await stream.receiveUpload(ready: ready, into: pipe)
        } catch {
            pipe.fail("the client went away before the upload began")
            throw error
        }
        // At once when the data is in; when the upload went wrong, the job's error.
        let wait = try p.bool("wait") ?? false
        return try await imageMutation(accepted, wait: wait || pipe.failed != nil)
    }

    /// `image.get`
    func imageGet(_ request: Request) async throws -> any Encodable & Sendable {
        Image(try await engine.image(id: try request.params.requiredID("image_id")))
    }

    /// `image.list`
    func imageList(_ request: Request) async throws -> any Encodable & Sendable {
        try await engine.images().map(Image.init)
    }

    /// `image.export`: `download.ready`, then the image's chunks, then the reply (the job's end).
    func imageExport(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let stream = try Self.stream(of: request, method: "image.export", key: "download", how: Self.downloadHow)
        let pipe = TransferPipe(idleTimeout: engine.settings.uploadIdleTimeout)
        let (accepted, length) = try await engine.exportImage(
            id: try p.requiredID("image_id"),
            offset: Int64(try p.int("offset", in: 0...(maximumSizeGB << 30)) ?? 0),
            length: try p.int("length", in: 0...(maximumSizeGB << 30)).map(Int64.init), download: pipe)
        let ready = RPCNotification(method: UploadChunk.downloadReady, params: .object([
            "job_id": .string(accepted.job.id), "length": .int(length),
        ]))
        try await stream.sendDownload(ready: ready, from: pipe)
        return try await imageMutation(accepted, wait: true)
    }

    /// `image.delete`
    func imageDelete(_ request: Request) async throws -> any Encodable & Sendable {
        try await imageMutation(try await engine.deleteImage(id: try request.params.requiredID("image_id")), wait: try request.params.bool("wait") ?? false)
    }

    private static let uploadHow =
        "send the image's bytes on this connection: {\"upload\": \"stream\"}, then after the upload.ready notification the data as chunks (docs/protocol.md; `volumectl image create FILE` does it)"
    private static let downloadHow =
        "receive the image's bytes on this connection: {\"download\": \"stream\"}, then after the download.ready notification the data as chunks (docs/protocol.md; `volumectl image export ID FILE` does it)"

    /// The connection a transfer runs on, after refusing a `path` (the daemon opens no file a
    /// client names) and anything but `"stream"`.
    private static func stream(of request: Request, method: String, key: String, how: String) throws -> ClientStream {
        if request.params.has("path") {
            throw RPCError.invalidParams("\(method) no longer takes a path (volumed opens no file a client names): \(how)")
        }
        guard let mode = try request.params.string(key) else {
            throw RPCError.invalidParams("\(method) needs \(key): \"stream\": \(how)")
        }
        guard mode == "stream" else {
            throw RPCError.invalidParams("\(key) must be \"stream\", got \"\(mode)\"")
        }
        guard let stream = request.stream else {
            throw RPCError.invalidParams("\(method) streams its data and needs a socket connection")
        }
        return stream
    }
}

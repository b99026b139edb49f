import ArgumentParser
import Foundation
import Synchronization
import VolumeClient
import VolumeProtocol

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Upload, list, export and delete images (the image store).",
        subcommands: [Create.self, List.self, Show.self, Export.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload a raw image: volumectl reads FILE (or standard input for -) and sends its bytes to volumed; or copy one from a volume or snapshot.",
            discussion: "With --from-volume or --from-snapshot there is no FILE: volumed makes a flat copy in the cluster (a volume may stay attached).")
        @OptionGroup var options: JobOptions
        @Argument(help: "The raw image file, read with your own rights; - for standard input.") var file: String?
        @Option(help: "A name for people.") var name: String?
        @Option(name: .customLong("size-bytes"), help: "The size, checked against the data (default: whatever the file holds).") var sizeBytes: Int?
        @Option(name: .customLong("from-volume"), help: "Copy this volume (by id) instead of uploading a file.") var fromVolume: String?
        @Option(name: .customLong("from-snapshot"), help: "Copy this snapshot (by id) instead of uploading a file.") var fromSnapshot: String?

        func validate() throws {
            switch (file, fromVolume, fromSnapshot) {
            case (_?, nil, nil), (nil, _?, nil), (nil, nil, _?): break
            case (nil, nil, nil): throw ValidationError("give a FILE to upload, or --from-volume ID or --from-snapshot ID")
            default: throw ValidationError("give one of FILE, --from-volume and --from-snapshot")
            }
            if sizeBytes != nil, file == nil { throw ValidationError("--size-bytes is for an upload") }
        }

        func run() async throws {
            if let fromVolume {
                return try await options.submit("image.create", parameters([
                    "name": .given(name), "source": .object(["volume_id": .string(fromVolume)]),
                ]))
            }
            if let fromSnapshot {
                return try await options.submit("image.create", parameters([
                    "name": .given(name), "source": .object(["snapshot_id": .string(fromSnapshot)]),
                ]))
            }
            let file = self.file ?? "-"
            let client = try options.global.connect()
            let size = file == "-" ? nil : (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.uint64Value
            let progress = ByteProgress("upload", total: size)
            let params = parameters(["name": .given(name), "size_bytes": .given(sizeBytes), "wait": .bool(options.wait)])
            let response: RPCResponse
            do {
                response = try await client.upload(file: file, "image.create", params, sent: { progress.update($0) })
            } catch {
                progress.end()
                throw Output.fail(error)
            }
            progress.end()
            try Output.mutation(try Output.result(response, as: MutationResult.self), json: options.global.json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List images.")
        @OptionGroup var global: GlobalOptions

        func run() async throws { try await global.show("image.list", as: [Image].self, with: Output.images) }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one image.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The image's id.") var image: String

        func run() async throws {
            try await global.show("image.get", ["image_id": .string(image)], as: Image.self) { $1 ? try Output.images([$0], json: true) : try Output.fields($0) }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download an image's data: volumed sends it and volumectl writes FILE (or standard output for -).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The image's id.") var image: String
        @Argument(help: "The file to write, with your own rights (holes stay holes); - for standard output.") var file: String
        @Option(help: "First byte.") var offset: Int?
        @Option(help: "Bytes to write (default: to the end).") var length: Int?

        func run() async throws {
            let client = try global.connect()
            let progress = ByteProgress("export", total: nil)
            let params = parameters(["image_id": .string(image), "offset": .given(offset), "length": .given(length)])
            let response: RPCResponse
            do {
                response = try await client.download("image.export", params, to: file, ready: { ready in
                    if case .object(let fields) = ready, case .int(let length)? = fields["length"] {
                        progress.total.withLock { $0 = UInt64(max(0, length)) }
                    }
                }, received: { progress.update($0) })
            } catch {
                progress.end()
                throw Output.fail(error)
            }
            progress.end()
            let result = try Output.result(response, as: MutationResult.self)
            // The data went to standard output: the summary goes to standard error.
            if file == "-" {
                FileHandle.standardError.write(Data("job \(result.job.id) \(result.job.state)\(result.job.note.map { " (\($0))" } ?? "")\n".utf8))
            } else {
                try Output.mutation(result, json: global.json)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an image (refused while clones of it exist).")
        @OptionGroup var options: JobOptions
        @Argument(help: "The image's id.") var image: String

        func run() async throws { try await options.submit("image.delete", ["image_id": .string(image)]) }
    }
}

import ArgumentParser
import Foundation
import VolumeProtocol

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Upload, list, export and delete images (the image store).",
        subcommands: [Create.self, List.self, Show.self, Export.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Upload a raw image file the daemon can read.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var waiting: WaitOptions
        @Argument(help: "The raw image file (the daemon reads it: give a path it may read).") var file: String
        @Option(help: "A name for people.") var name: String?
        @Option(name: .customLong("size-bytes"), help: "The size, checked against the data (default: whatever the file holds).") var sizeBytes: Int?

        func run() async throws {
            let client = try global.connect()
            let path = URL(fileURLWithPath: file).standardizedFileURL.path
            var params: [String: JSONValue] = ["path": .string(path)]
            if let name { params["name"] = .string(name) }
            if let sizeBytes { params["size_bytes"] = .int(Int64(sizeBytes)) }
            try Output.mutation(try await JobProgress.submit(client, "image.create", params, wait: waiting.wait, json: global.json), json: global.json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List images.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try Output.images(try await global.connect().run("image.list", as: [Image].self), json: global.json)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one image.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The image's id.") var image: String

        func run() async throws {
            try Output.images([try await global.connect().run("image.get", ["image_id": .string(image)], as: Image.self)], json: global.json)
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write an image's data to a file the daemon may write.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var waiting: WaitOptions
        @Argument(help: "The image's id.") var image: String
        @Argument(help: "The file to write.") var file: String
        @Option(help: "First byte.") var offset: Int?
        @Option(help: "Bytes to write (default: to the end).") var length: Int?

        func run() async throws {
            let client = try global.connect()
            var params: [String: JSONValue] = ["image_id": .string(image), "path": .string(URL(fileURLWithPath: file).standardizedFileURL.path)]
            if let offset { params["offset"] = .int(Int64(offset)) }
            if let length { params["length"] = .int(Int64(length)) }
            try Output.mutation(try await JobProgress.submit(client, "image.export", params, wait: waiting.wait, json: global.json), json: global.json)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an image (refused while clones of it exist).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var waiting: WaitOptions
        @Argument(help: "The image's id.") var image: String

        func run() async throws {
            let client = try global.connect()
            try Output.mutation(try await JobProgress.submit(client, "image.delete", ["image_id": .string(image)], wait: waiting.wait, json: global.json), json: global.json)
        }
    }
}

import ArgumentParser
import Foundation
import VolumeProtocol

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Upload, list, export and delete images (the image store).",
        subcommands: [Create.self, List.self, Show.self, Export.self, Delete.self])

    /// The daemon opens the file: it gets an absolute path.
    static func absolute(_ file: String) -> JSONValue { .string(URL(fileURLWithPath: file).standardizedFileURL.path) }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Upload a raw image file the daemon can read.")
        @OptionGroup var options: JobOptions
        @Argument(help: "The raw image file (the daemon reads it: give a path it may read).") var file: String
        @Option(help: "A name for people.") var name: String?
        @Option(name: .customLong("size-bytes"), help: "The size, checked against the data (default: whatever the file holds).") var sizeBytes: Int?

        func run() async throws {
            try await options.submit(
                "image.create", parameters(["path": absolute(file), "name": .given(name), "size_bytes": .given(sizeBytes)]))
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
            try await global.show("image.get", ["image_id": .string(image)], as: Image.self) { try Output.images([$0], json: $1) }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write an image's data to a file the daemon may write.")
        @OptionGroup var options: JobOptions
        @Argument(help: "The image's id.") var image: String
        @Argument(help: "The file to write.") var file: String
        @Option(help: "First byte.") var offset: Int?
        @Option(help: "Bytes to write (default: to the end).") var length: Int?

        func run() async throws {
            try await options.submit("image.export", parameters([
                "image_id": .string(image), "path": absolute(file), "offset": .given(offset), "length": .given(length),
            ]))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an image (refused while clones of it exist).")
        @OptionGroup var options: JobOptions
        @Argument(help: "The image's id.") var image: String

        func run() async throws { try await options.submit("image.delete", ["image_id": .string(image)]) }
    }
}

import Foundation
import Testing
import VolumeProtocol

/// The hand-written JSON of big replies must be exactly what `JSONEncoder.volumed()` writes.
@Suite struct JSONWriterTests {
    static let created = Date(timeIntervalSince1970: 1_795_000_000.75)

    static let volumes: [Volume] = [
        Volume(id: "a", name: "", sizeGB: 1, status: "available", pool: "volumes", rbdImage: "volume-a",
               parent: nil, source: nil, cloneDepth: 0, createdAt: created, updatedAt: created),
        Volume(id: "b", name: "db \"main\" \\ /srv\n\t\u{1}é✓", sizeGB: 4096, status: "in-use", pool: "vms", rbdImage: "volume-b",
               parent: .init(volumeID: "a", rbdSnapshot: "volume-b.clone_snap"), source: .volume("a"), cloneDepth: 1,
               multiattach: true, attachmentCount: 2,
               attachments: [Attachment(id: "x", volumeID: "b", host: "compute-1", createdAt: created)],
               createdAt: created, updatedAt: created.addingTimeInterval(86_400 * 400)),
        Volume(id: "c", name: "boot", sizeGB: 20, status: "available", pool: "vms", rbdImage: "volume-c",
               parent: .init(volumeID: nil, imageID: "i", rbdSnapshot: "snap"), source: .image("i"), cloneDepth: 1,
               attachments: [], createdAt: Date(timeIntervalSince1970: 0), updatedAt: created),
        Volume(id: "d", name: "s", sizeGB: 2, status: "error", pool: "volumes", rbdImage: "volume-d",
               parent: nil, source: .snapshot("s1"), cloneDepth: 0, createdAt: created, updatedAt: created),
        Volume(id: "e", name: "m", sizeGB: 3, status: "available", pool: "volumes", rbdImage: "m",
               parent: nil, source: .managed, cloneDepth: 0, createdAt: created, updatedAt: created),
    ]

    @Test func volumesMatchTheEncoder() throws {
        for volume in Self.volumes {
            var writer = JSONWriter()
            volume.write(to: &writer)
            let expected = try JSONEncoder.volumed().encode(volume)
            #expect(String(decoding: writer.bytes, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        }
    }

    @Test func listsMatchTheEncoderAndDecodeBack() throws {
        var writer = JSONWriter()
        Self.volumes.write(to: &writer)
        #expect(Data(writer.bytes) == (try JSONEncoder.volumed().encode(Self.volumes)))
        #expect(try JSONDecoder.volumed().decode([Volume].self, from: Data(writer.bytes)).map(\.id) == ["a", "b", "c", "d", "e"])

        var empty = JSONWriter()
        [Volume]().write(to: &empty)
        #expect(empty.bytes == Array("[]".utf8))
    }

    @Test func integersOfEverySign() {
        for value in [0, 7, -7, 1_234_567_890, Int.max, Int.min] {
            var writer = JSONWriter()
            writer.int(value)
            #expect(String(decoding: writer.bytes, as: UTF8.self) == String(value))
        }
    }
}

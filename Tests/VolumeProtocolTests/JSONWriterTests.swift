import Foundation
import Testing
import VolumeProtocol

/// The hand-written JSON of big replies must be exactly what `JSONEncoder.volumed()` writes.
@Suite struct JSONWriterTests {
    static let created = Date(timeIntervalSince1970: 1_795_000_000.75)

    static let volumes: [Volume] = {
        let a = VolumeRecord(id: "a", name: "", sizeGB: 1, status: .available, pool: "volumes", rbdImage: "volume-a", now: created)
        // Available with attachments: `in-use` on the wire.
        var b = VolumeRecord(
            id: "b", name: "db \"main\" \\ /srv\n\t\u{1}é✓", sizeGB: 4096, status: .available, pool: "vms", rbdImage: "volume-b",
            parentVolumeID: "a", parentSnapshot: "volume-b.clone_snap", sourceKind: .volume, sourceID: "a", cloneDepth: 1,
            multiattach: true, now: created)
        b.attachCount = 2
        b.updatedAt = created.addingTimeInterval(86_400 * 400)
        let attachment = AttachmentRecord(id: "x", volumeID: "b", host: "compute-1", connector: "{}", now: created)
        var c = VolumeRecord(
            id: "c", name: "boot", sizeGB: 20, status: .available, pool: "vms", rbdImage: "volume-c", parentSnapshot: "snap",
            sourceKind: .image, sourceID: "i", cloneDepth: 1, now: Date(timeIntervalSince1970: 0))
        c.parentImageID = "i"
        c.updatedAt = created
        let d = VolumeRecord(
            id: "d", name: "s", sizeGB: 2, status: .error, pool: "volumes", rbdImage: "volume-d", sourceKind: .snapshot, sourceID: "s1", now: created)
        let e = VolumeRecord(id: "e", name: "m", sizeGB: 3, status: .available, pool: "volumes", rbdImage: "m", sourceKind: .managed, now: created)
        // Deleted with deferred deletion: its purge_at is written.
        var f = VolumeRecord(id: "f", name: "kept", sizeGB: 1, status: .deleted, pool: "volumes", rbdImage: "volume-f", now: created)
        f.purgeAfter = created.addingTimeInterval(3_600)
        return [Volume(a), Volume(b, attachments: [attachment]), Volume(c, attachments: []), Volume(d), Volume(e), Volume(f)]
    }()

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
        #expect(try JSONDecoder.volumed().decode([Volume].self, from: Data(writer.bytes)).map(\.id) == ["a", "b", "c", "d", "e", "f"])

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

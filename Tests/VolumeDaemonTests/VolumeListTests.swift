import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// `volume.list` over the socket: everything in creation order by default, pages with Cinder's
/// `limit` and `marker`, the same JSON a decoder reads back, bad pages refused by name.
@Suite(.timeLimit(.minutes(5))) struct VolumeListTests {
    @Test func listsInOrderAndPagesWithLimitAndMarker() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        var created: [String] = []
        for index in 0..<5 {
            let result = try await client.call("volume.create", .object([
                "size_gb": .int(1), "name": .string("list \"\(index)\" é/\\"), "wait": .bool(true),
            ]), as: MutationResult.self)
            created.append(try #require(result.volume).id)
        }
        let deleted = created.removeLast()
        _ = try await client.call("volume.delete", .object(["volume_id": .string(deleted), "wait": .bool(true)]), as: MutationResult.self)

        let all = try await client.call("volume.list", as: [Volume].self)
        #expect(all.map(\.id) == created)
        #expect(all.map(\.name) == (0..<4).map { "list \"\($0)\" é/\\" })
        #expect(all.allSatisfy { $0.status == "available" && $0.sizeGB == 1 && $0.pool == daemon.pool })

        let first = try await client.call("volume.list", .object(["limit": .int(3)]), as: [Volume].self)
        #expect(first.map(\.id) == Array(created.prefix(3)))
        let rest = try await client.call("volume.list", .object(["limit": .int(3), "marker": .string(first[2].id)]), as: [Volume].self)
        #expect(rest.map(\.id) == [created[3]])
        let none = try await client.call("volume.list", .object(["marker": .string(created[3])]), as: [Volume].self)
        #expect(none.isEmpty)

        let gone = try await client.call("volume.list", .object(["marker": .string(deleted)]))
        #expect(gone.error?.kind == .notFound)
        #expect(gone.error?.message.contains(deleted) == true)
        let zero = try await client.call("volume.list", .object(["limit": .int(0)]))
        #expect(zero.error?.code == -32602)
        #expect(zero.error?.message.contains("limit") == true)
        let unknown = try await client.call("volume.list", .object(["page": .int(2)]))
        #expect(unknown.error?.message.contains("page") == true)
    }
}

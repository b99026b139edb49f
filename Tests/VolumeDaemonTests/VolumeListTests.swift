import Foundation
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// `volume.list` over the socket: everything in creation order by default, pages with Cinder's
/// `limit` and `marker`, the same JSON a decoder reads back, bad pages refused by name.
@Suite(.timeLimit(.minutes(10))) struct VolumeListTests {
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

    /// No reply holds more than `max_list_limit` volumes, whatever `limit` asks; `paged` names the
    /// marker of the next page (null on the last), the pages together are the whole list, the
    /// limit applies on reload, and `volumectl volume list` follows the pages to the end.
    @Test func aLongListIsCappedAndPaged() async throws {
        let daemon = try await DaemonProcess.started(defaultExtra: "max_list_limit = 5")
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        var created: [String] = []
        for _ in 0..<12 { created.append(try await client.createdVolume(["size_gb": .int(1)]).id) }

        #expect(try await client.call("volume.list", as: [Volume].self).map(\.id) == Array(created.prefix(5)))
        #expect(try await client.call("volume.list", .object(["limit": .int(100)]), as: [Volume].self).count == 5)
        var pages: [VolumePage] = []
        var marker: String?
        repeat {
            var params: [String: JSONValue] = ["paged": .bool(true)]
            if let marker { params["marker"] = .string(marker) }
            let page = try await client.call("volume.list", .object(params), as: VolumePage.self)
            pages.append(page)
            marker = page.nextMarker
        } while marker != nil && pages.count < 10
        #expect(pages.map(\.volumes.count) == [5, 5, 2])
        #expect(pages.map(\.nextMarker) == [created[4], created[9], nil])
        #expect(pages.flatMap(\.volumes).map(\.id) == created)
        let small = try await client.call("volume.list", .object(["paged": .bool(true), "limit": .int(12)]), as: VolumePage.self)
        #expect(small.volumes.count == 5 && small.nextMarker == created[4], "limit never lifts the cap")

        try daemon.setOption("max_list_limit = 20")
        try await daemon.reload()
        let whole = try await client.call("volume.list", .object(["paged": .bool(true)]), as: VolumePage.self)
        #expect(whole.volumes.map(\.id) == created && whole.nextMarker == nil)
        try daemon.setOption("max_list_limit = 4")
        try await daemon.reload()

        let listed = try await ToolRun.run(
            (ProcessInfo.processInfo.environment["VOLUMED_BIN"] ?? ".build/debug") + "/volumectl",
            ["volume", "list", "--json", "--socket", daemon.socketPath])
        #expect(listed.status == 0, "\(listed.stderr)")
        let ids = (listed.json as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(ids == created, "volumectl follows every page")
    }
}

import Foundation
import TestSupport
import Testing
import VolumeProtocol

/// `rpc.discover` on a real daemon: the document it serves is the one the dispatcher's
/// definitions make, and every method it lists answers a call that matches it with a result
/// that matches it.
@Suite(.timeLimit(.minutes(10))) struct DiscoverTests {
    @Test func everyListedMethodAnswersAsTheDocumentSays() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let document = try #require(try await client.call("rpc.discover").result)
        #expect(document == OpenRPCDocument.make(version: "0.1.0"))
        let validator = SchemaValidator(document: document)
        let called = CalledMethods()

        /// Calls `method` (checking the request against the document first) and checks the
        /// reply's result, or the error when `mayFail`; returns the result.
        @discardableResult
        func call(_ method: String, _ params: [String: JSONValue] = [:], mayFail: Bool = false) async throws -> JSONValue {
            #expect(validator.problems(calling: method, params: .object(params)) == [], "request of \(method)")
            let reply = try await client.call(method, .object(params))
            return try check(method, reply, mayFail: mayFail)
        }
        func check(_ method: String, _ reply: RPCResponse, mayFail: Bool = false) throws -> JSONValue {
            called.add(method)
            if let error = reply.error {
                #expect(mayFail, "\(method) failed: \(error)")
                let encoded = try JSONDecoder().decode(JSONValue.self, from: try JSONEncoder().encode(error))
                #expect(validator.problems(error: encoded) == [], "error of \(method)")
                return .null
            }
            let result = try #require(reply.result)
            #expect(validator.problems(result: result, of: method) == [], "result of \(method)")
            return result
        }
        func id(_ value: JSONValue, _ path: String...) throws -> String {
            var current = value
            for key in path { current = try #require(current[key], "\(path) in \(value)") }
            guard case .string(let text) = current else { throw CancellationError() }
            return text
        }

        let a = try id(try await call("volume.create", ["size_gb": .int(1), "name": .string("a"), "wait": .bool(true)]), "volume", "id")
        let volumeA = JSONValue.string(a)
        try await call("volume.get", ["volume_id": volumeA])
        try await call("volume.list")
        try await call("volume.list", ["paged": .bool(true), "limit": .int(1)])
        try await call("volume.usage", ["volume_id": volumeA])
        try await call("volume.extend", ["volume_id": volumeA, "size_gb": .int(2), "wait": .bool(true)])
        let created = try await call("snapshot.create", ["volume_id": volumeA, "name": .string("s"), "wait": .bool(true)])
        let snapshot = JSONValue.string(try id(created, "snapshot", "id"))
        let job = JSONValue.string(try id(created, "job", "id"))
        try await call("snapshot.get", ["snapshot_id": snapshot])
        try await call("snapshot.list", ["volume_id": volumeA])
        let clone = try await call("volume.create", ["size_gb": .int(2), "source": .object(["snapshot_id": snapshot]), "wait": .bool(true)])
        let volumeB = JSONValue.string(try id(clone, "volume", "id"))
        let imageB = try id(clone, "volume", "rbd_image")
        try await call("volume.flatten", ["volume_id": volumeB, "wait": .bool(true)])
        try await call("volume.revert", ["volume_id": volumeA, "snapshot_id": snapshot, "wait": .bool(true)])
        let attached = try await call("volume.attach", ["volume_id": volumeA, "connector": .object(["host": .string("compute-1")])])
        try await call("volume.detach", ["volume_id": volumeA, "attachment_id": .string(try id(attached, "attachment", "id"))])
        try await call("volume.unmanage", ["volume_id": volumeB, "wait": .bool(true)])
        let managed = try await call("volume.manage", ["rbd_image": .string(imageB), "name": .string("b"), "wait": .bool(true)])
        let volumeC = JSONValue.string(try id(managed, "volume", "id"))

        try await call("job.get", ["job_id": job])
        try await call("job.wait", ["job_id": job])
        try await call("job.watch", ["job_id": job])
        try await call("job.list", ["volume_id": volumeA, "limit": .int(5)])
        // A live volume (and no deferred deletion here): refused in the document's terms.
        try await call("volume.undelete", ["volume_id": volumeA], mayFail: true)
        try await call("volume.list", ["deleted": .bool(true)])
        let schedule = try await call("schedule.create", ["volume_id": volumeA, "interval_s": .int(86_400), "keep": .int(1)])
        try await call("schedule.list", ["volume_id": volumeA])
        try await call("schedule.delete", ["schedule_id": .string(try id(schedule, "id"))])
        let backup = try await call("backup.create", ["volume_id": volumeA, "name": .string("b"), "wait": .bool(true)])
        let backupID = JSONValue.string(try id(backup, "backup", "id"))
        try await call("backup.get", ["backup_id": backupID])
        try await call("backup.list", ["volume_id": volumeA])
        let restore = try await call("backup.restore", ["backup_id": backupID, "wait": .bool(true)])
        try await call("backup.delete", ["backup_id": backupID, "wait": .bool(true)])
        _ = try await client.call("volume.delete", .object(["volume_id": .string(try id(restore, "volume", "id")), "wait": .bool(true)]))
        // Cancelled while queued, or refused once it has started or ended: either answer is the document's.
        let queued = try await call("volume.create", ["size_gb": .int(1)])
        try await call("job.cancel", ["job_id": .string(try id(queued, "job", "id"))], mayFail: true)
        _ = try await client.call("job.wait", .object(["job_id": .string(try id(queued, "job", "id"))]))

        let file = try TestFiles.rawImage(megabytes: 2)
        defer { unlink(file) }
        let uploaded = try check("image.create", try await client.upload(file: file, "image.create", ["name": .string("i"), "wait": .bool(true)]))
        let image = JSONValue.string(try id(uploaded, "image", "id"))
        try await call("image.get", ["image_id": image])
        try await call("image.list")
        let copy = file + ".copy"
        defer { unlink(copy) }
        _ = try check("image.export", try await client.download("image.export", ["image_id": image, "download": .string("stream")], to: copy))
        try await call("image.delete", ["image_id": image, "wait": .bool(true)])

        try await call("service.status")
        try await call("service.capacity")
        try await call("service.metrics")
        try await call("service.reconcile")
        try await call("rpc.discover")

        try await call("snapshot.delete", ["snapshot_id": snapshot, "wait": .bool(true)])
        for volume in [volumeC, volumeA] { try await call("volume.delete", ["volume_id": volume, "wait": .bool(true)]) }
        #expect(called.names == Set(validator.methodNames), "not called: \(Set(validator.methodNames).subtracting(called.names).sorted())")

        // volumectl prints the same document, and the metrics as text.
        let binary = (ProcessInfo.processInfo.environment["VOLUMED_BIN"] ?? ".build/debug") + "/volumectl"
        let printed = try await ToolRun.run(binary, ["--socket", daemon.socketPath, "discover"])
        #expect(printed.status == 0)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(printed.stdout.utf8)) == document)
        let metrics = try await ToolRun.run(binary, ["metrics", "--socket", daemon.socketPath])
        #expect(metrics.status == 0 && metrics.stdout.contains("# TYPE volumed_requests_total counter"), "\(metrics.stderr)")
    }
}

/// The methods a test has called.
final class CalledMethods: @unchecked Sendable {
    // Safety: used from one test task only.
    private(set) var names: Set<String> = []
    func add(_ name: String) { names.insert(name) }
}

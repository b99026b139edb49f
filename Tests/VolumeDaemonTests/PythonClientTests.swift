import Foundation
import TestSupport
import Testing
import VolumeProtocol

/// `clients/python/volumed.py` (standard library only) against the real daemon: a lifecycle
/// with `wait`, a watch, a streamed upload and export, typed errors; and its method table is
/// the daemon's own.
@Suite(.timeLimit(.minutes(10))) struct PythonClientTests {
    static let module = FileManager.default.currentDirectoryPath + "/clients/python"

    func python(_ script: String, socket: String) async throws -> ToolRun {
        let path = "/tmp/vd-py-\(UUID().uuidString.prefix(8)).py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await ToolRun.run("/usr/bin/python3", [path], environment: ["PYTHONPATH": Self.module, "VOLUMED_SOCKET": socket])
    }

    @Test func theMethodTableIsTheDaemons() async throws {
        let run = try await python("import json, volumed; print(json.dumps(volumed.METHODS))", socket: "/nonexistent")
        #expect(run.status == 0, "\(run.stderr)")
        let table = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: [String]])
        // The streamed methods send `upload`/`download` themselves; `path` is refused by the daemon.
        let streamOnly: Set<String> = ["upload", "download", "path"]
        for method in Method.allCases {
            #expect(table[method.rawValue].map(Set.init) == Set(method.parameters).subtracting(streamOnly), "\(method.rawValue)")
        }
        #expect(table.count == Method.allCases.count)
    }

    @Test func aLifecycleWithUploadWatchAndTypedErrors() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let file = try TestFiles.rawImage(megabytes: 9, extraBytes: 100)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let checksum = try await TestFiles.sha256(file)
        let run = try await python("""
            import hashlib, json, os, volumed
            out = {}
            with volumed.Client() as c:
                out["state"] = c.service_status()["state"]
                v = c.volume_create(size_gb=1, name="py", wait=True)["volume"]
                out["volume"] = v["status"]
                s = c.snapshot_create(volume_id=v["id"], wait=True)["snapshot"]
                job = c.volume_create(size_gb=1, source={"snapshot_id": s["id"]})["job"]
                out["watched"] = [e["state"] for e in c.job_watch(job["id"])][-1]
                out["listed"] = sorted(x["name"] for x in c.volume_list())
                image = c.image_upload("\(file)", name="pyimg", wait=True)["image"]
                out["checksum"] = image["checksum"]
                c.image_export(image["id"], "\(file).out")
                out["exported"] = hashlib.sha256(open("\(file).out", "rb").read()).hexdigest()
                os.unlink("\(file).out")
                try:
                    c.volume_get(volume_id="00000000-0000-0000-0000-000000000000")
                except volumed.NotFound as error:
                    out["not_found"] = [error.kind, error.code]
                try:
                    c.volume_create(size_gb=0)
                except volumed.InvalidParams as error:
                    out["invalid"] = error.kind
                try:
                    c.volume_get(volume="x")
                except TypeError as error:
                    out["typo"] = "volume_id" in str(error)
                out["deleted"] = c.image_delete(image_id=image["id"], wait=True)["job"]["state"]
            print(json.dumps(out))
            """, socket: daemon.socketPath)
        #expect(run.status == 0, "\(run.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
        #expect(out["state"] as? String == "ok")
        #expect(out["volume"] as? String == "available")
        #expect(out["watched"] as? String == "succeeded")
        #expect(out["listed"] as? [String] == ["", "py"])
        #expect(out["checksum"] as? String == checksum)
        #expect(out["exported"] as? String == checksum)
        #expect(out["not_found"] as? [AnyHashable] == ["not_found", -32000])
        #expect(out["invalid"] as? String == "invalid_params")
        #expect(out["typo"] as? Bool == true)
        #expect(out["deleted"] as? String == "succeeded")
    }
}

import Foundation
import TestSupport
import Testing

/// The real `volumectl` against the real daemon: JSON for scripts, exit codes, access control.
@Suite(.serialized, .timeLimit(.minutes(10))) final class VolumectlTests {
    let daemon: DaemonProcess

    init() async throws {
        // gid 65533 may change things; uid/gid 65534 (nobody) may only read.
        daemon = try await DaemonProcess(defaultExtra: "admin_groups = 65533")
        try await daemon.start()
        chmod(daemon.socketPath, 0o666)
    }

    deinit { daemon.cleanUp() }


    /// Runs volumectl, optionally as another user and group (setpriv, no supplementary groups).
    func volumectl(_ arguments: [String], as ids: (uid: Int, gid: Int)? = nil) async throws -> ToolRun {
        let binary = (ProcessInfo.processInfo.environment["VOLUMED_BIN"] ?? ".build/debug") + "/volumectl"
        let environment = ["VOLUMED_SOCKET": daemon.socketPath]
        guard let ids else { return try await ToolRun.run(binary, arguments, environment: environment) }
        return try await ToolRun.run(
            "/usr/bin/setpriv", ["--reuid=\(ids.uid)", "--regid=\(ids.gid)", "--clear-groups", binary] + arguments, environment: environment)
    }

    func id(_ result: ToolRun, _ key: String) -> String {
        ((result.json as? [String: Any])?[key] as? [String: Any])?["id"] as? String ?? ""
    }

    @Test func everyCommandPrintsParsableJSON() async throws {
        let created = try await volumectl(["volume", "create", "--size", "1", "--name", "j", "--wait", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let volume = id(created, "volume")
        let snapshot = try await volumectl(["snapshot", "create", volume, "--wait", "--json"])
        let snap = id(snapshot, "snapshot")
        let fromSnap = try await volumectl(["volume", "from-snapshot", snap, "--wait", "--json"])
        let clone = try await volumectl(["volume", "clone", volume, "--size", "2", "--wait", "--json"])
        let cloneID = id(clone, "volume")
        let commands: [[String]] = [
            ["status"], ["volume", "list"], ["volume", "show", volume], ["volume", "extend", cloneID, "--size", "3", "--wait"],
            ["volume", "flatten", cloneID, "--wait"], ["snapshot", "list"], ["snapshot", "list", "--volume", volume],
            ["snapshot", "show", snap], ["job", "list"], ["job", "list", "--volume", volume, "--limit", "2"],
        ]
        for result in [created, snapshot, fromSnap, clone] {
            #expect(result.status == 0 && result.json != nil)
        }
        for command in commands {
            let result = try await volumectl(command + ["--json"])
            #expect(result.status == 0, "\(command): \(result.stderr)")
            #expect(result.json != nil, "\(command) printed: \(result.stdout.prefix(200))")
        }
        let jobs = try #require(try await volumectl(["job", "list", "--json"]).json as? [[String: Any]])
        let jobID = try #require(jobs.first?["id"] as? String)
        #expect(try await volumectl(["job", "show", jobID, "--json"]).json != nil)
        #expect(try await volumectl(["job", "wait", jobID, "--json"]).json != nil)
        #expect(try await volumectl(["job", "cancel", jobID, "--json"]).status == 3, "a finished job cannot be cancelled: conflict")
        for target in [id(fromSnap, "volume"), cloneID, volume] {
            #expect(try await volumectl(["volume", "delete", target, "--wait", "--json"]).json != nil)
        }
        #expect(try await volumectl(["snapshot", "delete", snap, "--wait", "--json"]).status == 0)
        #expect(try await volumectl(["job", "wait", "--all"]).status == 0)
    }

    /// Backups, schedules and undelete through volumectl, as scripts use them (`--json`, exit codes).
    @Test func dataProtectionThroughVolumectl() async throws {
        let volume = id(try await volumectl(["volume", "create", "--size", "1", "--wait", "--json"]), "volume")
        let made = try await volumectl(["backup", "create", volume, "--name", "b", "--wait", "--json"])
        #expect(made.status == 0, "\(made.stderr)")
        let backup = id(made, "backup")
        #expect(((made.json as? [String: Any])?["backup"] as? [String: Any])?["parent_id"] is NSNull, "the first one is full")
        let again = try await volumectl(["backup", "create", volume, "--wait", "--json"])
        #expect(((again.json as? [String: Any])?["backup"] as? [String: Any])?["parent_id"] as? String == backup, "then incremental")
        let full = try await volumectl(["backup", "create", volume, "--full", "--wait", "--json"])
        #expect(((full.json as? [String: Any])?["backup"] as? [String: Any])?["parent_id"] is NSNull)
        #expect((try await volumectl(["backup", "list", "--volume", volume, "--json"]).json as? [[String: Any]])?.count == 3)
        #expect(try await volumectl(["backup", "show", backup, "--json"]).json != nil)
        let restored = try await volumectl(["backup", "restore", backup, "--wait", "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try await volumectl(["backup", "show", "00000000-0000-0000-0000-000000000000"]).status == 2)

        let schedule = try await volumectl(["schedule", "create", volume, "--interval", "86400", "--keep", "1", "--json"])
        #expect(schedule.status == 0, "\(schedule.stderr)")
        let tooOften = try await volumectl(["schedule", "create", volume, "--interval", "10", "--keep", "1"])
        #expect(tooOften.status != 0 && tooOften.stderr.contains("schedule_min_interval"), "\(tooOften.stderr)")
        #expect((try await volumectl(["schedule", "list", "--json"]).json as? [[String: Any]])?.count == 1)
        let scheduleID = (schedule.json as? [String: Any])?["id"] as? String ?? ""
        #expect(try await volumectl(["schedule", "delete", scheduleID, "--json"]).status == 0)

        #expect((try await volumectl(["volume", "list", "--deleted", "--json"]).json as? [Any])?.isEmpty == true)
        #expect(try await volumectl(["volume", "undelete", volume]).status == 3, "a live volume: conflict")
        for each in [backup, id(again, "backup"), id(full, "backup")] {
            #expect(try await volumectl(["backup", "delete", each, "--wait"]).status == 0)
        }
        for target in [id(restored, "volume"), volume] {
            #expect(try await volumectl(["volume", "delete", target, "--wait"]).status == 0)
        }
        #expect(try await volumectl(["job", "wait", "--all"]).status == 0)
    }

    /// `volumectl image create FILE|-` and `image export ID FILE|-`: volumectl reads and writes
    /// the files with the caller's rights (a file only its owner may read uploads; the daemon
    /// never opens it), with standard input and output too.
    @Test func imagesTravelThroughVolumectl() async throws {
        let file = try TestFiles.rawImage(megabytes: 5, extraBytes: 777)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let checksum = try await TestFiles.sha256(file)
        chown(file, 65534, 65533)
        chmod(file, 0o600)
        let created = try await volumectl(["image", "create", file, "--name", "own", "--wait", "--json"], as: (65534, 65533))
        #expect(created.status == 0, "\(created.stderr)")
        let image = id(created, "image")
        #expect(((created.json as? [String: Any])?["image"] as? [String: Any])?["checksum"] as? String == checksum)

        let binary = (ProcessInfo.processInfo.environment["VOLUMED_BIN"] ?? ".build/debug") + "/volumectl"
        let environment = ["VOLUMED_SOCKET": daemon.socketPath, "PATH": "/usr/bin:/bin"]
        let piped = try await ToolRun.run("/bin/sh", ["-c", "\(binary) image create - --wait --json < \(file)"], environment: environment)
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(((piped.json as? [String: Any])?["image"] as? [String: Any])?["checksum"] as? String == checksum)

        let out = "/tmp/vd-out-\(UUID().uuidString.prefix(8)).raw"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let exported = try await volumectl(["image", "export", image, out, "--json"])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(try await TestFiles.sha256(out) == checksum)
        let toStdout = try await ToolRun.run("/bin/sh", ["-c", "\(binary) image export \(image) - | sha256sum"], environment: environment)
        #expect(toStdout.stdout.hasPrefix(checksum), "\(toStdout.stderr)")
        let missing = try await volumectl(["image", "create", "/nonexistent/disk.raw"])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent/disk.raw"))

        // An image copied from a volume in the cluster: no file, the volume's bytes.
        let volume = id(try await volumectl(["volume", "create", "--size", "1", "--wait", "--json"]), "volume")
        let copied = try await volumectl(["image", "create", "--from-volume", volume, "--name", "copy", "--wait", "--json"])
        #expect(copied.status == 0, "\(copied.stderr)")
        let zeros = "49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14"   // sha256 of 1 GiB of zeros
        #expect(((copied.json as? [String: Any])?["image"] as? [String: Any])?["checksum"] as? String == zeros)
        let neither = try await volumectl(["image", "create", "--name", "x"])
        #expect(neither.status != 0 && neither.stderr.contains("--from-volume"), "\(neither.stderr)")
        let both = try await volumectl(["image", "create", file, "--from-volume", volume])
        #expect(both.status != 0 && both.stderr.contains("one of"), "\(both.stderr)")
        #expect(try await volumectl(["volume", "delete", volume, "--wait"]).status == 0)
        for target in [image, id(piped, "image"), id(copied, "image")] {
            #expect(try await volumectl(["image", "delete", target, "--wait"]).status == 0)
        }
    }

    /// Global options before the subcommand, as `ceph -c`, `kubectl --server`, `docker -H` take
    /// them; `show` prints field/value pairs, as `openstack volume show` does.
    @Test func globalOptionsGoBeforeOrAfterAndShowPrintsFields() async throws {
        let binary = (ProcessInfo.processInfo.environment["VOLUMED_BIN"] ?? ".build/debug") + "/volumectl"
        let created = try await volumectl(["volume", "create", "--size", "1", "--name", "fields", "--wait", "--json"])
        let volume = id(created, "volume")
        for arguments in [
            ["--socket", daemon.socketPath, "--json", "volume", "list"], ["--json", "--socket=\(daemon.socketPath)", "volume", "list"],
            ["volume", "list", "--socket", daemon.socketPath, "--json"], ["--socket", daemon.socketPath, "volume", "list", "--json"],
        ] {
            let listed = try await ToolRun.run(binary, arguments, environment: [:])
            #expect(listed.status == 0, "\(arguments): \(listed.stderr)")
            #expect((listed.json as? [[String: Any]])?.contains { $0["id"] as? String == volume } == true, "\(arguments)")
        }
        let shown = try await volumectl(["volume", "show", volume])
        let rows = shown.stdout.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(rows.first == ["FIELD", "VALUE"])
        #expect(rows.contains(["id", volume]) && rows.contains(["name", "fields"]) && rows.contains(["size_gb", "1"]))
        #expect(rows.contains(["status", "available"]))
        let fields = rows.dropFirst().map { $0[0] }
        #expect(fields == fields.sorted(), "fields in alphabetical order")
        // Scripts keep their JSON.
        #expect(try await volumectl(["volume", "show", volume, "--json"]).json != nil)
        // Usage, one volume or all.
        let usage = try await volumectl(["volume", "usage", volume, "--json"])
        #expect((usage.json as? [String: Any])?["provisioned_bytes"] as? Int == 1 << 30, "\(usage.stdout)")
        let all = try await volumectl(["volume", "usage", "--all"])
        #expect(all.status == 0 && all.stdout.contains(volume) && all.stdout.contains("1.0 GiB"), "\(all.stdout)")
        #expect(try await volumectl(["volume", "usage"]).status == 64, "an id or --all")
        // Lists filtered by status and by a name pattern.
        func names(_ arguments: [String]) async throws -> [String] {
            ((try await volumectl(["volume", "list", "--json"] + arguments).json as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
        }
        #expect(try await names(["--name", "fie*"]).contains("fields"))
        #expect(try await names(["--name", "nothing-like-*"]).isEmpty)
        #expect(try await names(["--status", "available", "--name", "f?elds"]) == ["fields"])
        #expect(try await names(["--status", "error", "--name", "fields"]).isEmpty)
        #expect(try await volumectl(["volume", "delete", volume, "--wait"]).status == 0)
    }

    @Test func exitCodesSayWhatWentWrong() async throws {
        let missing = UUID().uuidString.lowercased()
        #expect(try await volumectl(["volume", "show", missing]).status == 2)
        #expect(try await volumectl(["volume", "create"]).status == 64, "a missing --size is a usage error")
        #expect(try await volumectl(["volume", "show", "not-a-uuid"]).status == 64)
        let created = try await volumectl(["volume", "create", "--size", "2", "--wait", "--json"])
        let volume = id(created, "volume")
        let job = ((created.json as? [String: Any])?["job"] as? [String: Any])?["id"] as? String ?? ""
        #expect(try await volumectl(["job", "cancel", job]).status == 3, "a finished job cannot be cancelled: conflict")
        let shrink = try await volumectl(["volume", "extend", volume, "--size", "1"])
        #expect(shrink.status == 64)
        #expect(shrink.stderr.contains("volumes only grow"))
        let unreachable = try await DaemonProcess.run(
            (ProcessInfo.processInfo.environment["VOLUMED_BIN"] ?? ".build/debug") + "/volumectl",
            ["status", "--socket", "/nonexistent/volumed.sock"])
        #expect(unreachable.status == 69)
        _ = try await volumectl(["volume", "delete", volume, "--wait"])
    }

    @Test func usersOutsideTheAdminGroupsCanReadButNotChange() async throws {
        let list = try await volumectl(["volume", "list", "--json"], as: (65534, 65534))
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.json != nil)
        #expect(try await volumectl(["status"], as: (65534, 65534)).status == 0)
        let refused = try await volumectl(["volume", "create", "--size", "1"], as: (65534, 65534))
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("needs root or membership in one of admin_groups"))
        // Reconcile opens every image in the pools: a change for access, even without --fix.
        let reconcile = try await volumectl(["reconcile"], as: (65534, 65534))
        #expect(reconcile.status == 4, "\(reconcile.stderr)")
        let admin = try await volumectl(["volume", "create", "--size", "1", "--wait", "--json"], as: (65534, 65533))
        #expect(admin.status == 0, "a member of an admin group may change things: \(admin.stderr)")
        _ = try await volumectl(["volume", "delete", id(admin, "volume"), "--wait"])
    }
}

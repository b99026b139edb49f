import Foundation
import Glibc
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// Two hosts (two daemons with state folders of their own) on the same pools with
/// `state_store = rados`: one database in RADOS, held by the active daemon only.
@Suite(.serialized, .timeLimit(.minutes(10))) struct SharedDatabaseTests {
    static let lease = 6
    static let shared = "state_store = rados\ncluster_lock_lease = \(lease)"

    /// Two hosts on one pool: the first active with one volume made, the second standby.
    /// `runAs`: a uid (and its gid) the first daemon runs as, owning its folder.
    static func twoHosts(runAs owner: (uid: UInt32, gid: UInt32)? = nil) async throws -> (first: DaemonProcess, second: DaemonProcess, volume: Volume) {
        let first = try await DaemonProcess(defaultExtra: shared)
        if let owner {
            // Its own copy of the keyring (the cluster's is root's alone), in a folder it owns.
            let keyring = first.directory + "/keyring"
            try FileManager.default.copyItem(atPath: first.cluster.adminKeyring, toPath: keyring)
            let config = try String(contentsOfFile: first.configPath, encoding: .utf8)
            try config.replacingOccurrences(of: "rbd_keyring = \(first.cluster.adminKeyring)", with: "rbd_keyring = \(keyring)")
                .write(toFile: first.configPath, atomically: true, encoding: .utf8)
            guard system("chown -R \(owner.uid):\(owner.gid) \(first.directory)") == 0 else { throw Firewall.Failed(what: "chown") }
            first.wrapper = ["/usr/bin/setpriv", "--reuid=\(owner.uid)", "--regid=\(owner.gid)", "--clear-groups", "--"]
        }
        try await first.start()
        let volume = try #require(try await first.client().call(
            "volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self).volume)
        let second = try await DaemonProcess(defaultExtra: shared, pool: first.pool)
        try await second.start()
        return (first, second, volume)
    }

    /// Polls `client` until `service.status` says `state`; how long it took, or nil.
    static func waitForState(_ client: VolumeClient, _ state: String, within limit: Duration) async -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if let status = try? await client.call("service.status", as: ServiceStatus.self), status.state == state {
                return ContinuousClock.now - start
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    @Test func aStandbyTakesOverEverythingAndBackAgain() async throws {
        let first = try await DaemonProcess.started(defaultExtra: Self.shared)
        defer { first.cleanUp(keepPool: true) }
        let one = try first.client()
        let volume = try #require(try await one.call(
            "volume.create", .object(["size_gb": .int(1), "name": .string("db"), "wait": .bool(true)]), as: MutationResult.self).volume)
        try await first.cluster.fill(pool: first.pool, image: volume.rbdImage, megabytes: 96)
        let snapshot = try #require(try await one.call(
            "snapshot.create", .object(["volume_id": .string(volume.id), "wait": .bool(true)]), as: MutationResult.self).snapshot)
        let clone = try #require(try await one.call(
            "volume.create", .object(["size_gb": .int(1), "source": .object(["snapshot_id": .string(snapshot.id)]), "wait": .bool(true)]),
            as: MutationResult.self).volume)
        let copy = try #require(try await one.call(
            "volume.create", .object(["size_gb": .int(1), "source": .object(["volume_id": .string(volume.id)]), "wait": .bool(true)]),
            as: MutationResult.self).volume)
        let attachment = try await one.call("volume.attach", .object(["volume_id": .string(volume.id), "connector": .object(["host": .string("hv1")])]))
        #expect(attachment.error == nil, "\(attachment.error?.message ?? "")")

        // The second host: standby, and it says who is active instead of answering from a copy.
        let second = try await DaemonProcess.started(defaultExtra: Self.shared, pool: first.pool)
        defer { second.cleanUp() }
        let two = try second.client()
        let standby = try await two.call("service.status", as: ServiceStatus.self)
        #expect(standby.state == "standby")
        #expect(standby.stateStore == "rados")
        #expect(standby.holder?.pid == first.pid)
        for (method, params) in [("volume.list", [String: JSONValue]()), ("volume.get", ["volume_id": .string(volume.id)]),
                                 ("volume.create", ["size_gb": .int(1)]), ("job.list", [:])] {
            let refused = try await two.call(method, .object(params))
            #expect(refused.error?.kind == .standby, "\(method): \(String(describing: refused.error))")
            #expect(refused.error?.message.contains("pid \(first.pid ?? 0)") == true, "\(refused.error?.message ?? "")")
        }

        // A flatten running on the first when it dies: the second resumes it.
        let flatten = try await one.call("volume.flatten", .object(["volume_id": .string(clone.id)]), as: MutationResult.self)
        try await Task.sleep(for: .milliseconds(100))
        await first.kill()
        // A few seconds past the lease on a quiet machine; the margin is for a loaded CI host.
        let takeover = await Self.waitForState(two, "ok", within: .seconds(Self.lease + 10))
        #expect(takeover != nil, "took over within the lease plus 10 s: \(second.log.suffix(4000))")

        let volumes = try await two.call("volume.list", as: [Volume].self)
        #expect(Set(volumes.map(\.id)) == [volume.id, clone.id, copy.id])
        #expect(volumes.first { $0.id == volume.id }?.status == "in-use")
        let snapshots = try await two.call("snapshot.list", as: [Snapshot].self)
        #expect(snapshots.map(\.id) == [snapshot.id])
        let finished = try await two.call("job.wait", .object(["job_id": .string(flatten.job.id)]), as: Job.self)
        #expect(finished.state == "succeeded", "\(finished.error?.message ?? "")")
        let jobs = try await two.call("job.list", .object(["limit": .int(100)]), as: [Job].self)
        #expect(jobs.count >= 5, "the first daemon's job history is there")
        let delete = try await two.call("volume.delete", .object(["volume_id": .string(volume.id)]))
        #expect(delete.error?.kind == .inUse, "an attached volume is not deleted without force: \(String(describing: delete.error))")

        // Back the other way: the first comes back as standby; the second dies.
        let made = try #require(try await two.call(
            "volume.create", .object(["size_gb": .int(1), "name": .string("made-on-two"), "wait": .bool(true)]), as: MutationResult.self).volume)
        try await first.start()
        let oneAgain = try first.client()
        #expect(try await oneAgain.call("service.status", as: ServiceStatus.self).state == "standby")
        await second.kill()
        // On failure, the first daemon's story (this step failed now and then in busy runs).
        #expect(await Self.waitForState(oneAgain, "ok", within: .seconds(Self.lease + 10)) != nil, "\(first.log.suffix(4000))")
        let known = try await oneAgain.call("volume.list", as: [Volume].self)
        #expect(Set(known.map(\.id)) == [volume.id, clone.id, copy.id, made.id], "the first knows what the second made")

        // Delete everything: the pool, its trash and the database agree and are empty.
        _ = try await oneAgain.call("volume.delete", .object(["volume_id": .string(volume.id), "force": .bool(true), "wait": .bool(true)]))
        for id in [clone.id, copy.id, made.id] {
            let reply = try await oneAgain.call("volume.delete", .object(["volume_id": .string(id), "wait": .bool(true)]))
            #expect(reply.error == nil, "\(reply.error?.message ?? "")")
        }
        _ = try await oneAgain.call("snapshot.delete", .object(["snapshot_id": .string(snapshot.id), "wait": .bool(true)]))
        try await Invariants.settle(first)
        #expect(try await oneAgain.call("volume.list", as: [Volume].self).isEmpty)
        await first.terminate()
        let problems = try await Invariants.check(first)
        #expect(problems.isEmpty, "\(problems)")
        let (images, trash) = try await first.cluster.contents(of: first.pool)
        #expect(images.isEmpty && trash.isEmpty, "pool \(images), trash \(trash)")
    }

    /// `volumed rebuild-state` on the shared database: lost from RADOS, rebuilt from the tags,
    /// and recorded as the database that runs jobs now.
    @Test func rebuildStateRebuildsTheSharedDatabase() async throws {
        let daemon = try await DaemonProcess.started(defaultExtra: Self.shared)
        defer { daemon.cleanUp() }
        let client = try daemon.client()
        let volume = try #require(try await client.call(
            "volume.create", .object(["size_gb": .int(1), "name": .string("kept"), "wait": .bool(true)]), as: MutationResult.self).volume)
        await daemon.terminate()
        // The database's objects in its namespace go (a lost database).
        let objects = try await daemon.cluster.rados(["-p", daemon.pool, "-N", "volumed", "ls"]).split(separator: "\n").map(String.init)
        #expect(objects.contains { $0.hasPrefix("volumed.db") }, "\(objects)")
        for object in objects where object.hasPrefix("volumed.db") {
            _ = try await daemon.cluster.rados(["-p", daemon.pool, "-N", "volumed", "rm", object])
        }
        let rebuilt = try await daemon.runTool(["rebuild-state"])
        #expect(rebuilt.status == 0, "\(rebuilt.output)")
        #expect(rebuilt.output.contains("rados://"), "\(rebuilt.output)")
        try await daemon.start()
        let again = try daemon.client()
        #expect(try await again.call("service.status", as: ServiceStatus.self).state == "ok")
        let volumes = try await again.call("volume.list", as: [Volume].self)
        #expect(volumes.map(\.id) == [volume.id] && volumes.first?.name == "kept")
    }

    /// SIGSTOP past the lease (the classic paused process) while the standby takes over; after
    /// SIGCONT the old daemon never answers as active again and exits for a restart.
    @Test func aFrozenActiveDaemonFencesItselfWhenItWakes() async throws {
        let (first, second, volume) = try await Self.twoHosts()
        defer { first.cleanUp(keepPool: true) }
        defer { second.cleanUp() }
        let (one, two) = (try first.client(), try second.client())

        // Jobs queued on the first just before it freezes: whoever runs them, they run once.
        let extend = try await one.call("volume.extend", .object(["volume_id": .string(volume.id), "size_gb": .int(2)]), as: MutationResult.self)
        first.signal(SIGSTOP)
        #expect(await Self.waitForState(two, "ok", within: .seconds(Self.lease + 10)) != nil)
        first.signal(SIGCONT)
        // Awake: it may answer a moment while it fences itself, but never as active.
        let deadline = ContinuousClock.now + .seconds(5)
        var answeredActive = false
        while ContinuousClock.now < deadline {
            if let status = try? await one.call("service.status", as: ServiceStatus.self), status.state == "ok" { answeredActive = true }
            if let reply = try? await one.call("volume.create", .object(["size_gb": .int(1)])), reply.error == nil { answeredActive = true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        #expect(!answeredActive)
        let status = await first.waitForExit(within: .seconds(5))
        #expect(status == 75, "exit status \(String(describing: status))")
        #expect(first.log.contains("self-fencing"))

        let done = try await two.call("job.wait", .object(["job_id": .string(extend.job.id)]), as: Job.self)
        #expect(done.state == "succeeded")
        #expect(try await two.call("volume.get", .object(["volume_id": .string(volume.id)]), as: Volume.self).sizeGB == 2)
        _ = try await two.call("volume.delete", .object(["volume_id": .string(volume.id), "wait": .bool(true)]))
        try await Invariants.settle(second)
        await second.terminate()
        #expect(try await Invariants.check(second).isEmpty)
    }

    /// A daemon cut off from the cluster by a firewall rule on loopback (its uid's packets
    /// dropped): it fences itself within its deadline; the standby takes over; nothing of the
    /// cut-off daemon reaches the cluster afterwards, and it never answers as active again.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables")))
    func aDaemonCutOffFromTheClusterFencesItself() async throws {
        let owner = try Firewall.user()
        let (first, second, volume) = try await Self.twoHosts(runAs: owner)
        defer { first.cleanUp(keepPool: true) }
        defer { second.cleanUp() }
        let two = try second.client()

        try Firewall.cut(uid: owner.uid)
        defer { try? Firewall.restore(uid: owner.uid) }
        let fenced = ContinuousClock.now
        let status = await first.waitForExit(within: .seconds(Self.lease + 5))
        #expect(status == 75, "the cut-off daemon exits within its deadline (status \(String(describing: status)), after \(ContinuousClock.now - fenced))")
        #expect(first.log.contains("self-fencing"))
        #expect(await Self.waitForState(two, "ok", within: .seconds(Self.lease + 10)) != nil)
        let snapshot = try await two.call("snapshot.create", .object(["volume_id": .string(volume.id), "wait": .bool(true)]), as: MutationResult.self)
        #expect(snapshot.job.state == "succeeded")

        // Reconnected and restarted (as systemd would), it is a standby behind the new holder.
        try Firewall.restore(uid: owner.uid)
        try await first.start()
        #expect(try await first.client().call("service.status", as: ServiceStatus.self).state == "standby")
        await first.terminate()
        _ = try await two.call("snapshot.delete", .object(["snapshot_id": .string(snapshot.snapshot?.id ?? ""), "wait": .bool(true)]))
        _ = try await two.call("volume.delete", .object(["volume_id": .string(volume.id), "wait": .bool(true)]))
        try await Invariants.settle(second)
        await second.terminate()
        #expect(try await Invariants.check(second).isEmpty)
    }
}

/// A loopback firewall rule that drops the TCP packets of processes of one user: a daemon cut
/// off from the cluster while everything else on the host still reaches it.
enum Firewall {
    static let userName = "volumed-cut"

    /// The (system) user the cut-off daemon runs as, made if needed.
    static func user() throws -> (uid: UInt32, gid: UInt32) {
        _ = system("""
            getent group \(userName) >/dev/null || groupadd --system \(userName); \
            getent passwd \(userName) >/dev/null || useradd --system --no-create-home -g \(userName) \(userName)
            """)
        guard let entry = getpwnam(userName) else { throw Failed(what: "no user \(userName)") }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    static func cut(uid: UInt32) throws { try iptables("-A", uid) }
    static func restore(uid: UInt32) throws {
        while system("/usr/sbin/iptables -C \(rule(uid)) 2>/dev/null") == 0 { try iptables("-D", uid) }
    }

    private static func rule(_ uid: UInt32) -> String { "OUTPUT -o lo -p tcp -m owner --uid-owner \(uid) -j DROP" }

    private static func iptables(_ action: String, _ uid: UInt32) throws {
        guard system("/usr/sbin/iptables \(action) \(rule(uid))") == 0 else { throw Failed(what: "iptables \(action)") }
    }

    struct Failed: Error { let what: String }
}

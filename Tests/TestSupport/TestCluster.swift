import Foundation
import Glibc
import Lifecycle
import Logging
import RBD
import Synchronization
import Testing
import VolumeStore

/// The dev cluster the test command started (`VOLUMED_TEST_CLUSTER` is its folder).
/// Each test that counts images works in a pool of its own, so tests can run in parallel.
public struct TestCluster: Sendable {
    public let directory: String
    public var cephConf: String { directory + "/ceph.conf" }
    public var adminKeyring: String { directory + "/keyring" }
    public var volumedKeyring: String { directory + "/client.volumed.keyring" }

    /// The cluster, or a test failure explaining how to run cluster tests.
    public static func require() throws -> TestCluster {
        guard let directory = ProcessInfo.processInfo.environment["VOLUMED_TEST_CLUSTER"],
              FileManager.default.fileExists(atPath: directory + "/ceph.conf") else {
            Issue.record("VOLUMED_TEST_CLUSTER is not set: run the tests with scripts/test, which starts a dev cluster")
            throw MissingCluster()
        }
        return TestCluster(directory: directory)
    }

    struct MissingCluster: Error {}

    public init(directory: String) {
        self.directory = directory
    }

    /// A private cluster of its own (for tests that stop its daemons), started by scripts/dev-cluster.
    public static func startPrivate() async throws -> TestCluster {
        try await onOwnThread { try startPrivateBlocking() }
    }

    private static func startPrivateBlocking() throws -> TestCluster {
        // Below the kernel's ephemeral range (32768 and up), so no outgoing connection holds
        // the port; a port taken anyway (another suite's cluster) gets another try.
        var attempt = 1
        while true {
            // Named after the suite's cluster, so scripts/test finds and destroys what is left.
            let parent = ProcessInfo.processInfo.environment["VOLUMED_TEST_CLUSTER"] ?? "/tmp/vd-cluster"
            let directory = "\(parent)-private-\(UUID().uuidString.prefix(8))"
            let port = Int.random(in: 21_000...32_000)
            do {
                try script(["start", directory, String(port)])
                return TestCluster(directory: directory)
            } catch let failure as CommandFailed where failure.output.contains("Address already in use") && attempt < 3 {
                _ = try? script(["destroy", directory])
                attempt += 1
            }
        }
    }

    /// Destroys the cluster on a thread of its own, without waiting (callable from `defer`;
    /// scripts/test destroys what a test process left when it ended first).
    public func destroyLater() {
        let directory = directory
        Thread.detachNewThread { _ = try? Self.script(["destroy", directory]) }
    }

    /// `stop-osd`, `start-osd`, `stop-mon`, `start-mon` or `destroy`.
    public func control(_ command: String) async throws {
        let directory = directory
        try await onOwnThread { try Self.script([command, directory]) }
    }

    /// Runs scripts/dev-cluster with its output to a log file: the Ceph daemons it starts keep
    /// their standard output open (a pipe would never end), and they outlive the script.
    private static func script(_ arguments: [String]) throws {
        let log = "/tmp/vd-dev-cluster-\(UUID().uuidString.prefix(8)).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let command = (["scripts/dev-cluster"] + arguments).joined(separator: " ") + " >\(log) 2>&1 </dev/null"
        let status = system(command)
        guard status == 0 else {
            throw CommandFailed(command: command, output: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
        }
    }

    /// One admin connection shared by every inspection the tests make.
    public var adminCluster: Cluster {
        Self.shared.withLock { clusters in
            if let cluster = clusters[directory] { return cluster }
            var logger = Logger(label: "test-admin")
            logger.logLevel = .warning
            let cluster = Cluster(settings: adminSettings, blockingThreads: 2, logger: logger)
            clusters[directory] = cluster
            return cluster
        }
    }

    private static let shared = Mutex<[String: Cluster]>([:])

    /// Ceph's SQLite VFS in this test process, as the cluster's admin (once per process).
    public static func registerCephVFS(_ cluster: TestCluster) throws {
        guard CephVFS.clientAddress == nil else { return }
        let context = try Cluster.configurationContext(cluster.adminSettings, options: [])
        _ = try CephVFS.register(cephContext: context)
    }

    /// Connection settings as the cluster's admin (tests create and inspect pools).
    public var adminSettings: ConnectionSettings {
        ConnectionSettings(user: "admin", cephConf: cephConf, keyring: adminKeyring, connectTimeout: 30, connectionRetries: 1, connectionInterval: 1)
    }

    /// Creates a fresh pool initialised for RBD and returns its name.
    public func makePool(_ prefix: String = "t") async throws -> String {
        let name = "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
        try await onOwnThread { try makePoolBlocking(name) }
        return name
    }

    private func makePoolBlocking(_ name: String) throws {
        // Creating a pool that exists succeeds: a second try after a CLI that died on a loaded
        // machine (seen once: no output, non-zero status) is safe.
        do {
            try runBlocking("/usr/bin/ceph", ["osd", "pool", "create", name, "4", "4"])
        } catch {
            Thread.sleep(forTimeInterval: 1)
            try runBlocking("/usr/bin/ceph", ["osd", "pool", "create", name, "4", "4"])
        }
        try runBlocking("/usr/bin/rbd", ["pool", "init", name])
    }

    /// Removes the pool on a thread of its own, without waiting (callable from `defer`).
    public func deletePool(_ name: String) {
        let cluster = self
        Thread.detachNewThread {
            _ = try? cluster.runBlocking("/usr/bin/ceph", ["osd", "pool", "rm", name, name, "--yes-i-really-really-mean-it"])
        }
    }

    @discardableResult
    public func ceph(_ arguments: [String]) async throws -> String {
        try await run("/usr/bin/ceph", arguments)
    }

    @discardableResult
    /// The `rados` CLI as the cluster's admin.
    public func rados(_ arguments: [String]) async throws -> String {
        try await run("/usr/bin/rados", arguments)
    }

    @discardableResult
    public func rbd(_ arguments: [String]) async throws -> String {
        try await run("/usr/bin/rbd", arguments)
    }

    /// Image names in `pool` and names in its trash, straight from the cluster.
    public func contents(of pool: String) async throws -> (images: [String], trash: [String]) {
        let cluster = adminCluster
        return try await cluster.run { session in
            let io = try session.pool(pool)
            // A half-removed image (moved to the trash by a killed rbd_remove) is still listed by
            // name: it shows as an image the database does not know, which is what it is.
            return (try io.imageNames().sorted(), try io.trashEntries().map(\.name).sorted())
        }
    }

    /// RBD snapshot names of `image` in `pool`.
    public func snapshots(pool: String, image: String) async throws -> [String] {
        let cluster = adminCluster
        return try await cluster.run { session in
            try session.pool(pool).withImage(image, readOnly: true) { try $0.snapshots().map(\.name) }
        }
    }

    /// Runs a Ceph CLI as the cluster's admin, on a thread of its own; its standard output.
    @discardableResult
    func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let cluster = self
        return try await onOwnThread { try cluster.runBlocking(executable, arguments) }
    }

    /// Runs a Ceph CLI as the cluster's admin on the calling thread (never a cooperative one).
    @discardableResult
    func runBlocking(_ executable: String, _ arguments: [String]) throws -> String {
        // stdout alone is the answer (JSON); stderr (admin socket chatter) only explains a failure.
        let run = try ToolRun.blocking(executable, ["-c", cephConf, "--keyring", adminKeyring] + arguments)
        guard run.status == 0 else {
            let how = run.signalled ? "killed by signal \(run.status)" : "exit status \(run.status)"
            throw CommandFailed(command: ([executable] + arguments).joined(separator: " ") + " (\(how))", output: run.stdout + run.stderr)
        }
        return run.stdout
    }

    public struct CommandFailed: Error, CustomStringConvertible {
        public var command: String
        public var output: String
        public var description: String { "\(command) failed: \(output)" }
    }
}

extension TestCluster {
    /// Writes `megabytes` MiB of non-zero data at the start of `pool/image`.
    public func fill(pool: String, image: String, megabytes: Int, seed: UInt8 = 7) async throws {
        let cluster = adminCluster
        try await cluster.run { session in
            try session.pool(pool).withImage(image) { image in
                let chunk = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) | 1 }
                for index in 0..<(megabytes / 4) {
                    try image.write(chunk, at: UInt64(index) << 22)
                }
            }
        }
    }

    /// Reads `length` bytes at `offset` of `pool/image`.
    public func read(pool: String, image: String, offset: UInt64 = 0, length: Int) async throws -> [UInt8] {
        let cluster = adminCluster
        return try await cluster.run { session in
            try session.pool(pool).withImage(image, readOnly: true) { try $0.read(at: offset, length: length) }
        }
    }
}

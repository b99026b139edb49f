import Foundation
import Glibc
import Lifecycle
import Testing
import VolumeClient
import VolumeProtocol
import VolumeStore

/// The real `volumed` binary, started with a config of its own against the dev cluster.
public final class DaemonProcess: @unchecked Sendable {
    // Safety: `process` is replaced only by `start`/`kill`, which tests call sequentially.
    public let cluster: TestCluster
    public let directory: String
    public let pool: String
    public var socketPath: String { directory + "/volumed.sock" }
    public var configPath: String { directory + "/volumed.conf" }
    public var logPath: String { directory + "/volumed.log" }
    private var process: Process?
    /// A command the daemon runs under (e.g. `setpriv --regid=N --` to give it a group a
    /// firewall rule can cut off); it must exec the daemon, keeping its pid.
    public var wrapper: [String] = []

    /// - Parameters:
    ///   - extraConfig: lines appended to the `[rbd]` section.
    ///   - pool: an existing pool, or nil for a fresh one.
    ///   - defaultExtra: lines appended to the `[DEFAULT]` section.
    ///   - imagePool: the image store's pool (default: the volume pool, so tests stay apart).
    ///   - vmsPool: `images_rbd_pool` (default: none).
    ///   - imagesExtra: lines appended to the `[images]` section.
    public init(
        extraConfig: String = "", defaultExtra: String = "", pool: String? = nil, user: String = "admin",
        imagePool: String? = nil, vmsPool: String? = nil, imagesExtra: String = "", cluster: TestCluster? = nil
    ) async throws {
        let cluster = try cluster ?? TestCluster.require()
        self.cluster = cluster
        if let pool {
            self.pool = pool
        } else {
            self.pool = try await cluster.makePool("d")
        }
        directory = "/tmp/vd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keyring = user == "admin" ? self.cluster.adminKeyring : self.cluster.volumedKeyring
        let config = """
            [DEFAULT]
            state_dir = \(directory)/state
            socket_path = \(socketPath)
            log_level = info
            \(defaultExtra)
            [rbd]
            rbd_pool = \(self.pool)
            rbd_user = \(user)
            rbd_ceph_conf = \(self.cluster.cephConf)
            rbd_keyring = \(keyring)
            \(Self.defaults(["rados_connect_timeout = 10", "rados_connection_interval = 1"], unless: extraConfig))
            \(extraConfig)
            [images]
            rbd_store_pool = \(imagePool ?? self.pool)
            \(imagesExtra)
            [libvirt]
            images_rbd_pool = \(vmsPool ?? "")
            [backup]
            backup_ceph_pool = \(self.pool)
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// A daemon made with these arguments and started; one that does not start is cleaned up
    /// (its pool kept when it was given).
    public static func started(
        extraConfig: String = "", defaultExtra: String = "", pool: String? = nil, user: String = "admin",
        imagePool: String? = nil, vmsPool: String? = nil, imagesExtra: String = "", cluster: TestCluster? = nil
    ) async throws -> DaemonProcess {
        let daemon = try await DaemonProcess(
            extraConfig: extraConfig, defaultExtra: defaultExtra, pool: pool, user: user, imagePool: imagePool,
            vmsPool: vmsPool, imagesExtra: imagesExtra, cluster: cluster)
        do {
            try await daemon.start()
        } catch {
            daemon.cleanUp(keepPool: pool != nil)
            throw error
        }
        return daemon
    }

    /// Sets `line` (`option = value`) in the `[DEFAULT]` section, replacing the option if present.
    public func setDefault(_ line: String) throws {
        let option = line.split(separator: "=")[0].trimmingCharacters(in: .whitespaces)
        var lines = try String(contentsOfFile: configPath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeAll { $0.split(separator: "=").first?.trimmingCharacters(in: .whitespaces) == option }
        lines.insert(line, at: 1)
        try lines.joined(separator: "\n").write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Sets `line` (`option = value`) where the option already is, in whichever section.
    public func setOption(_ line: String) throws {
        let option = line.split(separator: "=")[0].trimmingCharacters(in: .whitespaces)
        var lines = try String(contentsOfFile: configPath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let at = lines.firstIndex(where: { $0.split(separator: "=").first?.trimmingCharacters(in: .whitespaces) == option }) else {
            return try setDefault(line)
        }
        lines[at] = line
        try lines.joined(separator: "\n").write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Sends SIGHUP and waits until the daemon's log says the configuration was reloaded.
    public func reload(within limit: Duration = .seconds(20)) async throws {
        let marker = "configuration reloaded"
        let before = log.components(separatedBy: marker).count
        signal(SIGHUP)
        let deadline = ContinuousClock.now + limit
        while log.components(separatedBy: marker).count == before {
            guard ContinuousClock.now < deadline else { throw ReloadNotSeen() }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    public struct ReloadNotSeen: Error, CustomStringConvertible {
        public var description: String { "volumed did not log a reload after SIGHUP" }
    }

    /// True when the daemon keeps its database in RADOS (`state_store = rados`).
    public var sharedDatabase: Bool {
        ((try? String(contentsOfFile: configPath, encoding: .utf8)) ?? "").contains("state_store = rados")
    }

    /// The daemon's database, opened by the test. A shared one (in RADOS) can only be opened
    /// while no daemon holds it: stop them first. Close it (`store.close()`) before starting one.
    public func openDatabase() throws -> Store {
        guard sharedDatabase else { return try Store(path: directory + "/state/volumed.sqlite") }
        try TestCluster.registerCephVFS(cluster)
        return try Store(location: .rados(pool: pool, namespace: "volumed", name: "volumed.db"))
    }

    /// Default option lines, except those `extra` sets itself (an option may appear only once).
    static func defaults(_ lines: [String], unless extra: String) -> String {
        let given = Set(extra.split(separator: "\n").compactMap { $0.split(separator: "=").first?.trimmingCharacters(in: .whitespaces) })
        return lines.filter { !given.contains($0.split(separator: "=")[0].trimmingCharacters(in: .whitespaces)) }.joined(separator: "\n")
    }

    public static var binary: String {
        let directory = ProcessInfo.processInfo.environment["VOLUMED_BIN"] ?? ".build/debug"
        return directory + "/volumed"
    }

    /// Starts the daemon and waits until its socket answers.
    public func start() async throws {
        let process = Process()
        if let launcher = wrapper.first {
            process.executableURL = URL(fileURLWithPath: launcher)
            process.arguments = Array(wrapper.dropFirst()) + [Self.binary, "--config", configPath]
        } else {
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = ["--config", configPath]
        }
        // One log across restarts (a crash suite reads the whole story).
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            // Up and past "starting" (the cluster lock taken, or standby behind another daemon).
            if let client = try? VolumeClient(socketPath: socketPath),
               let reply = try? await client.call("service.status"),
               case .object(let status)? = reply.result, status["state"] != .string("starting") { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw StartFailed(log: (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
    }

    public struct StartFailed: Error, CustomStringConvertible {
        public var log: String
        public var description: String { "volumed did not start:\n\(log)" }
    }

    public func client() throws -> VolumeClient { try VolumeClient(socketPath: socketPath) }

    public var pid: Int32? { process?.processIdentifier }

    /// SIGKILL, no chance to clean up: a crash.
    public func kill() async {
        guard let process else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        self.process = nil
        _ = await Self.exitStatus(of: process)
    }

    /// Sends `signal` (SIGSTOP, SIGCONT, …) to the daemon.
    public func signal(_ signal: Int32) {
        guard let process else { return }
        Glibc.kill(process.processIdentifier, signal)
    }

    /// Waits for the daemon to exit by itself; its exit status, or nil if it still runs.
    public func waitForExit(within limit: Duration) async -> Int32? {
        guard let process else { return nil }
        let deadline = ContinuousClock.now + limit
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        guard !process.isRunning else { return nil }
        self.process = nil
        return process.terminationStatus
    }

    /// Waits until the daemon says it is active (`service.status` state `ok`): a daemon on the
    /// shared database starts as a standby and takes over once the lock is free or expired.
    public func waitUntilActive(within limit: Duration) async throws -> Bool {
        let client = try client()
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let status = try? await client.call("service.status", as: ServiceStatus.self), status.state == "ok" { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Runs `volumed` with `arguments` and this daemon's configuration; its exit status and output.
    /// Waits on a thread of its own, never on the cooperative pool other tests run on.
    public func runTool(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Self.run(Self.binary, arguments + ["--config", configPath])
    }

    /// Runs `executable` to its end on a thread of its own; its exit status and output.
    public static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let run = try await ToolRun.run(executable, arguments)
        return (run.status, run.stdout + run.stderr)
    }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    public func terminate() async -> Int32 {
        guard let process else { return 0 }
        process.terminate()
        self.process = nil
        return await Self.exitStatus(of: process)
    }

    /// Waits for `process` to end on a thread of its own (never on the cooperative pool).
    static func exitStatus(of process: Process) async -> Int32 {
        let box = UncheckedProcess(process)
        return await onOwnThread {
            box.process.waitUntilExit()
            return box.process.terminationStatus
        }
    }

    /// A `Process` handed to the thread that waits for it (the only one touching it then).
    struct UncheckedProcess: @unchecked Sendable {
        let process: Process
        init(_ process: Process) { self.process = process }
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// For a failure message: whether the daemon still runs (or how it ended, which a client
    /// only sees as a closed connection) and the last `lines` of its log. CI keeps the test
    /// output, not the files the test left in /tmp.
    public func postMortem(lines: Int = 40) -> String {
        let state: String
        if let process {
            if process.isRunning {
                state = "volumed (pid \(process.processIdentifier)) is still running"
            } else {
                let how = process.terminationReason == .uncaughtSignal ? "signal" : "exit status"
                state = "volumed (pid \(process.processIdentifier)) ended by itself: \(how) \(process.terminationStatus)"
            }
        } else {
            state = "volumed is not running"
        }
        let tail = log.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
        return "\(state); the last \(lines) lines of its log:\n\(tail)"
    }

    /// Stops the daemon and removes its pool and files.
    /// - Parameter forgetDatabase: with `keepPool`, also remove the pool's record of which
    ///   database ran it, so a later run's daemon (with a new database) may take the pool over.
    public func cleanUp(keepPool: Bool = false, forgetDatabase: Bool = false) {
        // Called from `defer`, so it cannot wait: SIGTERM now; the wait, the log's copy and the
        // removals on a thread of their own (a test blocked here would stall the others).
        let stopping = self.process.map(UncheckedProcess.init)
        stopping?.process.terminate()
        self.process = nil
        let (cluster, pool, logPath, directory) = (cluster, pool, logPath, directory)
        Thread.detachNewThread {
            if let stopping { Self.reap(stopping.process, within: 30) }
            if keepPool && forgetDatabase { _ = try? cluster.runBlocking("/usr/bin/rados", ["-p", pool, "rm", "volumed.database"]) }
            // The daemon's log outlives the test (a failed run is read afterwards).
            let kept = "/tmp/volumed-test-logs"
            try? FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: true)
            try? FileManager.default.copyItem(atPath: logPath, toPath: kept + "/" + (directory as NSString).lastPathComponent + ".log")
            if !keepPool { _ = try? cluster.runBlocking("/usr/bin/ceph", ["osd", "pool", "rm", pool, pool, "--yes-i-really-really-mean-it"]) }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Waits up to `seconds` for a stopping daemon, then kills it (a stop that hangs is the
    /// test's failure to report, not a process to leave behind).
    private static func reap(_ process: Process, within seconds: Double) {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

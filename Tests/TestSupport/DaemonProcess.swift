import Foundation
import Glibc
import Testing
import VolumeClient

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

    /// - Parameters:
    ///   - extraConfig: lines appended to the `[rbd]` section.
    ///   - pool: an existing pool, or nil for a fresh one.
    ///   - defaultExtra: lines appended to the `[DEFAULT]` section.
    ///   - imagePool: the image store's pool (default: the volume pool, so tests stay apart).
    ///   - vmsPool: `images_rbd_pool` (default: none).
    public init(
        extraConfig: String = "", defaultExtra: String = "", pool: String? = nil, user: String = "admin",
        imagePool: String? = nil, vmsPool: String? = nil, cluster: TestCluster? = nil
    ) throws {
        self.cluster = try cluster ?? TestCluster.require()
        self.pool = try pool ?? self.cluster.makePool("d")
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
            [libvirt]
            images_rbd_pool = \(vmsPool ?? "")
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
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
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--config", configPath]
        // One log across restarts (a crash suite reads the whole story).
        if !FileManager.default.fileExists(atPath: logPath) { FileManager.default.createFile(atPath: logPath, contents: nil) }
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
    public func kill() {
        guard let process else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    public func terminate() -> Int32 {
        guard let process else { return 0 }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
        return process.terminationStatus
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Stops the daemon and removes its pool and files.
    public func cleanUp(keepPool: Bool = false) {
        terminate()
        if !keepPool { cluster.deletePool(pool) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

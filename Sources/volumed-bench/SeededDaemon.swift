import ArgumentParser
import Foundation
import VolumeClient
import VolumeProtocol

/// A second volumed a suite starts on a database it seeded (rbd_pool and the image store in
/// `images`: the bench's main daemon keeps its cluster lock on its own pool), as the unit runs it
/// (`MALLOC_ARENA_MAX=2`), its log in a file; ready once `service.status` says it is active.
struct SeededDaemon {
    let process: Process
    let client: VolumeClient
    let socket: String
    let logPath: String
    /// From the launch to the first `service.status` that says `ok`, in ms.
    let startupMs: Double

    static func start(
        volumed: String, target: Target, folder: String, name: String, state: String, logLevel: String = "warning",
        defaults: [String] = [], images: [String] = []
    ) async throws -> SeededDaemon {
        let socket = "\(folder)/\(name).sock"
        let logPath = "\(folder)/\(name)-daemon.log"
        let configPath = "\(folder)/\(name).conf"
        let config = """
            [DEFAULT]
            state_dir = \(state)
            socket_path = \(socket)
            log_level = \(logLevel)
            # The whole table in one reply (the default caps a reply at 10,000).
            max_list_limit = 1000000
            \((defaults).joined(separator: "\n"))
            [rbd]
            rbd_pool = images
            rbd_ceph_conf = \(target.cephConf)
            rbd_keyring = \(target.keyring)
            [images]
            rbd_store_pool = images
            \(images.joined(separator: "\n"))
            [libvirt]
            images_rbd_pool =
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else { throw ValidationError("cannot create \(logPath)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: volumed)
        process.arguments = ["--config", configPath]
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.environment = ProcessInfo.processInfo.environment.merging(["MALLOC_ARENA_MAX": "2"]) { $1 }
        let launched = ContinuousClock.now
        try process.run()
        while launched.duration(to: .now) < .seconds(120) {
            if let candidate = try? VolumeClient(socketPath: socket),
               let status = try? await candidate.call("service.status", as: ServiceStatus.self), status.state == "ok" {
                return SeededDaemon(process: process, client: candidate, socket: socket, logPath: logPath,
                                    startupMs: milliseconds(launched.duration(to: .now)))
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.terminate()
        throw ValidationError("the \(name) daemon did not start: \(String(decoding: FileManager.default.contents(atPath: logPath) ?? Data(), as: UTF8.self))")
    }

    func log() -> String { String(decoding: FileManager.default.contents(atPath: logPath) ?? Data(), as: UTF8.self) }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

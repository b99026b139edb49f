import Foundation
import Lifecycle
import Logging
import RBD
import VolumeEngine
import VolumeStore

/// A real engine on the dev cluster, in a pool of its own, with its own database file.
public final class EngineHarness: Sendable {
    public let cluster: TestCluster
    public let pool: String
    public let engine: Engine
    public let store: Store
    public let directory: String
    private let runner: Task<Void, any Error>

    public init(settings: (inout EngineSettings) -> Void = { _ in }) async throws {
        cluster = try TestCluster.require()
        pool = try await cluster.makePool("e")
        directory = NSTemporaryDirectory() + "volumed-engine-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try Store(path: directory + "/volumed.sqlite")
        var engineSettings = EngineSettings(pool: pool, workers: 4, clusterRetries: 2, clusterRetryInterval: .milliseconds(200))
        settings(&engineSettings)
        var logger = Logger(label: "engine-test")
        logger.logLevel = .warning
        let rbd = Cluster(settings: cluster.adminSettings, blockingThreads: 8, logger: logger)
        try await rbd.connect()
        engine = Engine(store: store, cluster: rbd, settings: engineSettings, logger: logger)
        let engine = self.engine
        runner = Task { try await engine.run() }
    }

    /// Stops the engine, removes the pool and the database.
    public func shutdown() async {
        await engine.stop()
        _ = await runner.result
        await engine.cluster.blockingPool.shutdown()
        cluster.deletePool(pool)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Waits for `accepted`'s job and returns its final row.
    @discardableResult
    public func finish(_ accepted: Accepted) async throws -> JobRecord {
        try await engine.wait(jobID: accepted.job.id)
    }

    /// A new volume of `sizeGB` GiB whose first `megabytes` MiB hold data (the job waited for); its id.
    public func filledVolume(sizeGB: Int, megabytes: Int, seed: UInt8 = 7) async throws -> String {
        let accepted = try await engine.createVolume(sizeGB: sizeGB, name: nil, source: nil, idempotencyKey: nil)
        try await finish(accepted)
        guard let id = accepted.volume?.id else { throw HarnessError.noVolume }
        try await cluster.fill(pool: pool, image: "volume-\(id)", megabytes: megabytes, seed: seed)
        return id
    }

    enum HarnessError: Error { case noVolume }

    public func volume(_ id: String) async throws -> VolumeRecord? {
        try await store.read { try $0.volume(id) }
    }

    /// Waits until no job is queued or running (follow-up purges included).
    public func settle(timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let unfinished = try await store.read { try $0.unfinishedJobs() }
            if unfinished.isEmpty { return }
            for job in unfinished { _ = try await engine.wait(jobID: job.id) }
        }
        throw SettleTimeout()
    }

    struct SettleTimeout: Error {}

    /// Images and trash entries of the harness's pool.
    public func contents() async throws -> (images: [String], trash: [String]) {
        try await cluster.contents(of: pool)
    }

    /// The images the database says must exist (not purged).
    public func expectedImages() async throws -> [String] {
        try await store.read { try $0.unpurgedVolumes().map(\.rbdImage).sorted() }
    }
}

import Foundation
import Lifecycle
import Logging
import RBD
import Synchronization
import VolumeMetrics
import VolumeStore

/// Raised inside a job when the daemon is stopping: the job stays in the database and resumes
/// from its last checkpoint at the next start. Never rolled back.
struct JobInterrupted: Error {}

/// What an operation's steps work with: the job's row, the cluster, the store, progress,
/// cancellation and checkpoints.
final class JobContext: Sendable {
    let jobID: String
    let store: Store
    let cluster: Cluster
    let settings: EngineSettings
    let logger: Logger
    /// The client's stream, for an upload or a download; nil when there is none (after a restart).
    let transfer: TransferPipe?
    /// Hands a result to the request waiting for this job (a reconcile's report).
    let deliver: @Sendable (any Sendable) -> Void
    /// Bytes flattened, uploaded and sent (the daemon's metrics).
    let instruments: Instruments
    private let events: JobEvents
    private let activity: ActivityClock
    private let trouble: ClusterTrouble
    private let isStopping: @Sendable () -> Bool
    /// True once the daemon may no longer change the cluster (its hold on the cluster lock lapsed).
    private let isFenced: @Sendable () -> Bool
    private let state: Mutex<State>
    /// Progress to record in the job's row, newest only: written in order by `recordProgress()`.
    private let progressRows: (stream: AsyncStream<Double>, continuation: AsyncStream<Double>.Continuation)

    private struct State {
        var job: JobRecord
        var cancelRequested: Bool
        var publishedProgress: Double = 0
        var persistedProgress: Double = 0
        var persistedAt: ContinuousClock.Instant = .now
    }

    init(
        job: JobRecord, store: Store, cluster: Cluster, settings: EngineSettings, events: JobEvents,
        logger: Logger, transfer: TransferPipe? = nil, deliver: @escaping @Sendable (any Sendable) -> Void = { _ in }, activity: ActivityClock, trouble: ClusterTrouble,
        instruments: Instruments = .none, isStopping: @escaping @Sendable () -> Bool,
        isFenced: @escaping @Sendable () -> Bool = { false }
    ) {
        self.isFenced = isFenced
        self.instruments = instruments
        self.transfer = transfer
        self.deliver = deliver
        self.activity = activity
        self.trouble = trouble
        self.jobID = job.id
        self.store = store
        self.cluster = cluster
        self.settings = settings
        self.events = events
        self.isStopping = isStopping
        var logger = logger
        logger[metadataKey: "job_id"] = "\(job.id)"
        logger[metadataKey: "operation"] = "\(job.kind)"
        if let volumeID = job.volumeID { logger[metadataKey: "volume_id"] = "\(volumeID)" }
        if let snapshotID = job.snapshotID { logger[metadataKey: "snapshot_id"] = "\(snapshotID)" }
        if let imageID = job.imageID { logger[metadataKey: "image_id"] = "\(imageID)" }
        self.logger = logger
        self.state = Mutex(State(job: job, cancelRequested: job.cancelRequested))
        self.progressRows = AsyncStream.makeStream(of: Double.self, bufferingPolicy: .bufferingNewest(1))
    }

    var job: JobRecord { state.withLock { $0.job } }
    var isCancelled: Bool { state.withLock { $0.cancelRequested } }

    func requestCancel() { state.withLock { $0.cancelRequested = true } }

    /// Runs step `index` unless an earlier run of this job already finished it, then records
    /// that it is done. Every step must be idempotent: a crash can always repeat the last one.
    ///
    /// `checkpoint: false` is for an operation's last step: the job's final row, written right
    /// after, records it (one commit fewer; a crash in between repeats the idempotent step).
    func step(_ index: Int, _ name: String, checkpoint: Bool = true, _ body: () async throws -> Void) async throws {
        guard job.step <= index else { return }
        try checkInterruption()
        logger.debug("step \(index): \(name)")
        try await body()
        if checkpoint { try await store.write(.relaxed) { [jobID] tx in try Self.advance(tx, jobID, to: index + 1) } }
        state.withLock { $0.job.step = index + 1 }
        activity.touch()
    }

    /// A step that only changes the database: its change and its checkpoint are one transaction.
    func step(_ index: Int, _ name: String, writing body: @escaping @Sendable (StoreTransaction) throws -> Void) async throws {
        guard job.step <= index else { return }
        try checkInterruption()
        logger.debug("step \(index): \(name)")
        try await store.write(.relaxed) { [jobID] tx in
            try body(tx)
            try Self.advance(tx, jobID, to: index + 1)
        }
        state.withLock { $0.job.step = index + 1 }
        activity.touch()
    }

    /// A step whose result is recorded in the same transaction as its checkpoint, so that a
    /// resumed job finds it in the database (e.g. an upload's size and checksum).
    func step<T: Sendable>(
        _ index: Int, _ name: String, _ body: () async throws -> T,
        record: @escaping @Sendable (StoreTransaction, T) throws -> Void
    ) async throws {
        guard job.step <= index else { return }
        try checkInterruption()
        logger.debug("step \(index): \(name)")
        let result = try await body()
        try await store.write(.relaxed) { [jobID] tx in
            try record(tx, result)
            try Self.advance(tx, jobID, to: index + 1)
        }
        state.withLock { $0.job.step = index + 1 }
        activity.touch()
    }

    /// Records a finished step; the row also says `running` from now on (the job's start is not
    /// a commit of its own: until its first checkpoint the engine knows it is running).
    private static func advance(_ tx: StoreTransaction, _ jobID: String, to step: Int) throws {
        guard let row = try tx.job(jobID) else { return }
        try tx.update(JobLifecycle.advanced(row, to: step))
    }

    /// Throws when the job should stop between steps: the daemon is stopping, or a user cancelled it.
    func checkInterruption() throws {
        if isStopping() { throw JobInterrupted() }
        if isCancelled { throw EngineError.cancelled("cancelled by request") }
    }

    /// The volume row the job works on, as committed now.
    func volume(_ id: String) async throws -> VolumeRecord { try await store.read { try $0.requireVolume(id) } }

    /// The image row the job works on, as committed now.
    func image(_ id: String) async throws -> ImageRecord { try await store.read { try $0.requireImage(id) } }

    func backup(_ id: String) async throws -> BackupRecord {
        guard let backup = try await store.read({ try $0.backup(id) }) else { throw EngineError.notFound("backup \(id) not found") }
        return backup
    }

    /// Runs `body` on the blocking pool. When the cluster is unreachable, retries with a
    /// doubling wait, `clusterRetries` attempts in all, then fails with `cluster_unavailable`.
    /// `once`: a body that cannot repeat (it consumes a client's stream) runs a single time.
    func rbd<T: Sendable>(once: Bool = false, _ body: @escaping @Sendable (Cluster.Session) throws -> T) async throws -> T {
        var wait = settings.clusterRetryInterval
        let attempts = once ? 1 : max(1, settings.clusterRetries)
        for attempt in 1...attempts {
            // Every call, not only every step: a daemon that gave up its hold (fenced) sends no
            // further call, even from the middle of a step (a graceful stop lets the step end).
            if isFenced() { throw JobInterrupted() }
            do {
                let result = try await cluster.run(body)
                trouble.clear()
                return result
            } catch let error as RBDError where error.isClusterUnavailable {
                trouble.report("\(error)")
                guard attempt < attempts else { throw error }
                logger.warning("cluster unavailable (attempt \(attempt)/\(attempts)): \(error); retrying in \(wait)")
                try checkInterruption()
                try await Task.sleep(for: wait)
                wait *= 2
            }
        }
        preconditionFailure("unreachable: the last attempt returns or throws")
    }

    /// A progress callback for librbd: publishes progress, persists it now and then, and
    /// tells librbd to stop when the job is cancelled or the daemon is stopping.
    /// With `counting`, each step forward also adds `(done - previous) × unit` to that counter
    /// (bytes flattened, sent, received).
    func progressCallback(
        from start: Double = 0, to end: Double = 1, counting metric: MetricName? = nil, unit: UInt64 = 1
    ) -> @Sendable (UInt64, UInt64) -> Bool {
        let counted = Mutex<UInt64>(0)
        return { [self] done, total in
            if let metric {
                let delta = counted.withLock { previous -> UInt64 in
                    defer { previous = max(previous, done) }
                    return done > previous ? done - previous : 0
                }
                if delta > 0 { instruments.count(metric, by: Int64(clamping: delta * unit)) }
            }
            let fraction = total == 0 ? 1 : Double(done) / Double(total)
            report(progress: start + (end - start) * fraction)
            return !(isStopping() || isCancelled)
        }
    }

    func report(progress: Double) {
        activity.touch()
        let (publish, persist) = state.withLock { state -> (Bool, Bool) in
            state.job.progress = progress
            let publish = progress - state.publishedProgress >= 0.01 || progress >= 1
            if publish { state.publishedProgress = progress }
            let persist = progress - state.persistedProgress >= 0.1 || state.persistedAt.duration(to: .now) > .seconds(2)
            if persist {
                state.persistedProgress = progress
                state.persistedAt = .now
            }
            return (publish, persist)
        }
        if publish { events.publish(.progress(jobID: jobID, progress: progress)) }
        if persist { progressRows.continuation.yield(progress) }
    }

    /// Writes the progress librbd reports into the job's row, one write at a time and in order
    /// (a newer figure replaces one not yet written), until `endProgress()`. The engine runs it
    /// next to the job's operation and awaits it before the job's final row.
    func recordProgress() async {
        let jobID = self.jobID
        for await progress in progressRows.stream {
            try? await store.write(.relaxed) { tx in
                guard let row = try tx.job(jobID), !row.isFinal else { return }
                var running = JobLifecycle.started(row)
                running.progress = max(row.progress, progress)
                try tx.update(running)
            }
        }
    }

    /// No more progress writes: `recordProgress()` returns once the last one is written.
    func endProgress() {
        progressRows.continuation.finish()
    }

    func note(_ text: String) {
        state.withLock { $0.job.note = text }
    }
}

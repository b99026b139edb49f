import Foundation
import Lifecycle
import Logging
import RBD
import Synchronization
import VolumeMetrics
import VolumeStore

/// The job engine: accepts requests as durable jobs, runs them on a pool of workers, resumes
/// them after a crash, and tells waiters the moment a job's row is final.
public final class Engine: Sendable {
    public let store: Store
    public let cluster: Cluster
    let logger: Logger
    /// Jobs started and ended, their run times, bytes moved (the daemon's metrics).
    let instruments: Instruments
    let events = JobEvents()
    let scheduler: Scheduler
    private let liveSettings: Mutex<EngineSettings>
    private let running = Mutex<[String: JobContext]>([:])
    /// The client streams of upload and download jobs, by job id, from admission until the
    /// job ends (a job without one after a restart fails: its data is gone with the client).
    private let transfers = Mutex<[String: TransferPipe]>([:])
    /// What a job hands back to the request waiting for it beyond its row (a reconcile's report),
    /// by job id, until that request takes it.
    private let results = Mutex<[String: any Sendable]>([:])
    private let stopping = Atomic<Bool>(false)
    /// Desired worker count, read by `run()` (grows the pool) and by each worker (shrinks it).
    private let workerTarget: Mutex<(count: Int, continuation: AsyncStream<Int>.Continuation?)>
    private let liveWorkers = Atomic<Int>(0)
    /// Queues the purges of volumes deleted with deferred deletion when their time comes.
    let deferredPurges = WakeableTimer()
    /// Takes the snapshots of snapshot schedules when they are due.
    let scheduleClock = WakeableTimer()
    /// Deletes finished jobs older than `job_retention_days`.
    let pruningClock = WakeableTimer()
    /// When a job last did something (started, finished a step, reported progress): the watchdog's evidence.
    let activity = ActivityClock()
    /// Set while job steps find the cluster unreachable (for the status line).
    public let clusterTrouble = ClusterTrouble()
    /// Yields whenever jobs start or end, for the status line.
    public let loadChanges: AsyncStream<Void>
    private let loadContinuation: AsyncStream<Void>.Continuation

    /// False once this daemon may no longer change the cluster (its hold on the cluster lock
    /// is not fresh): no step starts, running jobs stop at their next checkpoint.
    private let mayRunSteps: @Sendable () -> Bool

    public init(
        store: Store, cluster: Cluster, settings: EngineSettings, logger: Logger,
        instruments: Instruments = .none, mayRunSteps: @escaping @Sendable () -> Bool = { true }
    ) {
        self.store = store
        self.instruments = instruments
        self.mayRunSteps = mayRunSteps
        self.cluster = cluster
        self.liveSettings = Mutex(settings)
        self.logger = logger
        self.scheduler = Scheduler(flattenLimit: settings.concurrentFlattens)
        self.workerTarget = Mutex((settings.workers, nil))
        (loadChanges, loadContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public var settings: EngineSettings { liveSettings.withLock { $0 } }

    /// Applies the options that may change while running (flatten limit, clone depth, …).
    public func apply(_ settings: EngineSettings) async {
        let retentionChanged = liveSettings.withLock { live in
            defer { live = settings }
            return live.jobRetention != settings.jobRetention
        }
        if retentionChanged { pruningClock.rearm() }
        await scheduler.setFlattenLimit(settings.concurrentFlattens)
        let continuation = workerTarget.withLock { target in
            target.count = settings.workers
            return target.continuation
        }
        continuation?.yield(settings.workers)
    }

    /// True when no job has been running without a sign of life for longer than `limit`:
    /// a worker stuck in a call that never returns makes this false.
    public func isMakingProgress(stallLimit: Duration) async -> Bool {
        if await scheduler.runningCount == 0 { return true }
        return activity.sinceLast() < stallLimit
    }

    public var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Jobs running and queued right now.
    public func load() async -> (running: Int, queued: Int) {
        (await scheduler.runningCount, await scheduler.queuedCount)
    }

    /// `HEALTH_OK`, `HEALTH_WARN`, … from the monitors and the health checks that mean data
    /// cannot be reached (`OSD_DOWN`, `PG_AVAILABILITY`), or nil when the monitors cannot be asked.
    public func clusterHealth() async -> (status: String, unavailable: [String])? {
        guard cluster.isConnected else { return nil }
        guard let reply = try? await cluster.run({ try $0.monitorCommand(#"{"prefix": "health", "format": "json"}"#) }),
              let object = try? JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any],
              let status = object["status"] as? String else { return nil }
        let checks = (object["checks"] as? [String: Any])?.keys.sorted() ?? []
        return (status, checks.filter { ["OSD_DOWN", "PG_AVAILABILITY", "MON_DOWN"].contains($0) })
    }

    // MARK: running

    /// Recovers unfinished jobs, then runs workers until `stop()`; returns when the last
    /// running step has reached a checkpoint.
    public func run() async throws {
        var resumed: [JobRecord] = []
        var earlierClients: [String] = []
        do {
            resumed = try await recover()
            // Remember this run's cluster client so a successor can recognise its locks.
            if let current = cluster.clientName {
                earlierClients = try await store.write { try $0.recordDaemonClient(current) }
            }
        } catch let error as StoreUnavailable {
            // Recorded jobs stay recorded; they resume once the database can be written again.
            logger.critical("\(error.message); serving reads, refusing changes")
        }
        if !resumed.isEmpty {
            logger.notice("resuming \(resumed.count) unfinished job(s)")
            await breakStaleLocks(for: resumed, heldBy: Set(earlierClients))
        }
        for job in resumed { await enqueue(job) }
        let (targets, continuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        let initial = workerTarget.withLock { target in
            target.continuation = continuation
            return target.count
        }
        if isStopping { continuation.finish() }
        continuation.yield(initial)
        await withDiscardingTaskGroup { group in
            group.addTask { [store, logger] in
                let purges = DeferredPurges(store: store, logger: logger)
                await self.deferredPurges.run { await purges.queueDue { job in await self.enqueue(job) } }
            }
            group.addTask { [store, logger] in
                let schedules = SnapshotSchedules(store: store, logger: logger)
                await self.scheduleClock.run { await schedules.runDue { job in await self.accept(job, detail: " (scheduled)") } }
            }
            group.addTask { [store, logger] in
                let pruning = JobPruning(store: store, logger: logger)
                await self.pruningClock.run { await pruning.pruneDue(retention: self.settings.jobRetention) }
            }
            var nextIndex = 0
            for await target in targets {
                // Grow now; a shrink happens as surplus workers finish their current job.
                while liveWorkers.load(ordering: .relaxed) < target {
                    liveWorkers.add(1, ordering: .relaxed)
                    let index = nextIndex
                    nextIndex += 1
                    group.addTask { await self.workerLoop(index: index) }
                }
            }
        }
    }

    /// Stops taking jobs; running ones stop at their next checkpoint and resume at the next start.
    public func stop() async {
        stopping.store(true, ordering: .relaxed)
        deferredPurges.stop()
        scheduleClock.stop()
        pruningClock.stop()
        workerTarget.withLock { $0.continuation?.finish() }
        await scheduler.stop()
    }

    private func workerLoop(index: Int) async {
        defer { liveWorkers.subtract(1, ordering: .relaxed) }
        while let entry = await scheduler.next() {
            loadContinuation.yield()
            activity.touch()
            await execute(entry)
            await scheduler.finished(entry)
            activity.touch()
            loadContinuation.yield()
            // Fewer workers wanted: the surplus ones leave after their job.
            if liveWorkers.load(ordering: .relaxed) > workerTarget.withLock({ $0.count }) { return }
        }
    }

    func enqueue(_ job: JobRecord) async {
        await scheduler.enqueue(.init(jobID: job.id, lockKey: job.lockKey, flattens: job.flattens))
        loadContinuation.yield()
        events.publish(.queued(job))
    }

    /// Hands a job its client stream; called between admission and `accept` (before a worker can start it).
    func attach(_ transfer: TransferPipe, to jobID: String) {
        transfers.withLock { $0[jobID] = transfer }
    }

    /// The result job `jobID` delivered, once (nil if none).
    func takeResult(of jobID: String) -> (any Sendable)? {
        results.withLock { $0.removeValue(forKey: jobID) }
    }

    /// Forgets a job's client stream, failing it if the job still wants it.
    public func detachTransfer(of jobID: String, reason: String) {
        transfers.withLock { $0.removeValue(forKey: jobID) }?.fail(reason)
    }

    private func makeContext(_ job: JobRecord) -> JobContext {
        JobContext(job: job, store: store, cluster: cluster, settings: settings, events: events, logger: logger,
                   transfer: transfers.withLock { $0[job.id] }, deliver: { [self] result in self.results.withLock { $0[job.id] = result } },
                   activity: activity, trouble: clusterTrouble, instruments: instruments, isStopping: { [self] in self.isStopping || !self.mayRunSteps() },
                   isFenced: { [self] in !self.mayRunSteps() })
    }

    private func execute(_ entry: Scheduler.Entry) async {
        let jobID = entry.jobID
        var job: JobRecord
        do {
            // No commit to say it started: the first checkpoint does, and until then `presented`
            // shows it running from memory. A crash re-queues it either way.
            guard let row = try await store.read({ tx in try tx.job(jobID) }), !row.isFinal else { return }
            job = JobLifecycle.started(row)
            if job.kind == .purgeVolume {
                // Except a purge: it reads its plan when it starts, so a change made after that
                // (a clone gone) needs a purge of its own. `JobQueue.queuePurge` reuses a purge
                // only while its row still says queued, so a started purge must say so.
                let started = job
                try await store.write(.relaxed) { tx in try tx.update(started) }
            }
        } catch {
            logger.error("cannot start job \(jobID): \(error)", metadata: ["job_id": "\(jobID)"])
            return
        }
        let context = makeContext(job)
        running.withLock { $0[jobID] = context }
        defer { _ = running.withLock { $0.removeValue(forKey: jobID) } }
        context.logger.info("job started")
        instruments.jobStarted(job.kind)
        let began = ContinuousClock.now

        let operation: any Operation
        do {
            operation = try job.operation()
        } catch {
            let failure = EngineError.from(error)
            await finish(context, .failed(failure.kind, failure.message), began: began, completion: { _ in [] })
            return
        }
        if let pending = JobLifecycle.pendingUndo(job) {
            // It failed before the daemon stopped, and its undo may not have finished.
            context.logger.notice("resuming the undo of a job that failed before the restart: \(job.errorMessage ?? "")")
            let completion = await operation.rollback(context, error: EngineError(pending))
            await finish(context, pending, began: began, completion: completion)
            return
        }
        // Progress rows are written beside the operation and end before its final row.
        async let progressRecorded: Void = context.recordProgress()
        let outcome: Result<Completion, any Error>
        do {
            outcome = .success(try await operation.run(context))
        } catch {
            outcome = .failure(error)
        }
        context.endProgress()
        await progressRecorded
        switch outcome {
        case .success(let completion):
            await finish(context, .succeeded, began: began, completion: completion)
        case .failure(let error):
            let failure = EngineError.from(error)
            if error is JobInterrupted || ((isStopping || !mayRunSteps()) && !context.isCancelled) {
                context.logger.notice("job interrupted by shutdown at step \(context.job.step); it resumes at the next start")
                _ = try? await store.write { tx in
                    guard let row = try tx.job(jobID), !row.isFinal else { return }
                    try tx.update(JobLifecycle.interrupted(row))
                }
                return
            }
            let end: JobLifecycle.End = if case .cancelled(let message) = failure { .cancelled(message) } else { .failed(failure.kind, failure.message) }
            await recordUndoing(context, end)
            let completion = await operation.rollback(context, error: failure)
            await finish(context, end, began: began, completion: completion)
        }
    }

    /// Writes that the job is undoing (its end, on a row still running) before the undo starts:
    /// a restart then finishes the undo rather than run the steps again. If it cannot be
    /// written, the undo runs all the same (a restart then resumes the steps, as before).
    private func recordUndoing(_ context: JobContext, _ end: JobLifecycle.End) async {
        let jobID = context.jobID
        do {
            try await store.write { tx in
                guard let row = try tx.job(jobID), !row.isFinal else { return }
                try tx.update(JobLifecycle.undoing(row, end))
            }
        } catch {
            context.logger.error("cannot record that job \(jobID) is undoing: \(error)")
        }
    }

    /// Writes the job's final row together with the operation's own changes, then tells waiters.
    private func finish(
        _ context: JobContext, _ end: JobLifecycle.End, began: ContinuousClock.Instant?, completion: @escaping Completion
    ) async {
        let jobID = context.jobID
        let note = context.job.note
        do {
            // A success may be redone after a power loss (idempotent steps); a failure or a
            // cancel is a promise to the client that nothing more happens: on disk first. In
            // RADOS a relaxed commit may not outlive the daemon: a success a client is told of
            // is written in full there, so a successor never shows it undone.
            let startedAt = context.job.startedAt
            let relaxedSuccess = end == .succeeded && store.relaxedSurvivesACrash
            let (final, followUps) = try await store.write(relaxedSuccess ? .relaxed : .full) { tx -> (JobRecord, [JobRecord]) in
                let followUps = try completion(tx)
                guard let row = try tx.job(jobID) else { throw EngineError.internalError("job \(jobID) vanished") }
                let job = JobLifecycle.finished(row, end, startedAt: startedAt, note: note)
                try tx.update(job)
                return (job, followUps)
            }
            if let message = final.errorMessage {
                context.logger.error("job \(final.state.rawValue): \(message)")
            } else {
                context.logger.info("job succeeded")
            }
            detachTransfer(of: jobID, reason: final.errorMessage ?? "the job ended")
            events.publish(.finished(final))
            if final.kind == .deleteVolume || final.kind == .undeleteVolume { deferredPurges.rearm() }
            // A schedule whose last snapshot was still being made waits for this.
            if final.kind == .createSnapshot { scheduleClock.rearm() }
            instruments.jobFinished(final.kind, state: final.state, after: began?.duration(to: .now))
            for job in followUps { await enqueue(job) }
        } catch {
            context.logger.critical("cannot record the end of job \(jobID): \(error); it resumes at the next start")
        }
    }

    // MARK: recovery

    /// Puts jobs found running back in the queue (they resume from their checkpoint), queues a
    /// purge for every deleted volume whose image is still there, and returns the queue.
    private func recover() async throws -> [JobRecord] {
        try await store.write { tx -> [JobRecord] in
            var unfinished = try tx.unfinishedJobs()
            for index in unfinished.indices where unfinished[index].state == .running {
                unfinished[index] = JobLifecycle.interrupted(unfinished[index])
                try tx.update(unfinished[index])
            }
            let busy = Set(unfinished.compactMap(\.volumeID))
            for volume in try tx.unpurgedVolumes() where !busy.contains(volume.id) {
                if volume.status == .deleted {
                    if let purge = try JobQueue.queuePurge(tx, volumeID: volume.id) { unfinished.append(purge) }
                } else if let status = VolumeLifecycle.recovered(volume.status) {
                    // A transitional state with no job left to finish it: say so rather than hang.
                    var stuck = volume
                    stuck.status = status
                    try tx.update(stuck)
                }
            }
            let busyImages = Set(unfinished.compactMap(\.imageID))
            for var image in try tx.unpurgedImages() where !busyImages.contains(image.id) {
                guard let status = ImageLifecycle.recovered(image.status) else { continue }
                image.status = status
                try tx.update(image)
            }
            return unfinished
        }
    }

    /// After a crash, the images the interrupted jobs were changing may still be exclusively
    /// locked by the dead daemon's client, and librbd would wait for its watch to time out
    /// (30 s by default) before any step could go on. Break exactly those locks: owners that
    /// are earlier clients of this same database, never anyone else's (a hypervisor's).
    private func breakStaleLocks(for jobs: [JobRecord], heldBy stale: Set<String>) async {
        guard !stale.isEmpty else { return }
        do {
            let images = try await store.read { tx -> [(String, String)] in
                var images: [(String, String)] = []
                for job in jobs where job.startedAt != nil {
                    guard let volume = try job.volumeID.flatMap({ try tx.volume($0) }) else { continue }
                    images.append((volume.pool, volume.rbdImage))
                    if let parent = try volume.parentVolumeID.flatMap({ try tx.volume($0) }) {
                        images.append((parent.pool, parent.rbdImage))
                    }
                }
                return images
            }
            guard !images.isEmpty else { return }
            let broken = try await cluster.run { session -> [String] in
                var broken: [String] = []
                for (pool, image) in images {
                    try? session.pool(pool).withImage(image) { opened in
                        let owners = try opened.lockOwners()
                        self.logger.debug("lock owners of \(pool)/\(image): \(owners); earlier clients \(stale)")
                        for owner in owners where stale.contains(owner) {
                            try opened.breakLock(owner: owner)
                            broken.append("\(pool)/\(image) (\(owner))")
                        }
                    }
                }
                return broken
            }
            if !broken.isEmpty { logger.notice("broke exclusive locks left by a previous run: \(broken.joined(separator: ", "))") }
        } catch {
            logger.warning("could not check for locks left by a previous run: \(error)")
        }
    }

    // MARK: waiting and cancelling

    /// A job row as clients should see it: `running` (with its start) while a worker has it,
    /// even before its first checkpoint is written.
    public func presented(_ job: JobRecord) -> JobRecord {
        guard !job.isFinal, let live = running.withLock({ $0[job.id] }) else { return job }
        var shown = job
        shown.state = .running
        shown.startedAt = job.startedAt ?? live.job.startedAt
        shown.progress = max(job.progress, live.job.progress)
        return shown
    }

    /// Returns the job once its row is final (at once if it already is).
    public func wait(jobID: String) async throws -> JobRecord {
        let stream = events.subscribe(jobID: jobID)
        guard let job = try await store.read({ try $0.job(jobID) }) else {
            throw EngineError.notFound("job \(jobID) not found")
        }
        if job.isFinal { return job }
        for await event in stream {
            if case .finished(let final) = event { return final }
        }
        try Task.checkCancellation()
        return try await store.read { try $0.job(jobID) } ?? job
    }

    /// Progress and the end of one job, as they happen.
    public func watch(jobID: String) -> AsyncStream<JobEvent> {
        events.subscribe(jobID: jobID)
    }

    /// Every job's events from now on (subscribe, then read the list: nothing is missed).
    public func watchAll() -> AsyncStream<JobEvent> {
        events.subscribeAll()
    }

    /// Cancels a job: a queued one ends at once (its admission undone), a running one stops at
    /// its next checkpoint or within a flatten. A finished job cannot be cancelled.
    public func cancel(jobID: String) async throws -> JobRecord {
        let job = try await store.admit { tx -> JobRecord in
            guard let row = try tx.job(jobID) else { throw EngineError.notFound("job \(jobID) not found") }
            let job = try JobLifecycle.cancelRequested(row)
            try tx.update(job)
            return job
        }
        if await scheduler.removeQueued(jobID) {
            let context = makeContext(job)
            context.requestCancel()
            let operation = try job.operation()
            let completion = await operation.rollback(context, error: .cancelled("cancelled by request"))
            await finish(context, .cancelled("cancelled by request"), began: nil, completion: completion)
        } else {
            running.withLock { $0[jobID] }?.requestCancel()
            // A job waiting on its client's stream wakes at once.
            transfers.withLock { $0[jobID] }?.fail("cancelled by request", isCancellation: true)
        }
        return try await store.read { try $0.job(jobID) } ?? job
    }
}

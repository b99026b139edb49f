import Foundation
import Lifecycle
import Testing

/// A job's row from queued to its end, restarts, cancels and idempotency keys.
@Suite struct JobLifecycleTests {
    let later = Rows.epoch.addingTimeInterval(60)

    @Test func aJobRunsAndEndsOnce() {
        let queued = Rows.job(.createVolume)
        let running = JobLifecycle.started(queued, at: Rows.epoch)
        #expect(running.state == .running)
        #expect(running.startedAt == Rows.epoch)
        #expect(JobLifecycle.started(running, at: later).startedAt == Rows.epoch, "a resumed job keeps its first start")
        let stepped = JobLifecycle.advanced(running, to: 2, at: later)
        #expect(stepped.step == 2 && stepped.state == .running)

        let done = JobLifecycle.finished(stepped, .succeeded, startedAt: nil, note: "flattened", at: later)
        #expect(done.state == .succeeded && done.isFinal)
        #expect(done.progress == 1)
        #expect(done.finishedAt == later)
        #expect(done.note == "flattened")
        #expect(done.errorKind == nil && done.errorMessage == nil)
    }

    @Test(arguments: [FailureKind.clusterUnavailable, .internalError, .inUse, .notFound])
    func aFailureRecordsItsKindAndMessage(kind: FailureKind) {
        let failed = JobLifecycle.finished(Rows.job(.deleteVolume, .running), .failed(kind, "why"), startedAt: Rows.epoch, note: nil)
        #expect(failed.state == .failed)
        #expect(failed.errorKind == kind)
        #expect(failed.errorMessage == "why")
        #expect(failed.progress == 0, "a failure does not claim progress")
    }

    @Test func anUndoInterruptedByARestartIsResumedAsAnUndo() {
        let running = JobLifecycle.advanced(Rows.job(.createVolume, .running), to: 3)
        #expect(JobLifecycle.pendingUndo(running) == nil, "a job that has not failed resumes its steps")
        let undoing = JobLifecycle.undoing(running, .failed(.notFound, "source gone"))
        #expect(undoing.state == .running && !undoing.isFinal, "the undo has yet to run")
        #expect(undoing.step == 3)
        // A restart puts it back in the queue; it comes back undoing, not stepping.
        let resumed = JobLifecycle.started(JobLifecycle.interrupted(undoing))
        #expect(JobLifecycle.pendingUndo(resumed) == .failed(.notFound, "source gone"))
        let cancelled = JobLifecycle.undoing(running, .cancelled("cancelled by request"))
        #expect(JobLifecycle.pendingUndo(cancelled) == .cancelled("cancelled by request"))
        let ended = JobLifecycle.finished(undoing, .failed(.notFound, "source gone"), startedAt: nil, note: nil)
        #expect(JobLifecycle.pendingUndo(ended) == nil, "a final job has nothing pending")
        #expect(JobLifecycle.undoing(ended, .cancelled("late")) == ended, "a final job stays as it is")
        #expect(JobLifecycle.undoing(running, .succeeded) == running)
    }

    @Test func aCancelEndsCancelledWithTheCancelledKind() {
        let cancelled = JobLifecycle.finished(Rows.job(.flattenVolume, .running), .cancelled("cancelled by request"), startedAt: nil, note: nil)
        #expect(cancelled.state == .cancelled)
        #expect(cancelled.errorKind == .cancelled)
    }

    @Test func theStartTimeOfAJobNeverCheckpointedComesFromTheWorker() {
        // A job's start is not a commit of its own: its final row gets it from the worker.
        let final = JobLifecycle.finished(Rows.job(.createVolume), .succeeded, startedAt: Rows.epoch, note: nil, at: later)
        #expect(final.startedAt == Rows.epoch)
    }

    @Test(arguments: JobState.allCases)
    func cancelFromEachState(state: JobState) throws {
        let job = Rows.job(.extendVolume, state)
        if state.isFinal {
            let refused = refusal { try JobLifecycle.cancelRequested(job) }
            #expect(refused == Refusal(.conflict, "job j already \(state.rawValue)"))
        } else {
            #expect(try JobLifecycle.cancelRequested(job).cancelRequested)
            #expect(try JobLifecycle.cancelRequested(job).state == state, "a cancel is a request; the engine ends the job")
        }
    }

    @Test func onlyQueuedRunningAndFinalStatesExistAndFinalIsFinal() {
        #expect(Set(JobState.allCases.filter(\.isFinal)) == [.succeeded, .failed, .cancelled])
    }

    // MARK: idempotency keys

    @Test func anIdempotencyKeyAnswersTheSameKindAndRequestOnly() throws {
        var existing = Rows.job(.createVolume)
        existing.request = "volume.create size_gb=1"
        try JobLifecycle.replay(existing, kind: .createVolume, request: "volume.create size_gb=1", key: "k")
        let otherKind = refusal { try JobLifecycle.replay(existing, kind: .createSnapshot, request: "x", key: "k") }
        #expect(otherKind == Refusal(.conflict, "idempotency_key 'k' was used for a volume.create job"))
        let otherRequest = refusal { try JobLifecycle.replay(existing, kind: .createVolume, request: "volume.create size_gb=2", key: "k") }
        #expect(otherRequest?.kind == .conflict)
        #expect(otherRequest?.message.contains("reused for a different request") == true)
        // Rows written before requests were recorded match any request of their kind.
        existing.request = nil
        try JobLifecycle.replay(existing, kind: .createVolume, request: "volume.create size_gb=2", key: "k")
    }
}

/// After a crash every unfinished job resumes from its checkpoint: the row goes back to
/// queued at the step it had reached, with its parameters; nothing else changes.
@Suite struct RecoveryTests {
    /// The steps each kind has (a purge or a delete: tombstone, purge; the others fewer).
    static let stepsPerKind = 3

    @Test(arguments: JobKind.allCases)
    func everyKindResumesFromEveryStep(kind: JobKind) {
        for step in 0..<Self.stepsPerKind {
            for state in [JobState.queued, .running] {
                var job = Rows.job(kind, state, step: step, params: #"{"size_gb":2}"#)
                job.progress = 0.4
                let recovered = JobLifecycle.interrupted(job)
                #expect(recovered.state == .queued)
                var expected = job
                expected.state = .queued
                #expect(recovered == expected, "\(kind) at step \(step): only the state changes")
            }
        }
    }

    @Test(arguments: JobState.allCases.filter(\.isFinal))
    func aFinishedJobIsNeverResumed(state: JobState) {
        let job = Rows.job(.deleteVolume, state, step: 2)
        #expect(JobLifecycle.interrupted(job) == job)
    }
}

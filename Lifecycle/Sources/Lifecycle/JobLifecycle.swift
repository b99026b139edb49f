import Foundation

/// What may happen to a job row: queued → running → succeeded | failed | cancelled, and back to
/// queued when the daemon stops under it. Pure: the engine writes what these return.
public enum JobLifecycle {
    /// A worker takes the job.
    public static func started(_ job: JobRecord, at now: Date = Date()) -> JobRecord {
        var job = job
        job.state = .running
        job.startedAt = job.startedAt ?? now
        return job
    }

    /// A step finished: the next one to run is `step`.
    public static func advanced(_ job: JobRecord, to step: Int, at now: Date = Date()) -> JobRecord {
        var job = started(job, at: now)
        job.step = step
        return job
    }

    /// The daemon stopped (or lost its hold on the cluster) under the job: it resumes from its
    /// checkpoint at the next start. A final job stays final.
    public static func interrupted(_ job: JobRecord) -> JobRecord {
        guard !job.isFinal else { return job }
        var job = job
        job.state = .queued
        return job
    }

    /// How a job ends.
    public enum End: Sendable, Equatable {
        case succeeded
        case failed(FailureKind, String)
        /// Cancelled by request (or by a cancel reaching a running step).
        case cancelled(String)

        public var state: JobState {
            switch self {
            case .succeeded: .succeeded
            case .failed: .failed
            case .cancelled: .cancelled
            }
        }
    }

    /// The final row. `startedAt`: when the worker started it (not written before its first checkpoint).
    public static func finished(_ job: JobRecord, _ end: End, startedAt: Date?, note: String?, at now: Date = Date()) -> JobRecord {
        var job = job
        job.state = end.state
        job.startedAt = job.startedAt ?? startedAt
        job.finishedAt = now
        job.note = note ?? job.note
        switch end {
        case .succeeded:
            job.progress = 1
            (job.errorKind, job.errorMessage) = (nil, nil)
        case .failed(let kind, let message):
            (job.errorKind, job.errorMessage) = (kind, message)
        case .cancelled(let message):
            (job.errorKind, job.errorMessage) = (.cancelled, message)
        }
        return job
    }

    /// The job failed (or was cancelled) and its undo is about to run: the end is written on
    /// the row first, still running, so that a crash during the undo resumes the undo instead
    /// of the steps it was undoing (a create's image removed, then made available again).
    public static func undoing(_ job: JobRecord, _ end: End) -> JobRecord {
        guard !job.isFinal, end != .succeeded else { return job }
        var job = started(job)
        switch end {
        case .succeeded: break
        case .failed(let kind, let message): (job.errorKind, job.errorMessage) = (kind, message)
        case .cancelled(let message): (job.errorKind, job.errorMessage) = (.cancelled, message)
        }
        return job
    }

    /// How a job that was undoing when the daemon stopped ends: its undo runs again, then this.
    /// Nil for a job that had not failed.
    public static func pendingUndo(_ job: JobRecord) -> End? {
        guard !job.isFinal, let kind = job.errorKind else { return nil }
        let message = job.errorMessage ?? "failed before a restart"
        return kind == .cancelled ? .cancelled(message) : .failed(kind, message)
    }

    /// A cancel asks a queued or running job to stop; a final one cannot be cancelled.
    public static func cancelRequested(_ job: JobRecord) throws(Refusal) -> JobRecord {
        guard !job.isFinal else { throw Refusal(.conflict, "job \(job.id) already \(job.state.rawValue)") }
        var job = job
        job.cancelRequested = true
        return job
    }

    /// An idempotency key answers only the kind and the request it was given with (rows written
    /// before requests were recorded have none and match any).
    public static func replay(_ existing: JobRecord, kind: JobKind, request: String, key: String) throws(Refusal) {
        guard existing.kind == kind else {
            throw Refusal(.conflict, "idempotency_key '\(key)' was used for a \(existing.kind.rawValue) job")
        }
        if let recorded = existing.request, recorded != request {
            throw Refusal(.conflict, "idempotency key reused for a different request: '\(key)' was given with \(recorded)")
        }
    }
}

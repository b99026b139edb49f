import Lifecycle
import Synchronization
import VolumeStore

/// Something that happened to a job, for `wait` and `watch`.
public enum JobEvent: Sendable {
    /// Admitted (or re-queued at a restart) and waiting for a worker.
    case queued(JobRecord)
    case progress(jobID: String, progress: Double)
    case finished(JobRecord)
}

/// Fans job events out to subscribers. Subscribe first, then read the job's row: an event
/// published after the row became final can then never be missed.
final class JobEvents: Sendable {
    private struct Subscriber {
        var id: Int
        var continuation: AsyncStream<JobEvent>.Continuation
    }

    private let subscribers = Mutex<(next: Int, byJob: [String: [Subscriber]])>((0, [:]))
    /// Subscribers to every job's events (`job.list` with `watch`).
    private let everyJob = Mutex<(next: Int, all: [Subscriber])>((0, []))

    /// Every job's events from now on, until the stream is dropped; the newest 256 kept when
    /// the reader falls behind (a watcher re-reads the list if it must be exact).
    func subscribeAll() -> AsyncStream<JobEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: JobEvent.self, bufferingPolicy: .bufferingNewest(256))
        let id = everyJob.withLock { state in
            state.next += 1
            state.all.append(Subscriber(id: state.next, continuation: continuation))
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            self?.everyJob.withLock { state in state.all.removeAll { $0.id == id } }
        }
        return stream
    }

    func subscribe(jobID: String) -> AsyncStream<JobEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: JobEvent.self, bufferingPolicy: .bufferingNewest(16))
        let id = subscribers.withLock { state in
            state.next += 1
            state.byJob[jobID, default: []].append(Subscriber(id: state.next, continuation: continuation))
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            self?.subscribers.withLock { state in
                state.byJob[jobID]?.removeAll { $0.id == id }
                if state.byJob[jobID]?.isEmpty == true { state.byJob[jobID] = nil }
            }
        }
        return stream
    }

    func publish(_ event: JobEvent) {
        for watcher in everyJob.withLock({ $0.all }) { watcher.continuation.yield(event) }
        switch event {
        case .queued:
            break
        case .progress(let jobID, _):
            let targets = subscribers.withLock { $0.byJob[jobID] ?? [] }
            for target in targets { target.continuation.yield(event) }
        case .finished(let job):
            let targets = subscribers.withLock { $0.byJob.removeValue(forKey: job.id) ?? [] }
            for target in targets {
                target.continuation.yield(event)
                target.continuation.finish()
            }
        }
    }
}

import Lifecycle
import Synchronization
import VolumeStore

/// Something that happened to a job, for `wait` and `watch`.
public enum JobEvent: Sendable {
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
        switch event {
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

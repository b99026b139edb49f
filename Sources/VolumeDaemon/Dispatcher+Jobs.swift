import Foundation
import Lifecycle
import VolumeEngine
import VolumeProtocol

/// The `job.*` methods.
extension Dispatcher {
    /// `job.get`
    func jobGet(_ request: Request) async throws -> any Encodable & Sendable {
        Job(try await engine.job(id: try request.params.requiredID("job_id")))
    }

    /// `job.list`
    func jobList(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let volumeID = try p.id("volume_id")
        let limit = try p.int("limit", in: 1...10_000) ?? 100
        guard try p.bool("watch") == true else { return try await engine.jobs(volumeID: volumeID, limit: limit).map(Job.init) }
        // Subscribed before the list is read: a change after the read is never missed.
        let events = engine.watchAll()
        let jobs = try await engine.jobs(volumeID: volumeID, limit: limit).map(Job.init)
        let engine = self.engine
        request.followUp.set(FollowUp { notify in
            for await event in events {
                let job: Job
                switch event {
                case .queued(let record), .finished(let record): job = Job(engine.presented(record))
                // The row as a reader sees it now (a running job's progress from memory).
                case .progress(let jobID, _): guard let current = try? await engine.job(id: jobID) else { continue }
                    job = Job(current)
                }
                if let volumeID, job.volumeID != volumeID { continue }
                let encoded = try JSONEncoder.volumed().encode(job)
                try await notify(RPCNotification(method: "job.changed", params: try JSONDecoder().decode(JSONValue.self, from: encoded)))
            }
        })
        return jobs
    }

    /// `job.cancel`
    func jobCancel(_ request: Request) async throws -> any Encodable & Sendable {
        Job(try await engine.cancel(jobID: try request.params.requiredID("job_id")))
    }

    /// `job.wait`
    func jobWait(_ request: Request) async throws -> any Encodable & Sendable {
        Job(try await engine.wait(jobID: try request.params.requiredID("job_id")))
    }

    /// `job.watch`
    func jobWatch(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let id = try p.requiredID("job_id")
        let events = engine.watch(jobID: id)
        let current = try await engine.job(id: id)
        if !current.isFinal {
            // After the reply, until the job ends or the connection goes.
            request.followUp.set(FollowUp { notify in
                for await event in events {
                    switch event {
                    case .progress(let jobID, let progress):
                        try await notify(RPCNotification(method: "job.progress", params: .object([
                            "job_id": .string(jobID), "progress": .double(progress), "state": .string(JobState.running.rawValue),
                        ])))
                    case .finished(let job):
                        try await notify(RPCNotification(method: "job.progress", params: .object([
                            "job_id": .string(job.id), "progress": .double(job.progress), "state": .string(job.state.rawValue),
                        ])))
                    case .queued:
                        break
                    }
                }
            })
        }
        return Job(current)
    }
}

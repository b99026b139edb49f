import ArgumentParser
import Foundation
import Glibc
import Lifecycle
import Synchronization
import VolumeClient
import VolumeProtocol

/// Follows a job to its end with `job.watch`: a live bar on a terminal, plain lines otherwise.
enum JobProgress {
    static func follow(_ job: Job, client: VolumeClient, json: Bool) async throws -> Job {
        let terminal = isatty(STDERR_FILENO) == 1
        let last = Mutex(-1)
        let show: @Sendable (RPCNotification) -> Void = { notification in
            guard notification.method == "job.progress", case .object(let params) = notification.params,
                  case .double(let progress)? = params["progress"] ?? .double(0) else { return }
            // A bar moves by 1 %; plain lines (logs, pipes) say every 10 %.
            let step = terminal ? 1 : 10
            let percent = Int((progress * 100).rounded(.down)) / step * step
            let changed = last.withLock { value in
                defer { value = percent }
                return value != percent
            }
            guard changed, !json || terminal else { return }
            if terminal {
                let width = 40
                let filled = width * percent / 100
                let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
                FileHandle.standardError.write(Data("\r\(job.kind) \(bar) \(String(format: "%3d", percent))%".utf8))
            } else {
                FileHandle.standardError.write(Data("\(job.kind) \(job.id): \(percent)%\n".utf8))
            }
        }
        _ = try await client.run("job.watch", ["job_id": .string(job.id)], as: Job.self, notifications: show)
        let final = try await client.run("job.wait", ["job_id": .string(job.id)], as: Job.self, notifications: show)
        if terminal && last.withLock({ $0 }) >= 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        return final
    }

    /// Submits a mutating call; with `wait`, follows its job and fails when the job does.
    static func submit(
        _ client: VolumeClient, _ method: String, _ params: [String: JSONValue], wait: Bool, json: Bool
    ) async throws -> MutationResult {
        var result = try await client.run(method, params, as: MutationResult.self)
        guard wait else { return result }
        /// `row` as the daemon has it now the job has ended; one gone after its delete succeeded is marked deleted.
        func refreshed<Row: Decodable & Sendable & Identified>(
            _ row: Row?, get method: String, key: String, after job: Job, deletedBy kind: JobKind, markDeleted: (inout Row) -> Void
        ) async -> Row? {
            guard var row else { return nil }
            if let fresh = try? await client.call(method, .object([key: .string(row.id)]), as: Row.self) { return fresh }
            if job.jobKind == kind && job.jobState == .succeeded { markDeleted(&row) }
            return row
        }
        let job = try await follow(result.job, client: client, json: json)
        result.job = job
        result.volume = await refreshed(result.volume, get: "volume.get", key: "volume_id", after: job, deletedBy: .deleteVolume) {
            $0.status = VolumeStatus.deleted.rawValue
        }
        result.snapshot = await refreshed(result.snapshot, get: "snapshot.get", key: "snapshot_id", after: job, deletedBy: .deleteSnapshot) {
            $0.status = SnapshotStatus.deleted.rawValue
        }
        result.image = await refreshed(result.image, get: "image.get", key: "image_id", after: job, deletedBy: .deleteImage) {
            $0.status = ImageStatus.deleted.rawValue
        }
        guard job.jobState == .succeeded else {
            try Output.mutation(result, json: json)
            let message = "job \(job.id) \(job.state): \(job.error?.message ?? "no reason given")"
            FileHandle.standardError.write(Data("volumectl: \(message)\n".utf8))
            switch job.error?.kind {
            case .notFound?: throw ExitCode(2)
            case .conflict?, .inUse?, .busy?: throw ExitCode(3)
            case .clusterUnavailable?: throw ExitCode(5)
            default: throw ExitCode(1)
            }
        }
        return result
    }
}

/// A wire model with an id (what `refreshed` fetches again).
protocol Identified {
    var id: String { get }
}

extension Volume: Identified {}
extension Snapshot: Identified {}
extension Image: Identified {}

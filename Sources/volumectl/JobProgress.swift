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
        let job = try await follow(result.job, client: client, json: json)
        result.job = job
        if var volume = result.volume {
            if let fresh = try? await client.call("volume.get", .object(["volume_id": .string(volume.id)]), as: Volume.self) {
                volume = fresh
            } else if job.jobKind == .deleteVolume && job.jobState == .succeeded {
                volume.status = VolumeStatus.deleted.rawValue
            }
            result.volume = volume
        }
        if var snapshot = result.snapshot {
            if let fresh = try? await client.call("snapshot.get", .object(["snapshot_id": .string(snapshot.id)]), as: Snapshot.self) {
                snapshot = fresh
            } else if job.jobKind == .deleteSnapshot && job.jobState == .succeeded {
                snapshot.status = SnapshotStatus.deleted.rawValue
            }
            result.snapshot = snapshot
        }
        if var image = result.image {
            if let fresh = try? await client.call("image.get", .object(["image_id": .string(image.id)]), as: Image.self) {
                image = fresh
            } else if job.jobKind == .deleteImage && job.jobState == .succeeded {
                image.status = ImageStatus.deleted.rawValue
            }
            result.image = image
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

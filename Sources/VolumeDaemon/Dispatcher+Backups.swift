import Lifecycle
import VolumeEngine
import VolumeProtocol

/// The `backup.*` methods.
extension Dispatcher {
    /// `backup.create`
    func backupCreate(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let accepted = try await engine.createBackup(
            volumeID: try p.requiredID("volume_id"), name: try p.name("name"), incremental: try p.bool("incremental"))
        return try await backupMutation(accepted, wait: try p.bool("wait") ?? false)
    }

    /// `backup.restore`
    func backupRestore(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        let accepted = try await engine.restoreBackup(id: try p.requiredID("backup_id"), into: try p.id("volume_id"))
        return try await backupMutation(accepted, wait: try p.bool("wait") ?? false)
    }

    /// `backup.delete`
    func backupDelete(_ request: Request) async throws -> any Encodable & Sendable {
        let p = request.params
        return try await backupMutation(try await engine.deleteBackup(id: try p.requiredID("backup_id")), wait: try p.bool("wait") ?? false)
    }

    /// `backup.get`
    func backupGet(_ request: Request) async throws -> any Encodable & Sendable {
        Backup(try await engine.backup(id: try request.params.requiredID("backup_id")))
    }

    /// `backup.list`
    func backupList(_ request: Request) async throws -> any Encodable & Sendable {
        try await engine.backups(volumeID: try request.params.id("volume_id")).map(Backup.init)
    }

    /// The job with the backup (and a restore's volume), once it has ended with `wait`.
    private func backupMutation(_ accepted: AcceptedBackup, wait: Bool) async throws -> MutationResult {
        guard wait else {
            return MutationResult(job: Job(accepted.job), volume: accepted.volume.map { Volume($0) }, backup: Backup(accepted.backup))
        }
        let job = try await finished(accepted.job.id)
        let (backup, volume) = try await engine.rows(of: accepted)
        return MutationResult(job: Job(job), volume: volume.map { Volume($0) }, backup: backup.map(Backup.init))
    }
}

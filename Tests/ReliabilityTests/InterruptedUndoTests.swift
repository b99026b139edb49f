import Foundation
import Lifecycle
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol
import VolumeStore

/// A job that failed and was undoing when volumed died: the restart finishes the undo and
/// ends the job failed, never runs its steps again. (The steps a create resumed after its undo
/// had removed the image once made the volume available with no image behind it.)
@Suite(.timeLimit(.minutes(10))) struct InterruptedUndoTests {
    @Test func aCreateKilledWhileUndoingIsUndoneAfterTheRestart() async throws {
        let daemon = try await DaemonProcess.started()
        defer { daemon.cleanUp() }
        let made = try await daemon.client().call(
            "volume.create", .object(["size_gb": .int(1), "wait": .bool(true)]), as: MutationResult.self)
        let volume = try #require(made.volume)
        await daemon.terminate()

        // The rows as a kill between a failed create's "undoing" commit and its end leaves them:
        // the job running with its failure recorded, the volume creating, its image still there.
        let store = try daemon.openDatabase()
        try await store.write { tx in
            var job = try #require(try tx.job(made.job.id))
            (job.state, job.finishedAt, job.progress) = (.running, nil, 0)
            (job.errorKind, job.errorMessage) = (.notFound, "the source went away")
            try tx.update(job)
            var row = try #require(try tx.volume(volume.id))
            row.status = .creating
            try tx.update(row)
        }
        store.close()
        #expect(try await daemon.cluster.contents(of: daemon.pool).images == [volume.rbdImage])

        try await daemon.start()
        let client = try daemon.client()
        let job = try await client.call("job.wait", .object(["job_id": .string(made.job.id)]), as: Job.self)
        #expect(job.state == "failed")
        #expect(job.error?.kind == .notFound)
        #expect(job.error?.message == "the source went away")
        // As after any failed create: the volume says error, and its image is gone.
        let failed = try await client.call("volume.get", .object(["volume_id": .string(volume.id)]), as: Volume.self)
        #expect(failed.status == "error")
        try await Invariants.settle(daemon)
        #expect(try await daemon.cluster.contents(of: daemon.pool).images.isEmpty, "the undo removed the image")
        #expect(daemon.log.contains("resuming the undo"))
        await daemon.terminate()
        let problems = try await Invariants.check(daemon)
        #expect(problems.isEmpty, "\(problems)")
    }
}

import Foundation
import Testing
import VolumeProtocol

/// Every key of a reply is there, absent values as `null`; a reply missing optional keys
/// (an older daemon) still reads.
@Suite struct WireFormatTests {
    static let date = Date(timeIntervalSince1970: 1_800_000_000)

    static func object(_ value: some Encodable) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: try JSONEncoder.volumed().encode(value)) as? [String: Any])
    }

    @Test func absentOptionalsAreWrittenAsNull() throws {
        let job = Job(JobRecord(id: "j", kind: .createVolume, lockKey: "v", now: Self.date))
        let written = try Self.object(job)
        for key in ["error", "volume_id", "snapshot_id", "note", "started_at", "finished_at"] {
            #expect(written[key] is NSNull, "\(key) is written as null")
        }
        let volume = Volume(VolumeRecord(id: "v", name: "", sizeGB: 1, status: .available, pool: "volumes", rbdImage: "volume-v", now: Self.date))
        let volumeObject = try Self.object(volume)
        for key in ["parent", "source", "attachments"] { #expect(volumeObject[key] is NSNull, "\(key)") }
        #expect(volumeObject["multiattach"] as? Bool == false)
    }

    @Test func presentValuesRoundTrip() throws {
        var record = JobRecord(id: "j", kind: .deleteVolume, lockKey: "v", volumeID: "v", now: Self.date)
        (record.state, record.progress, record.errorKind, record.errorMessage, record.note) = (.failed, 0.5, .inUse, "attached", "n")
        (record.startedAt, record.finishedAt) = (Self.date, Self.date)
        let job = Job(record)
        let back = try JSONDecoder.volumed().decode(Job.self, from: try JSONEncoder.volumed().encode(job))
        #expect(back == job)
    }

    @Test func missingOptionalKeysReadAsNil() throws {
        let line = #"{"id":"j","kind":"volume.create","state":"queued","progress":0,"created_at":"2027-01-15T08:00:00Z"}"#
        let job = try JSONDecoder.volumed().decode(Job.self, from: Data(line.utf8))
        #expect(job.error == nil && job.note == nil && job.startedAt == nil)
        #expect(job.jobState == .queued && job.jobKind == .createVolume && !job.isFinal)
    }

    @Test func aMutationResultLeavesOutWhatTheCallIsNotAbout() throws {
        let job = Job(JobRecord(id: "j", kind: .createSnapshot, lockKey: "v", volumeID: "v", snapshotID: "s", now: Self.date))
        let written = try Self.object(MutationResult(job: job))
        #expect(Set(written.keys) == ["job"])
    }
}

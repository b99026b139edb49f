/// The wire's view of the core's rows: the one place a record becomes what clients read.
extension Volume {
    /// An available volume with attachments is `in-use` (Cinder's word); the database keeps the
    /// lifecycle state and the count apart.
    public init(_ record: VolumeRecord, attachments: [AttachmentRecord]? = nil) {
        let source: Source? = switch (record.sourceKind, record.sourceID) {
        case (.volume?, let id?): .volume(id)
        case (.snapshot?, let id?): .snapshot(id)
        case (.image?, let id?): .image(id)
        case (.managed?, _): .managed
        default: nil
        }
        let parent: Parent? = if record.parentVolumeID != nil || record.parentImageID != nil {
            Parent(volumeID: record.parentVolumeID, imageID: record.parentImageID, rbdSnapshot: record.parentSnapshot ?? "")
        } else {
            nil
        }
        self.init(
            id: record.id, name: record.name, sizeGB: record.sizeGB,
            status: (record.status == .available && record.attachCount > 0 ? .inUse : record.status).rawValue, pool: record.pool,
            rbdImage: record.rbdImage, parent: parent, source: source, cloneDepth: record.cloneDepth,
            multiattach: record.multiattach, attachmentCount: record.attachCount, attachments: attachments.map { $0.map(Attachment.init) },
            createdAt: record.createdAt, updatedAt: record.updatedAt)
        purgeAt = record.status == .deleted ? record.purgeAfter : nil
    }
}

extension Attachment {
    public init(_ record: AttachmentRecord) {
        self.init(id: record.id, volumeID: record.volumeID, host: record.host, createdAt: record.createdAt)
    }
}

extension Image {
    public init(_ record: ImageRecord) {
        self.init(
            id: record.id, name: record.name, status: record.status.rawValue, pool: record.pool, rbdImage: record.rbdImage,
            sizeBytes: record.sizeBytes, checksum: record.checksum, location: record.location, createdAt: record.createdAt)
    }
}

extension Snapshot {
    public init(_ record: SnapshotRecord) {
        self.init(
            id: record.id, volumeID: record.volumeID, name: record.name, status: record.status.rawValue, sizeGB: record.sizeGB,
            rbdSnapshot: record.rbdSnapshot, createdAt: record.createdAt, scheduleID: record.scheduleID)
    }
}

extension Backup {
    public init(_ record: BackupRecord) {
        self.init(
            id: record.id, volumeID: record.volumeID, name: record.name, status: record.status.rawValue, sizeGB: record.sizeGB,
            parentID: record.parentID, bytesTransferred: record.bytesTransferred, createdAt: record.createdAt)
    }
}

extension Schedule {
    public init(_ record: ScheduleRecord) {
        self.init(
            id: record.id, volumeID: record.volumeID, intervalSeconds: record.intervalSeconds, keep: record.keep,
            lastRunAt: record.lastRunAt, nextRunAt: record.nextRunAt, createdAt: record.createdAt)
    }
}

extension Job {
    public init(_ record: JobRecord) {
        let error: JobError? = record.errorKind.map { JobError(kind: ErrorKind($0), message: record.errorMessage ?? "") }
        self.init(
            id: record.id, kind: record.kind.rawValue, state: record.state.rawValue, progress: record.progress, error: error,
            volumeID: record.volumeID, snapshotID: record.snapshotID, note: record.note, createdAt: record.createdAt,
            startedAt: record.startedAt, finishedAt: record.finishedAt)
    }
}

extension ErrorKind {
    /// The wire's word for an engine failure (the one mapping between the two).
    public init(_ kind: FailureKind) {
        self = switch kind {
        case .notFound: .notFound
        case .conflict: .conflict
        case .inUse: .inUse
        case .busy: .busy
        case .invalid: .invalidParams
        case .clusterUnavailable: .clusterUnavailable
        case .cancelled: .cancelled
        case .storageUnavailable: .storageUnavailable
        case .internalError: .internalError
        }
    }
}

import Lifecycle

extension JobRecord {
    /// The operation that runs this job, with its kind's parameters.
    func operation() throws -> any Operation {
        func require(_ value: String?, _ what: String) throws -> String {
            guard let value else { throw EngineError.internalError("job \(id) (\(kind.rawValue)) has no \(what)") }
            return value
        }
        switch kind {
        case .createVolume:
            return CreateVolume(volumeID: try require(volumeID, "volume"), mode: try parameters(CreateVolumeParameters.self).mode)
        case .deleteVolume:
            let prior = try parameters(PriorStatusParameters<VolumeStatus>.self).priorStatus
            return DeleteVolume(volumeID: try require(volumeID, "volume"), priorStatus: prior ?? .available)
        case .extendVolume:
            return ExtendVolume(volumeID: try require(volumeID, "volume"), sizeGB: try parameters(ExtendVolumeParameters.self).sizeGB)
        case .flattenVolume:
            return FlattenVolume(volumeID: try require(volumeID, "volume"))
        case .createSnapshot:
            return CreateSnapshot(snapshotID: try require(snapshotID, "snapshot"))
        case .deleteSnapshot:
            let prior = try parameters(PriorStatusParameters<SnapshotStatus>.self).priorStatus
            return DeleteSnapshot(snapshotID: try require(snapshotID, "snapshot"), volumeID: try require(volumeID, "volume"),
                                  priorStatus: prior ?? .available)
        case .purgeVolume:
            return PurgeVolume(volumeID: try require(volumeID, "volume"))
        case .reconcile:
            return ReconcilePools(fix: try parameters(ReconcileParameters.self).fix)
        case .revertVolume:
            return RevertVolume(volumeID: try require(volumeID, "volume"), snapshotID: try require(snapshotID, "snapshot"))
        case .manageVolume:
            return ManageVolume(volumeID: try require(volumeID, "volume"), sourceImage: try parameters(ManageVolumeParameters.self).sourceImage)
        case .unmanageVolume:
            return UnmanageVolume(volumeID: try require(volumeID, "volume"))
        case .undeleteVolume:
            return UndeleteVolume(volumeID: try require(volumeID, "volume"))
        case .createBackup:
            return CreateBackup(backupID: try parameters(BackupParameters.self).backupID, volumeID: try require(volumeID, "volume"))
        case .restoreBackup:
            let p = try parameters(BackupParameters.self)
            return RestoreBackup(backupID: p.backupID, volumeID: try require(volumeID, "volume"), newVolume: p.newVolume ?? false)
        case .deleteBackup:
            return DeleteBackup(backupID: try parameters(BackupParameters.self).backupID)
        case .createImage:
            let p = try parameters(CreateImageParameters.self)
            if p.fromVolume == true {
                return ImageFromSource(imageID: try require(imageID, "image"), volumeID: try require(volumeID, "volume"), snapshotID: snapshotID)
            }
            return CreateImage(imageID: try require(imageID, "image"), sizeBytes: p.sizeBytes)
        case .deleteImage:
            let prior = try parameters(PriorStatusParameters<ImageStatus>.self).priorStatus
            return DeleteImage(imageID: try require(imageID, "image"), priorStatus: prior ?? .active)
        case .exportImage:
            let p = try parameters(ExportImageParameters.self)
            return ExportImage(imageID: try require(imageID, "image"), offset: p.offset ?? 0, length: p.length)
        }
    }

    /// Whether the job takes one of the `rbd_concurrent_flatten_operations` slots.
    var flattens: Bool {
        switch kind {
        case .flattenVolume: true
        case .createVolume: ((try? parameters(CreateVolumeParameters.self))?.mode)?.flattens ?? false
        default: false
        }
    }
}

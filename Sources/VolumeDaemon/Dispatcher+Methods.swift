import VolumeProtocol

/// The table from method to handler. Exhaustive: a method without a handler does not compile.
extension Dispatcher {
    /// What a handler gets: the request's parameters, who asked, and where to leave work that
    /// follows the reply.
    struct Request: Sendable {
        let params: ParamReader
        let peer: PeerCredentials
        let followUp: FollowUp.Slot
        /// The connection, for uploads and downloads (nil when the request came another way).
        let stream: ClientStream?
    }

    typealias Handler = @Sendable (Dispatcher) -> @Sendable (Request) async throws -> any Encodable & Sendable

    static func handler(for method: Method) -> Handler {
        switch method {
        case .volumeCreate: { $0.volumeCreate }
        case .volumeDelete: { $0.volumeDelete }
        case .volumeExtend: { $0.volumeExtend }
        case .volumeFlatten: { $0.volumeFlatten }
        case .volumeGet: { $0.volumeGet }
        case .volumeList: { $0.volumeList }
        case .volumeUsage: { $0.volumeUsage }
        case .volumeRevert: { $0.volumeRevert }
        case .volumeAttach: { $0.volumeAttach }
        case .volumeDetach: { $0.volumeDetach }
        case .volumeManage: { $0.volumeManage }
        case .volumeUnmanage: { $0.volumeUnmanage }
        case .volumeUndelete: { $0.volumeUndelete }
        case .snapshotCreate: { $0.snapshotCreate }
        case .snapshotDelete: { $0.snapshotDelete }
        case .snapshotGet: { $0.snapshotGet }
        case .snapshotList: { $0.snapshotList }
        case .backupCreate: { $0.backupCreate }
        case .backupRestore: { $0.backupRestore }
        case .backupDelete: { $0.backupDelete }
        case .backupGet: { $0.backupGet }
        case .backupList: { $0.backupList }
        case .scheduleCreate: { $0.scheduleCreate }
        case .scheduleDelete: { $0.scheduleDelete }
        case .scheduleList: { $0.scheduleList }
        case .imageCreate: { $0.imageCreate }
        case .imageGet: { $0.imageGet }
        case .imageList: { $0.imageList }
        case .imageExport: { $0.imageExport }
        case .imageDelete: { $0.imageDelete }
        case .jobGet: { $0.jobGet }
        case .jobList: { $0.jobList }
        case .jobCancel: { $0.jobCancel }
        case .jobWait: { $0.jobWait }
        case .jobWatch: { $0.jobWatch }
        case .serviceStatus: { $0.serviceStatus }
        case .serviceCapacity: { $0.serviceCapacity }
        case .serviceMetrics: { $0.serviceMetrics }
        case .rpcDiscover: { $0.rpcDiscover }
        case .serviceReconcile: { $0.serviceReconcile }
        }
    }
}

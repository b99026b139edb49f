/// A started daemon whose image store (`rbd_store_pool`) and VM disks (`images_rbd_pool`) have
/// pools of their own, as Glance's `images` and Nova's `vms`.
public struct ImageStoreDaemon: Sendable {
    public let daemon: DaemonProcess
    public let imagePool: String
    public let vmsPool: String

    public static func started() async throws -> ImageStoreDaemon {
        let cluster = try TestCluster.require()
        let imagePool = try await cluster.makePool("img")
        let vmsPool = try await cluster.makePool("vms")
        let daemon = try await DaemonProcess(imagePool: imagePool, vmsPool: vmsPool)
        let started = ImageStoreDaemon(daemon: daemon, imagePool: imagePool, vmsPool: vmsPool)
        do {
            try await daemon.start()
        } catch {
            started.cleanUp()
            throw error
        }
        return started
    }

    /// Stops the daemon and removes its three pools (callable from `defer`).
    public func cleanUp() {
        daemon.cleanUp()
        daemon.cluster.deletePool(imagePool)
        daemon.cluster.deletePool(vmsPool)
    }
}

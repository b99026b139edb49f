import Logging
import RBD
import ServiceLifecycle
import VolumeEngine

/// A daemon started while the cluster was unreachable serves reads from its database; this
/// service keeps trying to connect (the wait doubling up to a minute) and ends once connected,
/// or when the daemon stops.
struct ClusterReconnector: Service {
    let cluster: Cluster
    let engine: Engine
    let logger: Logger

    func run() async throws {
        var wait = Duration.seconds(max(1, cluster.settings.connectionInterval))
        while !cluster.isConnected && !engine.isStopping {
            do {
                let pause = wait
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            } catch {
                return  // the daemon is stopping
            }
            if (try? await cluster.connect()) != nil {
                logger.notice("connected to the ceph cluster")
                return
            }
            wait = min(wait * 2, .seconds(60))
        }
    }
}

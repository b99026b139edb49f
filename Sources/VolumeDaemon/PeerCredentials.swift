import CSystemd
import NIOCore

/// Who is on the other end of a connection (SO_PEERCRED).
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public static let unknown = PeerCredentials(pid: 0, uid: .max, gid: .max)

    /// Reads the peer of an accepted Unix socket channel.
    static func of(_ channel: any Channel) async -> PeerCredentials {
        guard let provider = channel as? any SocketOptionProvider else { return .unknown }
        let future: EventLoopFuture<volumed_ucred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(VOLUMED_SO_PEERCRED))
        guard let cred = try? await future.get() else { return .unknown }
        return PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid)
    }
}

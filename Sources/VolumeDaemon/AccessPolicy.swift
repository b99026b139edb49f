import Glibc
import Logging
import NIOPosix

/// Who may call mutating methods: root, and members (primary or supplementary) of the
/// configured admin groups. User and group lookups go through NSS (files, LDAP, sssd: they may
/// block on the network), so they run on NIO's blocking pool, never on Swift's cooperative threads.
public struct AccessPolicy: Sendable {
    public var adminGIDs: Set<UInt32>

    public init(adminGIDs: Set<UInt32>) {
        self.adminGIDs = adminGIDs
    }

    /// The ids of `admin_groups` (names or numbers); a name that does not exist is logged and skipped.
    init(adminGroups names: [String], logger: Logger) async {
        let resolved = (try? await NIOThreadPool.singleton.runIfActive { names.map { ($0, Self.groupID(named: $0)) } }) ?? []
        var ids: Set<UInt32> = []
        for (name, id) in resolved {
            if let id {
                ids.insert(id)
            } else {
                logger.warning("admin group '\(name)' does not exist")
            }
        }
        self.init(adminGIDs: ids)
    }

    func mayChange(_ peer: PeerCredentials) async -> Bool {
        if peer.uid == 0 { return true }
        if adminGIDs.contains(peer.gid) { return true }
        guard !adminGIDs.isEmpty else { return false }
        let groups = (try? await NIOThreadPool.singleton.runIfActive { Self.groups(ofUID: peer.uid, primary: peer.gid) }) ?? []
        return !adminGIDs.isDisjoint(with: groups)
    }

    private static func groupID(named name: String) -> UInt32? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        if getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil { return entry.gr_gid }
        return UInt32(name)
    }

    /// The groups a user belongs to, from the system's user and group databases.
    static func groups(ofUID uid: UInt32, primary: UInt32) -> Set<UInt32> {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else { return [] }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, primary, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(name, primary, &groups, &count) >= 0 else { return [] }
        }
        return Set(groups.prefix(Int(count)))
    }
}

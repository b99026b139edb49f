import Foundation
import Glibc

/// What the holder of the cluster lock writes beside it (object `volumed.holder`): who it is
/// for standbys and operators, and every RADOS client it uses, for the successor to fence.
struct HolderRecord: Codable, Sendable, Equatable {
    /// The lock cookie: this record describes the lock's holder only while they match.
    var cookie: String
    var host: String
    var pid: Int32
    var since: Date
    /// The OS instance it ran in (boot id and pid namespace): a record of this same machine
    /// whose pid is gone was a crash here, and its lock can be broken at once.
    var machine: String
    /// RADOS client addresses: librbd's, and the SQLite VFS's for a shared database.
    var clients: [String]
    /// Where its database is (a path, or `rados://pool/namespace/name`).
    var database: String

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    static func timestamp(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// This boot and pid namespace, e.g. `3f1c…:4026531836`.
    static let thisMachine: String = {
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown-boot"
        var buffer = [CChar](repeating: 0, count: 128)
        let length = readlink("/proc/self/ns/pid", &buffer, buffer.count - 1)
        let namespace = length > 0 ? String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown-ns"
        return "\(boot):\(namespace)"
    }()

    /// Whether process `pid` of this machine still runs (a process we may not signal does).
    static func isAlive(pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}

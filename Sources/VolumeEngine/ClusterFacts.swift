import Foundation
import RBD

/// What the monitors say about the cluster, parsed from their JSON: the monitor addresses
/// (for connection info) and pool usage (for capacity).
public enum ClusterFacts {
    /// Monitor addresses from `mon dump`: the v1 address of each monitor when it has one
    /// (what QEMU's librbd and the kernel client use by default), otherwise its v2 address.
    static func monitors(_ session: Cluster.Session) throws -> [(host: String, port: Int)] {
        let reply = try session.monitorCommand(#"{"prefix": "mon dump", "format": "json"}"#)
        guard let dump = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any],
              let mons = dump["mons"] as? [[String: Any]] else {
            throw EngineError.internalError("cannot read the monitor map")
        }
        return mons.compactMap { mon -> (String, Int)? in
            let addresses = ((mon["public_addrs"] as? [String: Any])?["addrvec"] as? [[String: Any]]) ?? []
            let chosen = addresses.first { $0["type"] as? String == "v1" } ?? addresses.first
            let text = (chosen?["addr"] as? String) ?? (mon["addr"] as? String)?.split(separator: "/").first.map(String.init)
            guard let text, let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
            var host = String(text[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            return (host, port)
        }
    }

    /// One pool's usage from `df`, and its byte quota (0 when none).
    struct PoolUsage: Sendable {
        var stored: Int64
        var maxAvailable: Int64
        var quota: Int64
        var clusterTotal: Int64
    }

    static func usage(_ session: Cluster.Session, pools: [String]) throws -> [String: PoolUsage] {
        let reply = try session.monitorCommand(#"{"prefix": "df", "format": "json"}"#)
        guard let df = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any],
              let list = df["pools"] as? [[String: Any]] else {
            throw EngineError.internalError("cannot read the cluster's df")
        }
        let total = ((df["stats"] as? [String: Any])?["total_bytes"] as? NSNumber)?.int64Value ?? 0
        var result: [String: PoolUsage] = [:]
        for entry in list {
            guard let name = entry["name"] as? String, pools.contains(name), let stats = entry["stats"] as? [String: Any] else { continue }
            // Cinder's choice: `stored` (what clients wrote), falling back to `bytes_used`.
            let stored = (stats["stored"] as? NSNumber ?? stats["bytes_used"] as? NSNumber)?.int64Value ?? 0
            let maxAvailable = (stats["max_avail"] as? NSNumber)?.int64Value ?? 0
            let quotaReply = try session.monitorCommand(#"{"prefix": "osd pool get-quota", "pool": "\#(name)", "format": "json"}"#)
            let quota = ((try? JSONSerialization.jsonObject(with: Data(quotaReply.utf8)) as? [String: Any])?["quota_max_bytes"] as? NSNumber)?.int64Value ?? 0
            result[name] = PoolUsage(stored: stored, maxAvailable: maxAvailable, quota: quota, clusterTotal: total)
        }
        return result
    }
}

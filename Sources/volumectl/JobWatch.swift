import Foundation
import Glibc
import VolumeClient
import VolumeProtocol

/// `volumectl job list --watch`: the list, then kept current from the daemon's `job.changed`
/// notifications (no polling), until Ctrl-C or the daemon goes. On a terminal the table is
/// redrawn in place; otherwise (and with `--json`) each change is one line.
enum JobWatch {
    static func run(_ client: VolumeClient, _ params: [String: JSONValue], limit: Int, json: Bool) async throws -> Never {
        var params = params
        params["watch"] = .bool(true)
        var jobs = try await client.run("job.list", params, as: [Job].self)
        let terminal = isatty(STDOUT_FILENO) == 1 && !json
        if terminal { redraw(jobs) } else { for job in jobs.reversed() { try line(job, json: json) } }
        let decoder = JSONDecoder.volumed()
        while true {
            let text = try await client.readLine()
            guard let notification = try? decoder.decode(RPCNotification.self, from: text), notification.method == "job.changed",
                  let job = try? decoder.decode(Job.self, from: try JSONEncoder.volumed().encode(notification.params)) else { continue }
            if let index = jobs.firstIndex(where: { $0.id == job.id }) { jobs[index] = job } else { jobs.insert(job, at: 0) }
            jobs = Array(jobs.prefix(limit))
            if terminal { redraw(jobs) } else { try line(job, json: json) }
        }
    }

    private static func redraw(_ jobs: [Job]) {
        print("\u{1B}[H\u{1B}[2J", terminator: "")
        try? Output.jobs(jobs, json: false)
        fflush(nil)
    }

    /// One job as one line: compact JSON, or the table's columns.
    private static func line(_ job: Job, json: Bool) throws {
        if json {
            let encoder = JSONEncoder.volumed()
            print(String(decoding: try encoder.encode(job), as: UTF8.self))
        } else {
            let detail = job.error.map { "\($0.kind.rawValue): \($0.message)" } ?? job.note ?? ""
            print([job.id, job.kind, job.state, "\(Int((job.progress * 100).rounded()))%", job.volumeID ?? "-", detail].joined(separator: "  "))
        }
        fflush(nil)
    }
}

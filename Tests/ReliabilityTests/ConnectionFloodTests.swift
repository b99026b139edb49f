import Foundation
import Glibc
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// One client opening connections in a loop and holding them: past `max_connections` each new
/// one gets an error line at once (never a hang) and is closed; idle ones are closed after
/// `connection_idle_timeout` (one waiting for a reply is not idle: `IdleConnectionTests`); once
/// the flood lets go the daemon answers a new client at once and holds no more descriptors than before.
@Suite(.timeLimit(.minutes(5))) struct ConnectionFloodTests {
    static let limit = 40
    static let idleTimeout = 45

    /// Descriptors the daemon has open.
    static func descriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    @Test func twoThousandConnectionsLeaveTheDaemonAnswering() async throws {
        // An idle timeout well past how long the flood takes on a loaded machine: were the held
        // connections closed during it, attempts would be served instead of refused.
        let daemon = try DaemonProcess(defaultExtra: "max_connections = \(Self.limit)\nconnection_idle_timeout = \(Self.idleTimeout)")
        defer { daemon.cleanUp() }
        try await daemon.start()
        let pid = try #require(daemon.pid)
        let before = Self.descriptors(pid)

        // The flood: every slot taken (each answered once, so the daemon has counted it)...
        var held: [VolumeClient] = []
        for _ in 0..<Self.limit {
            let client = try daemon.client()
            _ = try await client.call("service.status")
            held.append(client)
        }
        // ...and 2,000 more attempts: each gets an error line at once, then the daemon closes it.
        var refused = 0, unanswered = 0
        let flood = ContinuousClock.now
        for _ in 0..<2_000 {
            guard let client = try? daemon.client(), let reply = try? await client.readLine(),
                  (try? JSONDecoder.volumed().decode(RPCResponse.self, from: reply))?.error?.kind == .busy else {
                unanswered += 1
                // An attempt that is served waits for the idle timeout: stop early, it already failed.
                if unanswered > 3 { break }
                continue
            }
            refused += 1
        }
        #expect(flood.duration(to: .now) < .seconds(Self.idleTimeout), "the flood outlasted the idle timeout: this test cannot tell")
        #expect(unanswered == 0, "every connection past the limit was told so at once")
        #expect(refused == 2_000)
        #expect(daemon.log.contains("refused a connection"))
        #expect(daemon.log.components(separatedBy: "refused a connection").count < 200, "refusals are logged once a second at most")

        // The held connections are idle: closed after the idle timeout; a new client is served at once.
        try await Task.sleep(until: flood + .seconds(Self.idleTimeout + 5))
        let start = ContinuousClock.now
        let fresh = try daemon.client()
        _ = try await fresh.call("service.status", as: ServiceStatus.self)
        #expect(start.duration(to: .now) < .milliseconds(100), "answered in \(start.duration(to: .now))")
        held.removeAll()
        try await Task.sleep(for: .milliseconds(500))
        #expect(Self.descriptors(pid) <= before + 2, "descriptors \(before) before, \(Self.descriptors(pid)) after")
    }
}

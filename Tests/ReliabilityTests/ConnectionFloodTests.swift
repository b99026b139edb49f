import Foundation
import Glibc
import TestSupport
import Testing
import VolumeClient
import VolumeProtocol

/// One client opening connections in a loop and holding them: past `max_connections` each new
/// one gets an error line at once (never a hang) and is closed; idle ones are closed after
/// `connection_idle_timeout` (one waiting for a reply is not idle: `IdleConnectionTests`); once
/// the flood lets go the daemon answers a new client at once and holds none of its connections.
@Suite(.timeLimit(.minutes(10))) struct ConnectionFloodTests {
    static let limit = 40

    /// Connections the daemon has accepted on `path` and not closed (its listening socket aside).
    static func connections(to path: String) -> Int {
        let table = (try? String(contentsOfFile: "/proc/net/unix", encoding: .utf8)) ?? ""
        return max(0, table.split(separator: "\n").filter { $0.hasSuffix(" " + path) }.count - 1)
    }

    @Test func twoThousandConnectionsLeaveTheDaemonAnswering() async throws {
        // No idle timeout here: on a loaded machine it could close held connections mid-flood,
        // and attempts would be served instead of refused (the idle rule has its own test below).
        let daemon = try await DaemonProcess.started(defaultExtra: "max_connections = \(Self.limit)\nconnection_idle_timeout = 0")
        defer { daemon.cleanUp() }

        // The flood: every slot taken (each answered once, so the daemon has counted it)...
        var held: [VolumeClient] = []
        for _ in 0..<Self.limit {
            let client = try daemon.client()
            _ = try await client.call("service.status")
            held.append(client)
        }
        // ...and 2,000 more attempts: each gets an error line at once, then the daemon closes it.
        // Blocking connects and polls: on a thread of their own, not a cooperative one.
        let socketPath = daemon.socketPath
        let (refused, unanswered) = await onOwnThread {
            var refused = 0, unanswered = 0
            for _ in 0..<2_000 {
                guard let reply = Self.firstLine(of: socketPath, within: 2_000),
                      (try? JSONDecoder.volumed().decode(RPCResponse.self, from: reply))?.error?.kind == .busy else {
                    unanswered += 1
                    if unanswered > 3 { break }
                    continue
                }
                refused += 1
            }
            return (refused, unanswered)
        }
        #expect(unanswered == 0, "every connection past the limit was told so at once")
        #expect(refused == 2_000)
        #expect(daemon.log.contains("refused a connection"))
        #expect(daemon.log.components(separatedBy: "refused a connection").count < 200, "refusals are logged once a second at most")

        // The flood lets go: the daemon closes its connections, and a new client is served at once (the
        // best of twenty tries, a moment apart: the suites share two busy cores).
        held.removeAll()
        let closing = ContinuousClock.now + .seconds(30)
        while Self.connections(to: daemon.socketPath) > 0 && ContinuousClock.now < closing { try await Task.sleep(for: .milliseconds(100)) }
        #expect(Self.connections(to: daemon.socketPath) == 0, "the daemon still holds connections of the flood")
        var fastest = Duration.seconds(60)
        for _ in 0..<20 {
            let start = ContinuousClock.now
            _ = try await daemon.client().call("service.status", as: ServiceStatus.self)
            fastest = min(fastest, start.duration(to: .now))
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(fastest < .milliseconds(100), "answered in \(fastest) at best")
    }

    /// One user holding all it may (`max_connections_per_user`) leaves the slots of the others:
    /// its next attempts are refused with `busy` naming its uid, and another user is served.
    @Test func oneUserCannotTakeEverySlot() async throws {
        let daemon = try await DaemonProcess.started(
            defaultExtra: "max_connections = \(Self.limit)\nmax_connections_per_user = 10\nconnection_idle_timeout = 0")
        defer { daemon.cleanUp() }
        chmod(daemon.socketPath, 0o666)
        var held: [VolumeClient] = []
        for _ in 0..<10 {
            let client = try daemon.client()
            _ = try await client.call("service.status")
            held.append(client)
        }
        let socketPath = daemon.socketPath
        let replies = await onOwnThread { (0..<200).map { _ in Self.firstLine(of: socketPath, within: 2_000) } }
        let refusals = replies.compactMap { $0.flatMap { try? JSONDecoder.volumed().decode(RPCResponse.self, from: $0) }?.error }
        #expect(refusals.count == 200 && refusals.allSatisfy { $0.kind == .busy })
        #expect(refusals.first?.message.contains("uid 0 has 10 connections open") == true)
        // Another user (nobody) still gets in and is answered.
        let binary = (ProcessInfo.processInfo.environment["VOLUMED_BIN"] ?? ".build/debug") + "/volumectl"
        let other = try await ToolRun.run(
            "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", binary, "status", "--json"],
            environment: ["VOLUMED_SOCKET": socketPath])
        #expect(other.status == 0, "\(other.stderr)")
        #expect(daemon.log.contains("refused a connection of uid 0"))
        held.removeAll()
    }

    @Test func anIdleConnectionIsClosedAndABusyOneIsNot() async throws {
        // 10 s: a daemon starved of CPU for seconds by the tests beside it must not look idle to itself.
        let daemon = try await DaemonProcess.started(defaultExtra: "connection_idle_timeout = 10")
        defer { daemon.cleanUp() }
        let idle = try daemon.client()
        let busy = try daemon.client()
        _ = try await idle.call("service.status")
        // Busy: one request after another for twice the timeout (always traffic, or a request in flight).
        let until = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < until { _ = try await busy.call("service.status") }
        #expect((try? await busy.call("service.status")) != nil, "a connection in use stays open")
        #expect((try? await idle.call("service.status")) == nil, "one quiet for longer than the timeout is closed")
    }

    /// Connects to `path` and returns the first line the daemon sends unasked, or nil when none
    /// comes within `milliseconds` (the connection is closed either way).
    static func firstLine(of path: String, within milliseconds: Int32) -> Data? {
        guard let fd = RawSocket.connect(path) else { return nil }
        defer { close(fd) }
        return RawSocket.readLine(fd, within: milliseconds)
    }
}

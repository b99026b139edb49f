import Foundation
import Glibc
import Logging
import Testing
@testable import Systemd

@Suite struct NotifierTests {
    /// A datagram socket standing in for systemd's notify socket.
    final class FakeNotifySocket {
        let path = NSTemporaryDirectory() + "notify-\(UUID().uuidString.prefix(8)).sock"
        let fd: Int32

        init() throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            #expect(rc == 0)
        }

        func receive() -> String {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            return count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : ""
        }

        deinit {
            close(fd)
            unlink(path)
        }
    }

    @Test func sendsTheProtocolsAssignments() throws {
        let socket = try FakeNotifySocket()
        let notifier = Notifier(environment: ["NOTIFY_SOCKET": socket.path])
        notifier.ready(status: "ready: cluster ok")
        #expect(socket.receive() == "READY=1\nSTATUS=ready: cluster ok")
        notifier.reloading(status: "reloading")
        let reloading = socket.receive()
        #expect(reloading.hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
        #expect(reloading.hasSuffix("\nSTATUS=reloading"))
        notifier.extendTimeout(by: .seconds(15), status: "waiting\nfor the cluster")
        #expect(socket.receive() == "EXTEND_TIMEOUT_USEC=15000000\nSTATUS=waiting for the cluster", "a newline cannot break the protocol")
        notifier.stopping(status: "bye")
        #expect(socket.receive() == "STOPPING=1\nSTATUS=bye")
        notifier.watchdog()
        #expect(socket.receive() == "WATCHDOG=1")
    }

    @Test func withoutNotifySocketNothingIsSent() {
        #expect(!Notifier(environment: [:]).send(["READY=1"]))
    }

    @Test func watchdogIntervalAppliesOnlyToThisProcess() {
        #expect(Notifier.watchdogInterval(environment: ["WATCHDOG_USEC": "3000000"]) == .seconds(3))
        #expect(Notifier.watchdogInterval(environment: ["WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "1"]) == nil)
        #expect(Notifier.watchdogInterval(environment: [:]) == nil)
    }
}

@Suite struct JournalTests {
    @Test(arguments: [
        ("volume_id", "VOLUME_ID"), ("job-id", "JOB_ID"), ("_private", "PRIVATE"), ("9lives", "F9LIVES"),
        (String(repeating: "a", count: 80), String(repeating: "A", count: 64)),
    ])
    func metadataKeysBecomeValidFieldNames(key: String, field: String) {
        #expect(JournalFields.name(for: key) == field)
    }

    @Test func prioritiesFollowSyslog() {
        #expect(JournalFields.priority(.critical) == 2)
        #expect(JournalFields.priority(.error) == 3)
        #expect(JournalFields.priority(.warning) == 4)
        #expect(JournalFields.priority(.notice) == 5)
        #expect(JournalFields.priority(.info) == 6)
        #expect(JournalFields.priority(.debug) == 7)
    }

    @Test func multilineValuesUseTheLengthPrefixedForm() {
        let datagram = JournalConnection.encode([("MESSAGE", "a\nb"), ("VOLUME_ID", "v1")])
        let expected: [UInt8] = Array("MESSAGE\n".utf8) + [3, 0, 0, 0, 0, 0, 0, 0] + Array("a\nb\nVOLUME_ID=v1\n".utf8)
        #expect(datagram == expected)
    }

    @Test func stderrIsUsedWhenJournalStreamDoesNotMatch() {
        if case .journal = JournalLogHandler.detectSink(environment: ["JOURNAL_STREAM": "1:2"]) {
            Issue.record("a JOURNAL_STREAM for another file must not select the journal")
        }
        if case .journal = JournalLogHandler.detectSink(environment: [:]) {
            Issue.record("no JOURNAL_STREAM means stderr")
        }
    }

    @Test func levelIsSharedAndChangeable() {
        let level = LogLevelBox(.info)
        var first = JournalLogHandler(label: "a", sink: .stderr, level: level)
        let second = JournalLogHandler(label: "b", sink: .stderr, level: level)
        first.logLevel = .debug
        #expect(second.logLevel == .debug, "a reload changes every logger at once")
    }
}

import Foundation
import Glibc
import Logging
import Synchronization

/// A swift-log handler for systemd hosts. Under journald (stderr is the journal's stream, as
/// `$JOURNAL_STREAM` says) it sends each record over the native protocol with its metadata as
/// fields (`VOLUME_ID`, `JOB_ID`, …), `PRIORITY`, `SYSLOG_IDENTIFIER` and `CODE_FILE`/`CODE_LINE`;
/// otherwise it writes `<priority>message key=value` lines to stderr, which journald and
/// `systemd-cat` also understand.
public struct JournalLogHandler: LogHandler {
    /// Where records go; chosen once per process.
    public enum Sink: Sendable {
        case journal(JournalConnection)
        case stderr
    }

    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let identifier: String
    let sink: Sink
    /// The level shared by every handler of the process, so a reload can change it.
    let level: LogLevelBox

    public var logLevel: Logger.Level {
        get { level.value }
        set { level.value = newValue }
    }

    public init(label: String, identifier: String = "volumed", sink: Sink, level: LogLevelBox) {
        self.label = label
        self.identifier = identifier
        self.sink = sink
        self.level = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The journal when stderr is connected to it, stderr otherwise.
    public static func detectSink(environment: [String: String] = ProcessInfo.processInfo.environment) -> Sink {
        let socketPath = "/run/systemd/journal/socket"
        guard let stream = environment["JOURNAL_STREAM"] else { return .stderr }
        let parts = stream.split(separator: ":").compactMap { UInt64($0) }
        var info = stat()
        guard parts.count == 2, fstat(2, &info) == 0, UInt64(info.st_dev) == parts[0], UInt64(info.st_ino) == parts[1],
              access(socketPath, W_OK) == 0 else { return .stderr }
        guard let connection = JournalConnection(path: socketPath) else { return .stderr }
        return .journal(connection)
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let message = "\(event.message)"
        switch sink {
        case .journal(let connection):
            var fields: [(String, String)] = [
                ("MESSAGE", message),
                ("PRIORITY", String(JournalFields.priority(event.level))),
                ("SYSLOG_IDENTIFIER", identifier),
                ("CODE_FILE", event.file),
                ("CODE_LINE", String(event.line)),
                ("CODE_FUNC", event.function),
                ("LOGGER", label),
            ]
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
                if let name = JournalFields.name(for: key) { fields.append((name, JournalFields.text(value))) }
            }
            if !connection.send(JournalConnection.encode(fields)) {
                writeStderr(event.level, message, merged)
            }
        case .stderr:
            writeStderr(event.level, message, merged)
        }
    }

    private func writeStderr(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata) {
        var line = "<\(JournalFields.priority(level))>\(message)"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(JournalFields.text(value))" }
        line = line.replacingOccurrences(of: "\n", with: " ") + "\n"
        line.withCString { _ = Glibc.write(2, $0, strlen($0)) }
    }
}

/// A log level that every handler of the process reads, and a reload may change.
public final class LogLevelBox: Sendable {
    private let level: Mutex<Logger.Level>
    public init(_ level: Logger.Level) { self.level = Mutex(level) }
    public var value: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }
}

/// journald's native protocol over one datagram socket kept for the life of the process:
/// one datagram per record, fields as `NAME=value\n`, or for values with a newline
/// `NAME\n` + 64-bit little-endian length + value + `\n`.
public final class JournalConnection: Sendable {
    private let fd: Int32
    private let address: sockaddr_un

    public init?(path: String) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        self.fd = fd
        self.address = address
    }

    deinit { close(fd) }

    /// Sends one record; false when journald did not take it (the caller falls back to stderr).
    func send(_ datagram: [UInt8]) -> Bool {
        var address = self.address
        let sent = datagram.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        return sent == datagram.count
    }

    static func encode(_ fields: [(String, String)]) -> [UInt8] {
        var datagram: [UInt8] = []
        for (name, value) in fields {
            let bytes = Array(value.utf8)
            datagram += Array(name.utf8)
            if bytes.contains(UInt8(ascii: "\n")) {
                datagram.append(UInt8(ascii: "\n"))
                withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { datagram += $0 }
            } else {
                datagram.append(UInt8(ascii: "="))
            }
            datagram += bytes
            datagram.append(UInt8(ascii: "\n"))
        }
        return datagram
    }
}

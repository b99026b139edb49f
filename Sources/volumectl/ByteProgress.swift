import Foundation
import Glibc
import Synchronization

/// A bar of bytes moved on a terminal (standard error); nothing elsewhere.
final class ByteProgress: Sendable {
    let label: String
    let total = Mutex<UInt64?>(nil)
    private let shown = Mutex<Int>(-1)
    private let terminal = isatty(STDERR_FILENO) == 1

    init(_ label: String, total: UInt64?) {
        self.label = label
        self.total.withLock { $0 = total }
    }

    func update(_ done: UInt64) {
        guard terminal else { return }
        let total = self.total.withLock { $0 }
        let mark = total.map { $0 == 0 ? 100 : Int(done * 100 / max($0, 1)) } ?? Int(done >> 24)
        guard shown.withLock({ value in defer { value = mark }; return value != mark }) else { return }
        let text: String
        if let total, total > 0 {
            let width = 40
            let filled = width * min(mark, 100) / 100
            text = "\r\(label) " + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
                + String(format: " %3d%% %.0f MiB", mark, Double(done) / 1_048_576)
        } else {
            text = String(format: "\r\(label) %.0f MiB", Double(done) / 1_048_576)
        }
        FileHandle.standardError.write(Data(text.utf8))
    }

    func end() {
        if terminal && shown.withLock({ $0 }) >= 0 { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

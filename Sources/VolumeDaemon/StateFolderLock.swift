import Foundation
import Glibc

/// One daemon per state folder: an exclusive `flock` on `state_dir/volumed.pid`, held for the
/// life of the process (the kernel drops it when the process dies, however it dies). A second
/// daemon started by hand on the same folder exits with the first one's pid instead of running
/// on its database beside it.
public final class StateFolderLock: Sendable {
    let path: String
    private let descriptor: Int32?

    public struct Held: Error, CustomStringConvertible {
        let message: String
        public var description: String { message }
    }

    /// Takes the lock, or throws `Held` naming the daemon that has it.
    init(folder: String) throws {
        path = (folder as NSString).appendingPathComponent("volumed.pid")
        var fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        if fd < 0 && (errno == EROFS || errno == EACCES) {
            // A read-only folder: a lock can still be taken on the file if it is there; if it is
            // not, no daemon runs here (it would have made it).
            fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 && errno == ENOENT {
                descriptor = nil
                return
            }
        }
        guard fd >= 0 else {
            throw Held(message: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw Held(message: """
                another volumed (pid \(holder.isEmpty ? "unknown" : holder)) runs on the state folder \(folder): \
                one daemon per database; stop it first, or give this one a state_dir of its own
                """)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = fd
    }

    deinit { if let descriptor { close(descriptor) } }
}

import Foundation
import Glibc

/// systemd socket activation: the listening sockets passed from fd 3 on (`LISTEN_FDS`,
/// `LISTEN_PID`). The variables are removed once read so children do not inherit them.
public enum SocketActivation {
    public static let firstDescriptor: Int32 = 3

    /// The first passed socket, or nil when the process was not socket-activated.
    public static func listeningDescriptor() -> Int32? {
        let environment = ProcessInfo.processInfo.environment
        guard let count = environment["LISTEN_FDS"].flatMap(Int.init), count >= 1 else { return nil }
        if let pid = environment["LISTEN_PID"].flatMap(Int32.init), pid != getpid() { return nil }
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDNAMES")
        _ = fcntl(firstDescriptor, F_SETFD, FD_CLOEXEC)
        return firstDescriptor
    }
}

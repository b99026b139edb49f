import Foundation
import Glibc
import Synchronization
import Testing
import VolumeClient

final class Flag: Sendable {
    let value = Atomic<Bool>(false)
}

@Suite struct VolumeClientTests {
    /// A failed connect closes its socket once. (It used to close it a second time from
    /// `deinit`, which ran because the init failed after every stored property was set: that
    /// second close hit whatever descriptor another thread had opened with the same number.)
    @Test func aFailedConnectNeverClosesSomeoneElsesDescriptor() {
        // A write to a pipe whose read end was closed under it fails (EPIPE) instead of killing the test.
        signal(SIGPIPE, SIG_IGN)
        let missing = "/tmp/volumed-no-such-socket-\(UUID().uuidString.prefix(8))"
        let done = Flag()
        let failures = Thread {
            for _ in 0..<20_000 { _ = try? VolumeClient(socketPath: missing) }
            done.value.store(true, ordering: .releasing)
        }
        failures.start()
        // Meanwhile: pipes opened and used on another thread; a stray close makes a write or
        // a read fail with EBADF (or read someone else's bytes).
        var broken = 0
        while !done.value.load(ordering: .acquiring) {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { continue }
            var byte: UInt8 = 42
            if write(ends[1], &byte, 1) != 1 { broken += 1 }
            var back: UInt8 = 0
            if read(ends[0], &back, 1) != 1 || back != 42 { broken += 1 }
            close(ends[0])
            close(ends[1])
        }
        #expect(broken == 0, "\(broken) pipe operations failed: a descriptor was closed under them")
    }

    /// A process started while a client is connected does not inherit the connection: once the
    /// client lets go, the daemon's side sees it closed, however long that process lives. (It
    /// used to inherit it: under a busy test suite, connections outlived their clients for as
    /// long as some daemon or CLI started meanwhile ran, and the daemon counted them open.)
    @Test func aChildProcessDoesNotKeepTheConnectionOpen() async throws {
        let path = "/tmp/volumed-cloexec-\(UUID().uuidString.prefix(8)).sock"
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(listener); unlink(path) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0 && listen(listener, 4) == 0)

        var client: VolumeClient? = try VolumeClient(socketPath: path)
        let accepted = accept(listener, nil, nil)
        defer { close(accepted) }
        _ = fcntl(accepted, F_SETFD, FD_CLOEXEC)
        // posix_spawn, as system(3), a shell or a C library would start it: every descriptor
        // without close-on-exec goes to the child (Foundation's Process closes them itself).
        var child: pid_t = 0
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("30"), nil]
        defer { arguments.forEach { free($0) } }
        #expect(posix_spawn(&child, "/bin/sleep", nil, nil, arguments, environ) == 0)
        defer {
            kill(child, SIGKILL)
            waitpid(child, nil, 0)
        }
        _ = client
        client = nil

        // The server's side reads end-of-file at once, while the child still runs.
        var ready = pollfd(fd: accepted, events: Int16(POLLIN), revents: 0)
        let readable = poll(&ready, 1, 5_000) == 1
        #expect(readable, "the connection the client closed is still open: the child inherited it")
        var byte: UInt8 = 0
        if readable { #expect(read(accepted, &byte, 1) == 0, "end-of-file") }
        #expect(kill(child, 0) == 0, "the child still runs")
    }

    @Test func aMissingSocketSaysWhereAndWhy() {
        #expect(throws: VolumeClient.ClientError.self) { try VolumeClient(socketPath: "/tmp/volumed-none/volumed.sock") }
        do {
            _ = try VolumeClient(socketPath: "/tmp/volumed-none/volumed.sock")
        } catch {
            #expect("\(error)".contains("/tmp/volumed-none/volumed.sock"))
            #expect("\(error)".contains("is volumed running?"))
        }
    }
}

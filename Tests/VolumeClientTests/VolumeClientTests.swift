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

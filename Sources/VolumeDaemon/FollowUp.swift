import Foundation
import Synchronization
import VolumeProtocol

/// Work a request leaves to run after its reply, on the caller's connection (`job.watch`'s
/// notifications): the connection runs it in its own task group, after writing the reply, and
/// cancels it when the connection closes.
struct FollowUp: Sendable {
    /// Pushes a notification to the caller's connection; throws once it is gone.
    typealias Notify = @Sendable (RPCNotification) async throws -> Void

    let run: @Sendable (_ notify: Notify) async throws -> Void

    /// Where a handler leaves its follow-up (at most one per request).
    final class Slot: Sendable {
        private let value = Mutex<FollowUp?>(nil)
        func set(_ followUp: FollowUp) { value.withLock { $0 = followUp } }
        func take() -> FollowUp? { value.withLock { $0.take() } }
    }
}

/// A reply, and what to do after it is written.
struct Reply: Sendable {
    /// Nil for a notification (a request without id).
    var line: Data?
    var followUp: FollowUp?
}

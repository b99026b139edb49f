/// Where a durable job is. Stored (and sent) by raw value.
public enum JobState: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case queued
    case running
    case succeeded
    case failed
    case cancelled

    /// The job has ended: its row will not change again.
    public var isFinal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled: true
        case .queued, .running: false
        }
    }

    /// The stored word, also in messages and logs.
    public var description: String { rawValue }
}

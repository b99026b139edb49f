import Foundation

/// A command run to its end: its exit status and what it printed on each stream.
public struct ToolRun: Sendable {
    public var status: Int32
    /// Ended by a signal (then `status` is the signal's number).
    public var signalled: Bool
    public var stdout: String
    public var stderr: String

    /// Runs `executable` on the calling thread, which it blocks: from async code, inside `onOwnThread`.
    public static func blocking(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ToolRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ToolRun(
            status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
            stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Runs `executable` on a thread of its own.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> ToolRun {
        try await onOwnThread { try blocking(executable, arguments, environment: environment) }
    }

    /// The JSON on standard output, if it is JSON.
    public var json: Any? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed]) }
}

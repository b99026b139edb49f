/// Why the lifecycle refuses a request, in words an operator understands.
public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var kind: FailureKind
    public var message: String

    public init(_ kind: FailureKind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

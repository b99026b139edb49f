import Glibc

/// A failed librbd/librados call, classified from its errno so callers can decide without
/// comparing numbers. `operation` names the call and its target for the log and the operator.
public struct RBDError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: Sendable, Equatable {
        case notFound
        case alreadyExists
        case busy
        case hasSnapshots
        case invalidArgument
        case permissionDenied
        case timedOut
        case notConnected
        case readOnly
        case noSpace
        case cancelled
        case other(Int32)
    }

    public let code: Code
    public let errno: Int32
    public let operation: String

    public init(errno: Int32, operation: String) {
        let e = abs(errno)
        self.errno = e
        self.operation = operation
        switch e {
        case ENOENT: code = .notFound
        case EEXIST: code = .alreadyExists
        case EBUSY: code = .busy
        case ENOTEMPTY: code = .hasSnapshots
        case EINVAL: code = .invalidArgument
        case EPERM, EACCES: code = .permissionDenied
        case ETIMEDOUT: code = .timedOut
        case ENOTCONN, ESHUTDOWN, ECONNREFUSED, EHOSTUNREACH, ENETUNREACH: code = .notConnected
        case EROFS: code = .readOnly
        case ENOSPC, EDQUOT: code = .noSpace
        case ECANCELED: code = .cancelled
        default: code = .other(e)
        }
    }

    /// True when the cluster, not the request, is the problem: worth retrying later.
    public var isClusterUnavailable: Bool {
        code == .timedOut || code == .notConnected
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Turns a negative librbd/librados return into a thrown `RBDError`.
@discardableResult
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(RBDError) -> Int32 {
    if rc < 0 { throw RBDError(errno: rc, operation: operation()) }
    return rc
}

extension String {
    /// A string from a C buffer filled up to its first NUL.
    init(nulTerminated buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self.init(decoding: bytes, as: UTF8.self)
    }
}

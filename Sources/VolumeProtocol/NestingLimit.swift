import Foundation

/// volumed's requests are shallow (a few levels); a line nested deeper than `maximumDepth` is
/// refused before decoding, so a client cannot make the daemon spend quadratic time (Foundation's
/// decoder builds a coding path per level) or exhaust the stack.
public enum NestingLimit {
    public static let maximumDepth = 32

    /// True when the JSON text nests arrays and objects deeper than `limit` (strings skipped).
    public static func exceeded(in bytes: Data, limit: Int = maximumDepth) -> Bool {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limit { return true }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return false
    }
}

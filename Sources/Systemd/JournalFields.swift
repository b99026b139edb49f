import Logging

/// How log records become journal fields: metadata keys map to upper-case field names
/// (`volume_id` → `VOLUME_ID`), levels map to syslog priorities.
public enum JournalFields {
    /// A journal field name for a metadata key: `[A-Z0-9_]`, not starting with `_` or a digit, ≤ 64 bytes.
    public static func name(for key: String) -> String? {
        var name = String(key.uppercased().unicodeScalars.map { scalar -> Character in
            let c = Character(scalar)
            return (c.isASCII && (c.isLetter || c.isNumber)) ? c : "_"
        })
        while name.hasPrefix("_") { name.removeFirst() }
        if let first = name.first, first.isNumber { name = "F" + name }
        guard !name.isEmpty else { return nil }
        return String(name.prefix(64))
    }

    /// syslog priority (0 emerg … 7 debug).
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The metadata value as one line of text.
    public static func text(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(text).joined(separator: ",")
        case .dictionary(let values): values.map { "\($0)=\(text($1))" }.sorted().joined(separator: ",")
        }
    }
}

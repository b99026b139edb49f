import Foundation

/// Reads a request's `params` object, naming the offending field in every error.
public struct ParamReader: Sendable {
    let object: [String: JSONValue]
    let method: String

    public init(_ params: JSONValue?, method: String) throws(RPCError) {
        self.method = method
        switch params {
        case nil, .null?: object = [:]
        case .object(let value)?: object = value
        case let other?: throw .invalidParams("\(method): params must be an object, not \(other.typeName)")
        }
    }

    /// Refuses fields the method does not know (a typo should not be silently ignored).
    public func allowOnly(_ keys: Set<String>) throws(RPCError) {
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw .invalidParams("\(method): unknown parameter '\(unknown.prefix(64))'")
        }
    }

    public func has(_ key: String) -> Bool {
        if case .null? = object[key] { return false }
        return object[key] != nil
    }

    public func string(_ key: String) throws(RPCError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw .invalidParams("\(method): \(key) must be a string, not \(other.typeName)")
        }
    }

    public func requiredString(_ key: String) throws(RPCError) -> String {
        guard let value = try string(key) else { throw .invalidParams("\(method): \(key) is required") }
        return value
    }

    /// A volume, snapshot or job id: a UUID in its canonical lowercase form.
    public func id(_ key: String) throws(RPCError) -> String? {
        guard let value = try string(key) else { return nil }
        guard value.utf8.count == 36, let uuid = UUID(uuidString: value), uuid.uuidString.lowercased() == value else {
            throw .invalidParams("\(method): \(key) must be a lowercase UUID, got '\(value.prefix(64))'")
        }
        return value
    }

    public func requiredID(_ key: String) throws(RPCError) -> String {
        guard let value = try id(key) else { throw .invalidParams("\(method): \(key) is required") }
        return value
    }

    public func int(_ key: String, in range: ClosedRange<Int>) throws(RPCError) -> Int? {
        switch object[key] {
        case nil, .null?: return nil
        case .int(let value)?:
            guard value >= range.lowerBound, value <= range.upperBound else {
                throw .invalidParams("\(method): \(key) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
            return Int(value)
        case .double(let value)?:
            throw .invalidParams("\(method): \(key) must be a whole number, got \(value)")
        case let other?: throw .invalidParams("\(method): \(key) must be a number, not \(other.typeName)")
        }
    }

    public func requiredInt(_ key: String, in range: ClosedRange<Int>) throws(RPCError) -> Int {
        guard let value = try int(key, in: range) else { throw .invalidParams("\(method): \(key) is required") }
        return value
    }

    public func bool(_ key: String) throws(RPCError) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?: throw .invalidParams("\(method): \(key) must be true or false, not \(other.typeName)")
        }
    }

    public func object(_ key: String) throws(RPCError) -> ParamReader? {
        switch object[key] {
        case nil, .null?: return nil
        case .object?: return try ParamReader(object[key], method: "\(method) \(key)")
        case let other?: throw .invalidParams("\(method): \(key) must be an object, not \(other.typeName)")
        }
    }

    /// A display name: 1–255 characters, no control characters.
    public func name(_ key: String) throws(RPCError) -> String? {
        guard let value = try string(key) else { return nil }
        // Bytes, not characters: RBD metadata, journald fields and terminals see bytes.
        guard !value.isEmpty, value.utf8.count <= 255 else {
            throw .invalidParams("\(method): \(key) must be 1 to 255 bytes of UTF-8 (it is \(value.utf8.count))")
        }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidParams("\(method): \(key) must not contain control characters")
        }
        // Bidirectional overrides and isolates make a name display as another one (a "Trojan
        // Source" name in a table or a log line).
        guard !value.unicodeScalars.contains(where: { Self.bidiControls.contains($0.value) }) else {
            throw .invalidParams("\(method): \(key) must not contain bidirectional override or isolate characters")
        }
        return value
    }

    /// U+202A–U+202E (embeddings, overrides) and U+2066–U+2069 (isolates).
    static let bidiControls: Set<UInt32> = [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]

    /// Idempotency keys: 1–128 printable ASCII characters.
    public func idempotencyKey() throws(RPCError) -> String? {
        guard let value = try string("idempotency_key") else { return nil }
        guard (1...128).contains(value.utf8.count), value.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else {
            throw .invalidParams("\(method): idempotency_key must be 1 to 128 printable ASCII characters")
        }
        return value
    }
}

extension ParamReader {
    /// A pool name: 1–128 letters, digits, `-`, `_` or `.`.
    public func poolName(_ key: String) throws(RPCError) -> String? {
        guard let value = try string(key) else { return nil }
        let ok = (1...128).contains(value.utf8.count) && value.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2d || $0 == 0x5f || $0 == 0x2e
        }
        guard ok else { throw .invalidParams("\(method): \(key) must be a pool name (letters, digits, '-', '_', '.'), got '\(value.prefix(64))'") }
        return value
    }

    /// An RBD image name: 1–255 bytes of printable ASCII without `/` or `@`, not `.` or `..`.
    public func rbdName(_ key: String) throws(RPCError) -> String {
        let value = try requiredString(key)
        let ok = (1...255).contains(value.utf8.count) && value.utf8.allSatisfy { (0x21...0x7e).contains($0) && $0 != 0x2f && $0 != 0x40 }
            && value != "." && value != ".."
        guard ok else { throw .invalidParams("\(method): \(key) must be an RBD image name (printable ASCII, no '/' or '@'), got '\(value.prefix(64))'") }
        return value
    }

    /// The object as compact JSON text (to store a client's connector as it came).
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(JSONValue.object(object))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// The largest volume volumed creates: 1 PiB.
public let maximumSizeGB = 1 << 20

import Foundation

/// Writes JSON straight into bytes, for replies too big for `JSONEncoder` to be quick (a
/// `volume.list` of 100,000 volumes). What it writes reads the same as `JSONEncoder.volumed()`'s
/// output: keys in sorted order, `/` not escaped, dates in ISO 8601, UTC, to the second.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends bytes that are JSON already (punctuation, a key with its quotes and colon).
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func raw<Bytes: Sequence>(_ encoded: Bytes) where Bytes.Element == UInt8 {
        bytes.append(contentsOf: encoded)
    }

    public mutating func null() { raw("null") }

    public mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }

    public mutating func int(_ value: Int) {
        // A small string: formatted in place, no allocation.
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings need no escape: copied in one go.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: value.utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0..<0x20:
                raw("\\u00")
                bytes.append(Self.hex[Int(byte >> 4)])
                bytes.append(Self.hex[Int(byte & 0x0F)])
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// `2026-11-27T03:12:42Z`, as `JSONEncoder.DateEncodingStrategy.iso8601` writes it.
    public mutating func date(_ value: Date) {
        var seconds = time_t(value.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        bytes.append(UInt8(ascii: "\""))
        digits(Int(parts.tm_year) + 1900, width: 4)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, width: 2)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), width: 2)
        bytes.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), width: 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), width: 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), width: 2)
        raw("Z\"")
    }

    /// Writes `values` as an array, each by `body`.
    public mutating func array<Element>(_ values: [Element], _ body: (inout JSONWriter, Element) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            body(&self, value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    private mutating func digits(_ value: Int, width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8((rest / divisor) % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)
}

/// A value that can write itself with a `JSONWriter` (the same JSON its `Encodable` gives).
public protocol JSONWritable: Sendable {
    func write(to writer: inout JSONWriter)
}

/// JSON written beforehand (a list written while its rows were read). Its `Encodable` side
/// (for encoders other than `JSONWriter`) parses the bytes back.
public struct WrittenJSON: JSONWritable, Encodable {
    let writer: JSONWriter

    public init(_ writer: JSONWriter) { self.writer = writer }

    public var count: Int { writer.bytes.count }

    public func encode(to encoder: any Encoder) throws {
        try JSONDecoder().decode(JSONValue.self, from: Data(writer.bytes)).encode(to: encoder)
    }

    public func write(to writer: inout JSONWriter) { writer.raw(self.writer.bytes) }
}

extension Array: JSONWritable where Element: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.array(self) { writer, element in element.write(to: &writer) }
    }
}

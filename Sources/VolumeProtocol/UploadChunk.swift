/// The binary framing of image data on the socket (`image.create {upload: "stream"}` after
/// `upload.ready`, `image.export {download: "stream"}` after `download.ready`): chunks, each an
/// 8-byte big-endian length and that many bytes; a length with the top bit set is that many
/// zero bytes (a hole) with no payload; length 0 ends the data, and JSON-RPC lines follow again.
public enum UploadChunk: Sendable, Equatable {
    case data(UInt64)
    case zeros(UInt64)
    case end

    /// The top bit of a length: a hole.
    public static let holeFlag: UInt64 = 1 << 63
    /// The notifications that open the binary part of a connection.
    public static let uploadReady = "upload.ready"
    public static let downloadReady = "download.ready"

    public init(header: UInt64) {
        if header == 0 {
            self = .end
        } else if header & Self.holeFlag != 0 {
            self = .zeros(header & ~Self.holeFlag)
        } else {
            self = .data(header)
        }
    }

    /// The 8 header bytes, big-endian.
    public var header: [UInt8] {
        let value: UInt64 = switch self {
        case .data(let count): count
        case .zeros(let count): count | Self.holeFlag
        case .end: 0
        }
        return (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }

    public enum FramingError: Error, CustomStringConvertible {
        case sentBeforeReady
        public var description: String {
            "the client sent data after an upload request before volumed answered it (wait for upload.ready)"
        }
    }
}

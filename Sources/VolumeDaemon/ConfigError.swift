/// A configuration problem, pointing at the file, line and option when it can.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var option: String?
    public var message: String

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let option { return "\(place): \(option): \(message)" }
        return "\(place): \(message)"
    }
}

import VolumeProtocol

/// A call's parameters from `pairs`, leaving out the nil ones (options not given, flags not set).
func parameters(_ pairs: KeyValuePairs<String, JSONValue?>) -> [String: JSONValue] {
    var params: [String: JSONValue] = [:]
    for (key, value) in pairs { params[key] = value }
    return params
}

extension JSONValue {
    /// A string option: nil (left out) when not given.
    static func given(_ value: String?) -> JSONValue? { value.map(JSONValue.string) }
    /// An integer option: nil (left out) when not given.
    static func given(_ value: Int?) -> JSONValue? { value.map { .int(Int64($0)) } }
    /// A flag: `true` when set, left out otherwise.
    static func flag(_ set: Bool) -> JSONValue? { set ? .bool(true) : nil }
}

extension GlobalOptions {
    /// Calls `method` and prints its answer with `print` (tables, or JSON with `--json`).
    func show<T: Decodable & Sendable>(
        _ method: String, _ params: [String: JSONValue] = [:], as type: T.Type, with print: (T, _ json: Bool) throws -> Void
    ) async throws {
        try print(try await connect().run(method, params, as: type), json)
    }
}

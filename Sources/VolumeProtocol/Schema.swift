/// A JSON Schema, as much of it as the protocol needs: the types of every parameter and result,
/// rendered into `rpc.discover`'s OpenRPC document and checked by `SchemaValidator`.
public indirect enum Schema: Sendable, Equatable {
    /// `format`: `uuid` or `date-time`.
    case string(format: String? = nil)
    case enumeration([String])
    case integer(minimum: Int64? = nil)
    case number
    case boolean
    case array(Schema)
    /// Properties not listed are allowed (a reply may grow new fields).
    case object([Property])
    /// The value or `null`.
    case nullable(Schema)
    case oneOf([Schema])
    /// A schema of `components.schemas`.
    case reference(String)
    /// Anything (an object's free-form part).
    case any

    public struct Property: Sendable, Equatable {
        public var name: String
        public var schema: Schema
        /// Present in every value (possibly `null` when nullable).
        public var required: Bool

        public init(_ name: String, _ schema: Schema, required: Bool = true) {
            self.name = name
            self.schema = schema
            self.required = required
        }
    }

    public static let uuid = Schema.string(format: "uuid")
    public static let dateTime = Schema.string(format: "date-time")

    /// The JSON Schema text of this schema, `$ref`s pointing into `#/components/schemas/`.
    public var json: JSONValue {
        switch self {
        case .string(let format):
            var object: [String: JSONValue] = ["type": .string("string")]
            if let format { object["format"] = .string(format) }
            return .object(object)
        case .enumeration(let values): return .object(["type": .string("string"), "enum": .array(values.map(JSONValue.string))])
        case .integer(let minimum):
            var object: [String: JSONValue] = ["type": .string("integer")]
            if let minimum { object["minimum"] = .int(minimum) }
            return .object(object)
        case .number: return .object(["type": .string("number")])
        case .boolean: return .object(["type": .string("boolean")])
        case .array(let items): return .object(["type": .string("array"), "items": items.json])
        case .object(let properties):
            var object: [String: JSONValue] = ["type": .string("object")]
            object["properties"] = .object(Dictionary(uniqueKeysWithValues: properties.map { ($0.name, $0.schema.json) }))
            let required = properties.filter(\.required).map { JSONValue.string($0.name) }
            if !required.isEmpty { object["required"] = .array(required) }
            return .object(object)
        case .nullable(let schema): return .object(["oneOf": .array([schema.json, .object(["type": .string("null")])])])
        case .oneOf(let schemas): return .object(["oneOf": .array(schemas.map(\.json))])
        case .reference(let name): return .object(["$ref": .string("#/components/schemas/\(name)")])
        case .any: return .object([:])
        }
    }
}

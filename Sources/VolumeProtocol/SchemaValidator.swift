import Foundation

/// Checks JSON values against an OpenRPC document's schemas (the subset `Schema` writes: type,
/// format uuid, enum, minimum, properties/required, items, oneOf, $ref), so that a test or a
/// client can tell a request or a reply that does not match the published protocol.
public struct SchemaValidator: Sendable {
    let methods: [String: [String: JSONValue]]
    let components: [String: JSONValue]

    public init(document: JSONValue) {
        var methods: [String: [String: JSONValue]] = [:]
        if case .array(let list)? = document["methods"] {
            for case .object(let method) in list {
                if case .string(let name)? = method["name"] { methods[name] = method }
            }
        }
        self.methods = methods
        if case .object(let schemas)? = document["components"]?["schemas"] { components = schemas } else { components = [:] }
    }

    public var methodNames: [String] { methods.keys.sorted() }

    /// What is wrong with calling `method` with `params`: unknown method, missing or unknown
    /// parameters, values of the wrong type. Empty when the call matches.
    public func problems(calling method: String, params: JSONValue?) -> [String] {
        guard let spec = methods[method] else { return ["\(method) is not a method of the document"] }
        let given: [String: JSONValue]
        switch params {
        case nil, .null?: given = [:]
        case .object(let object)?: given = object
        default: return ["\(method): params must be an object"]
        }
        var problems: [String] = []
        var known = Set<String>()
        if case .array(let descriptors)? = spec["params"] {
            for case .object(let descriptor) in descriptors {
                guard case .string(let name)? = descriptor["name"] else { continue }
                known.insert(name)
                if let value = given[name] {
                    problems += self.problems(value, against: descriptor["schema"] ?? .object([:]), at: "\(method).\(name)")
                } else if descriptor["required"] == .bool(true) {
                    problems.append("\(method): \(name) is required")
                }
            }
        }
        for name in given.keys.sorted() where !known.contains(name) { problems.append("\(method): unknown parameter \(name)") }
        return problems
    }

    /// What is wrong with `result` as the result of `method`.
    public func problems(result: JSONValue, of method: String) -> [String] {
        guard let schema = methods[method]?["result"]?["schema"] else { return ["\(method) is not a method of the document"] }
        return problems(result, against: schema, at: "\(method) result")
    }

    /// What is wrong with an error reply's `error` object.
    public func problems(error: JSONValue) -> [String] {
        problems(error, against: .object(["$ref": .string("#/components/schemas/Error")]), at: "error")
    }

    public func problems(_ value: JSONValue, against schema: JSONValue, at path: String) -> [String] {
        guard case .object(let rules) = schema else { return [] }
        if case .string(let reference)? = rules["$ref"] {
            let name = String(reference.split(separator: "/").last ?? "")
            guard let target = components[name] else { return ["\(path): unknown schema \(reference)"] }
            return problems(value, against: target, at: path)
        }
        if case .array(let choices)? = rules["oneOf"] {
            let matching = choices.filter { self.problems(value, against: $0, at: path).isEmpty }.count
            return matching == 1 ? [] : ["\(path): matches \(matching) of the \(choices.count) alternatives, not exactly one"]
        }
        var problems: [String] = []
        if case .string(let type)? = rules["type"] {
            switch (type, value) {
            case ("null", .null), ("boolean", .bool), ("integer", .int), ("number", .int), ("number", .double),
                 ("array", .array), ("object", .object):
                break
            case ("string", .string(let text)):
                if rules["format"] == .string("uuid"), UUID(uuidString: text) == nil { problems.append("\(path): '\(text)' is not a UUID") }
                if rules["format"] == .string("date-time"), ISO8601DateFormatter().date(from: text) == nil {
                    problems.append("\(path): '\(text)' is not an RFC 3339 time")
                }
            default:
                return ["\(path): expected \(type), found \(Self.describe(value))"]
            }
        }
        if case .array(let allowed)? = rules["enum"], !allowed.contains(value) {
            problems.append("\(path): \(Self.describe(value)) is not one of \(allowed.compactMap { if case .string(let s) = $0 { s } else { nil } })")
        }
        if case .int(let minimum)? = rules["minimum"], case .int(let number) = value, number < minimum {
            problems.append("\(path): \(number) is below \(minimum)")
        }
        if case .array(let items) = value, let itemSchema = rules["items"] {
            for (index, item) in items.enumerated() { problems += self.problems(item, against: itemSchema, at: "\(path)[\(index)]") }
        }
        if case .object(let object) = value {
            if case .array(let required)? = rules["required"] {
                for case .string(let name) in required where object[name] == nil { problems.append("\(path): \(name) is missing") }
            }
            if case .object(let properties)? = rules["properties"] {
                for (name, propertySchema) in properties.sorted(by: { $0.key < $1.key }) {
                    if let property = object[name] { problems += self.problems(property, against: propertySchema, at: "\(path).\(name)") }
                }
            }
        }
        return problems
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): "\(flag)"
        case .int(let number): "\(number)"
        case .double(let number): "\(number)"
        case .string(let text): "'\(text)'"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

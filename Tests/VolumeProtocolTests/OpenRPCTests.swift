import Foundation
import Testing
import VolumeProtocol

/// `rpc.discover`'s document is made from the dispatcher's own definitions; every example in
/// docs/protocol.md matches it.
@Suite struct OpenRPCTests {
    static let document = OpenRPCDocument.make(version: "test")
    static let validator = SchemaValidator(document: document)

    @Test func theDocumentListsEveryMethodWithTheParametersTheDispatcherAllows() throws {
        #expect(Self.validator.methodNames == Method.allCases.map(\.rawValue).sorted())
        guard case .array(let methods)? = Self.document["methods"] else { Issue.record("no methods"); return }
        for case .object(let method) in methods {
            guard case .string(let name)? = method["name"], let known = Method(rawValue: name) else { continue }
            guard case .array(let params)? = method["params"] else { Issue.record("\(name) has no params"); continue }
            let names = params.compactMap { if case .string(let n)? = $0["name"] { n } else { nil } }
            #expect(names == known.parameters, "\(name)")
        }
        #expect(Self.document["openrpc"] == .string("1.3.2"))
    }

    @Test func aRequestThatBreaksTheSchemaIsNamed() {
        #expect(Self.validator.problems(calling: "volume.create", params: .object(["size_gb": .int(1)])).isEmpty)
        #expect(Self.validator.problems(calling: "volume.create", params: .object([:])) == ["volume.create: size_gb is required"])
        #expect(Self.validator.problems(calling: "volume.create", params: .object(["size_gb": .string("ten")]))
            == ["volume.create.size_gb: expected integer, found 'ten'"])
        #expect(Self.validator.problems(calling: "volume.get", params: .object(["volume_id": .string("x"), "colour": .int(1)]))
            == ["volume.get.volume_id: 'x' is not a UUID", "volume.get: unknown parameter colour"])
    }

    /// The `→` and `←` lines of every example, each request checked against its method's
    /// parameters and each reply against its result (or the error object).
    @Test func everyExampleInTheProtocolDocumentMatchesTheDocument() throws {
        let text = try String(contentsOfFile: FileManager.default.currentDirectoryPath + "/docs/protocol.md", encoding: .utf8)
        let exchanges = Self.exchanges(in: text)
        #expect(exchanges.count >= 30, "found \(exchanges.count) examples")
        var checked = (requests: 0, results: 0, errors: 0)
        for exchange in exchanges {
            let method = exchange.request["method"].flatMap { if case .string(let m) = $0 { m } else { nil } } ?? ""
            let refusedParams = exchange.reply?["error"]?["data"]?["kind"] == .string("invalid_params")
            if !refusedParams {
                #expect(Self.validator.problems(calling: method, params: exchange.request["params"]) == [], "\(exchange.request)")
                checked.requests += 1
            }
            guard let reply = exchange.reply else { continue }
            if let result = reply["result"] {
                #expect(Self.validator.problems(result: result, of: method) == [], "reply to \(method)")
                checked.results += 1
            } else if let error = reply["error"] {
                #expect(Self.validator.problems(error: error) == [], "error reply to \(method)")
                checked.errors += 1
            }
        }
        #expect(checked.results >= 20 && checked.errors >= 3, "\(checked)")
    }

    struct Exchange {
        var request: JSONValue
        var reply: JSONValue?
    }

    /// Requests (`→ {…}` on one line) and the reply that follows each (`← {…}`, over one or
    /// more lines); notifications and the binary lines are left out, as is what is not JSON.
    static func exchanges(in text: String) -> [Exchange] {
        var exchanges: [Exchange] = []
        var reply: [String]?
        func endReply() {
            defer { reply = nil }
            guard let lines = reply, !exchanges.isEmpty,
                  let value = try? JSONDecoder().decode(JSONValue.self, from: Data(lines.joined(separator: "\n").utf8)),
                  value["method"] == nil else { return }
            if exchanges[exchanges.count - 1].reply == nil { exchanges[exchanges.count - 1].reply = value }
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") || line.hasPrefix("→") {
                endReply()
                if line.hasPrefix("→ {"), let value = try? JSONDecoder().decode(JSONValue.self, from: Data(line.dropFirst(2).utf8)) {
                    exchanges.append(Exchange(request: value))
                }
            } else if line.hasPrefix("← ") {
                endReply()
                reply = [String(line.dropFirst(2))]
            } else if reply != nil {
                reply?.append(String(line))
            }
        }
        return exchanges
    }
}

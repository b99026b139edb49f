import Foundation
import Testing
import VolumeProtocol

@Suite struct ParamReaderTests {
    func reader(_ json: String) throws -> ParamReader {
        try ParamReader(JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)), method: "volume.create")
    }

    @Test func readsTypedValues() throws {
        let p = try reader(#"{"size_gb": 10, "name": "db", "wait": true, "volume_id": "457eb676-33da-42ec-9a8c-9293d545c337"}"#)
        #expect(try p.requiredInt("size_gb", in: 1...100) == 10)
        #expect(try p.name("name") == "db")
        #expect(try p.bool("wait") == true)
        #expect(try p.requiredID("volume_id") == "457eb676-33da-42ec-9a8c-9293d545c337")
    }

    @Test(arguments: [
        (#"{"size_gb": "10"}"#, "volume.create: size_gb must be a number, not string"),
        (#"{"size_gb": 1.5}"#, "volume.create: size_gb must be a whole number, got 1.5"),
        (#"{"size_gb": 0}"#, "volume.create: size_gb must be between 1 and 100, got 0"),
        (#"{"size_gb": 99999999999999999}"#, "volume.create: size_gb must be between 1 and 100, got 99999999999999999"),
        (#"{}"#, "volume.create: size_gb is required"),
    ])
    func badSizesNameTheField(json: String, message: String) throws {
        let p = try reader(json)
        #expect(throws: RPCError.invalidParams(message)) { try p.requiredInt("size_gb", in: 1...100) }
    }

    @Test(arguments: ["../etc", "volume-1", "457EB676-33DA-42EC-9A8C-9293D545C337", "a/b@c", ""])
    func idsMustBeLowercaseUUIDs(id: String) throws {
        let p = try reader(#"{"volume_id": "\#(id)"}"#)
        #expect(throws: RPCError.self) { try p.requiredID("volume_id") }
    }

    @Test func namesRefuseControlCharactersButAllowPunctuation() throws {
        #expect(try reader(#"{"name": "a/b@c..d"}"#).name("name") == "a/b@c..d")
        #expect(throws: RPCError.self) { try reader(#"{"name": "a\u0000b"}"#).name("name") }
        #expect(throws: RPCError.self) { try reader(#"{"name": ""}"#).name("name") }
        #expect(throws: RPCError.self) { try reader(#"{"name": "\#(String(repeating: "x", count: 256))"}"#).name("name") }
    }

    @Test func namesAreAtMost255BytesAndRefuseBidiOverrides() throws {
        // 85 three-byte characters are 255 bytes; 86 are too many, though only 86 characters.
        #expect(try reader(#"{"name": "\#(String(repeating: "€", count: 85))"}"#).name("name")?.utf8.count == 255)
        #expect(throws: RPCError.self) { try reader(#"{"name": "\#(String(repeating: "€", count: 86))"}"#).name("name") }
        for scalar in ["\\u202e", "\\u202a", "\\u2066", "\\u2069"] {
            #expect(throws: RPCError.self) { try reader(#"{"name": "db\#(scalar)gpj.exe"}"#).name("name") }
        }
        #expect(try reader(#"{"name": "données-é"}"#).name("name") == "données-é")
    }

    @Test func unknownParametersAreRefused() throws {
        #expect(throws: RPCError.invalidParams("volume.create: unknown parameter 'sise_gb'")) {
            try reader(#"{"sise_gb": 1}"#).allowOnly(["size_gb"])
        }
    }

    @Test func paramsMustBeAnObject() {
        #expect(throws: RPCError.self) { try ParamReader(.array([]), method: "m") }
        #expect(throws: Never.self) { try ParamReader(nil, method: "m") }
    }

    @Test func everyErrorKindHasItsWireName() {
        #expect(ErrorKind.allCases.map(\.rawValue) == [
            "not_found", "conflict", "in_use", "busy", "cluster_unavailable", "cancelled", "permission_denied",
            "storage_unavailable", "invalid_params", "standby", "internal",
        ])
    }

    @Test func volumeEncodesMissingOptionalsAsNull() throws {
        let volume = Volume(VolumeRecord(id: "i", name: "n", sizeGB: 1, status: .available, pool: "p", rbdImage: "volume-i"))
        let object = try JSONSerialization.jsonObject(with: JSONEncoder.volumed().encode(volume)) as? [String: Any]
        #expect(object?["parent"] is NSNull)
        #expect(object?["source"] is NSNull)
    }
}

@Suite struct NestingLimitTests {
    @Test func deepNestingIsCaughtAndStringsAreSkipped() {
        #expect(NestingLimit.exceeded(in: Data((String(repeating: "[", count: 40) + String(repeating: "]", count: 40)).utf8)))
        #expect(!NestingLimit.exceeded(in: Data(#"{"a":{"b":[1,[2,{"c":3}]]}}"#.utf8)))
        let quoted = #"{"name":"\#(String(repeating: "[", count: 100))\"[["}"#
        #expect(!NestingLimit.exceeded(in: Data(quoted.utf8)))
    }
}

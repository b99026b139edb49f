import ArgumentParser
import Foundation
import VolumeClient
import VolumeProtocol

/// Printing results as tables or JSON, and turning errors into exit codes.
enum Output {
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder.volumed()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func table(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in
            ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }

    /// One object as field/value pairs, fields in alphabetical order (as `openstack … show`
    /// prints them); nested values as compact JSON, null as `-`.
    static func fields<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder.volumed()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard case .object(let object) = try JSONDecoder().decode(JSONValue.self, from: try encoder.encode(value)) else { return }
        table(["FIELD", "VALUE"], try object.keys.sorted().map { key in
            let text: String = switch object[key] {
            case nil, .null?: "-"
            case .string(let string)?: string
            case .bool(let flag)?: flag ? "true" : "false"
            case .int(let number)?: String(number)
            case .double(let number)?: String(number)
            case let other?: String(decoding: try encoder.encode(other), as: UTF8.self)
            }
            return [key, text]
        })
    }

    /// Bytes as people read them (binary units).
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f ", value) + units[unit]
    }

    static func volumes(_ volumes: [Volume], json: Bool) throws {
        if json { return try self.json(volumes) }
        table(["ID", "NAME", "SIZE", "STATUS", "DEPTH", "PARENT", "IMAGE"], volumes.map {
            [$0.id, $0.name, "\($0.sizeGB) GiB", $0.status, String($0.cloneDepth),
             $0.parent.map { $0.volumeID ?? $0.imageID.map { "image \($0)" } ?? "-" } ?? "-", "\($0.pool)/\($0.rbdImage)"]
        })
    }

    /// Volumes kept by deferred deletion: when each goes for good.
    static func deletedVolumes(_ volumes: [Volume], json: Bool) throws {
        if json { return try self.json(volumes) }
        table(["ID", "NAME", "SIZE", "DELETED", "PURGE AT", "IMAGE"], volumes.map {
            [$0.id, $0.name, "\($0.sizeGB) GiB", $0.updatedAt.formatted(.iso8601), $0.purgeAt?.formatted(.iso8601) ?? "-", "\($0.pool)/\($0.rbdImage)"]
        })
    }

    static func snapshots(_ snapshots: [Snapshot], json: Bool) throws {
        if json { return try self.json(snapshots) }
        table(["ID", "VOLUME", "NAME", "SIZE", "STATUS", "CREATED"], snapshots.map {
            [$0.id, $0.volumeID, $0.name, "\($0.sizeGB) GiB", $0.status, $0.createdAt.formatted(.iso8601)]
        })
    }

    static func backups(_ backups: [Backup], json: Bool) throws {
        if json { return try self.json(backups) }
        table(["ID", "VOLUME", "NAME", "SIZE", "STATUS", "INCREMENTAL TO", "MOVED", "CREATED"], backups.map {
            [$0.id, $0.volumeID, $0.name, "\($0.sizeGB) GiB", $0.status, $0.parentID ?? "- (full)", "\($0.bytesTransferred) B",
             $0.createdAt.formatted(.iso8601)]
        })
    }

    static func schedules(_ schedules: [Schedule], json: Bool) throws {
        if json { return try self.json(schedules) }
        table(["ID", "VOLUME", "EVERY", "KEEP", "LAST", "NEXT"], schedules.map {
            [$0.id, $0.volumeID, "\($0.intervalSeconds) s", String($0.keep), $0.lastRunAt?.formatted(.iso8601) ?? "-", $0.nextRunAt.formatted(.iso8601)]
        })
    }

    static func jobs(_ jobs: [Job], json: Bool) throws {
        if json { return try self.json(jobs) }
        table(["ID", "KIND", "STATE", "PROGRESS", "VOLUME", "ERROR"], jobs.map {
            [$0.id, $0.kind, $0.state, "\(Int(($0.progress * 100).rounded()))%", $0.volumeID ?? "-",
             $0.error.map { "\($0.kind.rawValue): \($0.message)" } ?? $0.note ?? ""]
        })
    }

    static func images(_ images: [Image], json: Bool) throws {
        if json { return try self.json(images) }
        table(["ID", "NAME", "SIZE", "STATUS", "SHA256", "LOCATION"], images.map {
            [$0.id, $0.name, "\($0.sizeBytes) B", $0.status, $0.checksum.map { String($0.prefix(16)) } ?? "-", $0.location ?? "-"]
        })
    }

    static func mutation(_ result: MutationResult, json: Bool) throws {
        if json { return try self.json(result) }
        if let volume = result.volume { try volumes([volume], json: false) }
        if let image = result.image { try images([image], json: false) }
        if let snapshot = result.snapshot { try snapshots([snapshot], json: false) }
        print("job \(result.job.id) \(result.job.state)\(result.job.note.map { " (\($0))" } ?? "")")
    }

    /// Prints an error the way an operator reads it and exits with its code.
    static func fail(_ error: any Error) -> ExitCode {
        let message: String
        var code: Int32 = 70
        switch error {
        case let error as RPCError:
            message = error.message
            switch error.kind {
            case .notFound?: code = 2
            case .conflict?, .inUse?, .busy?: code = 3
            case .standby?: code = 6
            case .permissionDenied?: code = 4
            case .clusterUnavailable?: code = 5
            case .storageUnavailable?: code = 75  // EX_TEMPFAIL
            case .cancelled?: code = 1
            case .invalidParams?: code = 64
            case .internalError?, nil: code = error.code == RPCError.invalidParamsCode ? 64 : 70
            }
        case let error as VolumeClient.ClientError:
            message = error.description
            code = 69
        case let error as ExitCode:
            return error
        default:
            message = "\(error)"
        }
        FileHandle.standardError.write(Data("volumectl: \(message)\n".utf8))
        return ExitCode(code)
    }
}

extension Output {
    /// The result of `response` as `T`, or the exit its error calls for.
    static func result<T: Decodable>(_ response: RPCResponse, as type: T.Type) throws -> T {
        if let error = response.error { throw fail(error) }
        do {
            return try JSONDecoder.volumed().decode(T.self, from: JSONEncoder.volumed().encode(response.result ?? .null))
        } catch {
            throw fail(error)
        }
    }
}

extension VolumeClient {
    /// Calls and exits with the error's code when the daemon refuses.
    func run<T: Decodable>(
        _ method: String, _ params: [String: JSONValue] = [:], as type: T.Type,
        notifications: (@Sendable (RPCNotification) -> Void)? = nil
    ) async throws -> T {
        do {
            return try await call(method, .object(params), as: type, notifications: notifications)
        } catch {
            throw Output.fail(error)
        }
    }
}

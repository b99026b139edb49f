import Lifecycle

/// `rpc.discover`'s answer: the protocol as an OpenRPC 1.3 document (the JSON-RPC counterpart of
/// OpenAPI), built from `Method`'s own definitions and the schemas of the objects it returns.
public enum OpenRPCDocument {
    public static func make(version: String) -> JSONValue {
        let methods = Method.allCases.map { method -> JSONValue in
            .object([
                "name": .string(method.rawValue),
                "summary": .string(method.summary),
                "paramStructure": .string("by-name"),
                "params": .array(method.params.map { parameter in
                    var descriptor: [String: JSONValue] = [
                        "name": .string(parameter.name), "summary": .string(parameter.summary),
                        "required": .bool(parameter.required), "schema": parameter.schema.json,
                    ]
                    if parameter.deprecated { descriptor["deprecated"] = .bool(true) }
                    return .object(descriptor)
                }),
                "result": .object(["name": .string("result"), "schema": method.result.json]),
                "x-read-only": .bool(method.isReadOnly),
            ])
        }
        return .object([
            "openrpc": .string("1.3.2"),
            "info": .object([
                "title": .string("volumed"),
                "version": .string(version),
                "description": .string(
                    "Block volumes on Ceph RBD. Newline-delimited JSON-RPC 2.0 on volumed's Unix socket; image data as length-prefixed chunks on the same connection (docs/protocol.md). Errors: -32000 (or -32602 for bad parameters) with data.kind one of the ErrorKind enumeration."),
            ]),
            "servers": .array([.object(["name": .string("socket"), "url": .string("unix:///run/volumed/volumed.sock")])]),
            "methods": .array(methods),
            "components": .object(["schemas": .object(components.mapValues(\.json))]),
        ])
    }

    /// The objects results are made of, by name (`$ref: #/components/schemas/NAME`).
    public static let components: [String: Schema] = [
        "Source": .oneOf([
            .object([.init("volume_id", .uuid)]), .object([.init("snapshot_id", .uuid)]),
            .object([.init("image_id", .uuid)]), .object([.init("managed", .boolean)]),
        ]),
        "Volume": .object([
            .init("id", .uuid), .init("name", .string()), .init("size_gb", .integer(minimum: 1)),
            .init("status", .enumeration(VolumeStatus.allCases.map(\.rawValue))), .init("pool", .string()),
            .init("rbd_image", .string()),
            .init("parent", .nullable(.object([
                .init("volume_id", .nullable(.uuid)), .init("image_id", .nullable(.uuid)), .init("rbd_snapshot", .string()),
            ]))),
            .init("source", .nullable(.reference("Source"))), .init("clone_depth", .integer(minimum: 0)),
            .init("multiattach", .boolean), .init("attachment_count", .integer(minimum: 0)),
            .init("attachments", .nullable(.array(.reference("Attachment")))),
            .init("created_at", .dateTime), .init("updated_at", .dateTime),
            .init("purge_at", .dateTime, required: false),
        ]),
        "Attachment": .object([.init("id", .uuid), .init("volume_id", .uuid), .init("host", .string()), .init("created_at", .dateTime)]),
        "AttachResult": .object([
            .init("attachment", .reference("Attachment")),
            .init("connection_info", .object([.init("driver_volume_type", .enumeration(["rbd"])), .init("data", .any)])),
            .init("volume", .reference("Volume")),
        ]),
        "Snapshot": .object([
            .init("id", .uuid), .init("volume_id", .uuid), .init("name", .string()),
            .init("status", .enumeration(SnapshotStatus.allCases.map(\.rawValue))), .init("size_gb", .integer(minimum: 1)),
            .init("rbd_snapshot", .string()), .init("created_at", .dateTime),
            .init("schedule_id", .uuid, required: false),
        ]),
        "Backup": .object([
            .init("id", .uuid), .init("volume_id", .uuid), .init("name", .string()),
            .init("status", .enumeration(BackupStatus.allCases.map(\.rawValue))), .init("size_gb", .integer(minimum: 1)),
            .init("parent_id", .nullable(.uuid)), .init("bytes_transferred", .integer(minimum: 0)), .init("created_at", .dateTime),
        ]),
        "Schedule": .object([
            .init("id", .uuid), .init("volume_id", .uuid), .init("interval_s", .integer(minimum: 1)), .init("keep", .integer(minimum: 1)),
            .init("last_run_at", .nullable(.dateTime)), .init("next_run_at", .dateTime), .init("created_at", .dateTime),
        ]),
        "Image": .object([
            .init("id", .uuid), .init("name", .string()), .init("status", .enumeration(ImageStatus.allCases.map(\.rawValue))),
            .init("pool", .string()), .init("rbd_image", .string()), .init("size_bytes", .integer(minimum: 0)),
            .init("checksum", .nullable(.string())), .init("location", .nullable(.string())), .init("created_at", .dateTime),
        ]),
        "Job": .object([
            .init("id", .uuid), .init("kind", .enumeration(JobKind.allCases.map(\.rawValue))),
            .init("state", .enumeration(JobState.allCases.map(\.rawValue))), .init("progress", .number),
            .init("error", .nullable(.object([.init("kind", .reference("ErrorKind")), .init("message", .string())]))),
            .init("volume_id", .nullable(.uuid)), .init("snapshot_id", .nullable(.uuid)), .init("note", .nullable(.string())),
            .init("created_at", .dateTime), .init("started_at", .nullable(.dateTime)), .init("finished_at", .nullable(.dateTime)),
        ]),
        "MutationResult": .object([
            .init("job", .reference("Job")), .init("volume", .reference("Volume"), required: false),
            .init("snapshot", .reference("Snapshot"), required: false), .init("image", .reference("Image"), required: false),
            .init("backup", .reference("Backup"), required: false),
        ]),
        "VolumePage": .object([.init("volumes", .array(.reference("Volume"))), .init("next_marker", .nullable(.uuid))]),
        "VolumeUsage": .object([
            .init("volume_id", .uuid), .init("provisioned_bytes", .integer(minimum: 0)), .init("used_bytes", .integer(minimum: 0)),
            .init("parts", .array(.object([
                .init("rbd_snapshot", .nullable(.string())), .init("provisioned_bytes", .integer(minimum: 0)),
                .init("used_bytes", .integer(minimum: 0)),
            ]))),
        ]),
        "PoolCapacity": .object([
            .init("pool", .string()), .init("total_bytes", .integer()), .init("free_bytes", .integer()),
            .init("used_bytes", .integer()), .init("provisioned_bytes", .integer()), .init("quota_bytes", .nullable(.integer())),
            .init("over_subscription_ratio", .number),
        ]),
        "ServiceStatus": .object([
            .init("version", .string()), .init("state", .enumeration(["ok", "degraded", "starting", "standby", "fenced"])),
            .init("cluster_fsid", .nullable(.uuid)), .init("cluster_connected", .boolean), .init("pool", .string()),
            .init("workers", .integer(minimum: 1)), .init("jobs_running", .integer(minimum: 0)), .init("jobs_queued", .integer(minimum: 0)),
            .init("volumes", .integer(minimum: 0)), .init("uptime_seconds", .number), .init("status_line", .string()),
            .init("settings", .object([
                .init("workers", .integer(minimum: 1)), .init("rbd_max_clone_depth", .integer()),
                .init("rbd_flatten_volume_from_snapshot", .boolean), .init("rbd_concurrent_flatten_operations", .integer()),
                .init("log_level", .string()),
            ])),
            .init("capacity", .nullable(.array(.reference("PoolCapacity")))),
            .init("state_store", .nullable(.enumeration(["local", "rados"]))),
            .init("holder", .nullable(.object([.init("host", .string()), .init("pid", .integer()), .init("since", .dateTime)]))),
        ]),
        "Drift": .object(
            ["unknown_images", "missing_images", "stale_snapshots", "missing_snapshots", "trash"].map {
                .init($0, .array(.object([.init("location", .string()), .init("id", .string(), required: false), .init("detail", .string())])))
            } + [.init("clean", .boolean), .init("fixed", .array(.string()))]),
        "MetricsText": .object([.init("content_type", .string()), .init("text", .string())]),
        "ErrorKind": .enumeration(ErrorKind.allCases.map(\.rawValue)),
        "Error": .object([
            .init("code", .integer()), .init("message", .string()),
            .init("data", .object([.init("kind", .reference("ErrorKind")), .init("job_id", .uuid, required: false)]), required: false),
        ]),
    ]
}

import Lifecycle
import VolumeProtocol

/// One page of `volume.list`, written as the database cursor goes: up to `size` volumes, and
/// whether the cursor had one more (then the last volume written is the next page's marker).
struct VolumePageWriter: Sendable {
    let size: Int
    private var volumes = JSONWriter(capacity: 1 << 16)
    private var count = 0
    private var lastID: String?
    private(set) var hasMore = false

    init(size: Int) {
        self.size = size
    }

    mutating func add(_ record: VolumeRecord) {
        guard count < size else {
            hasMore = true
            return
        }
        volumes.raw(count == 0 ? "[" : ",")
        Volume(record).write(to: &volumes)
        count += 1
        lastID = record.id
    }

    /// `[volume, …]`: the reply without `paged`.
    func array() -> JSONWriter {
        var writer = volumes
        writer.raw(count == 0 ? "[]" : "]")
        return writer
    }

    /// `{"next_marker": id or null, "volumes": […]}`: the reply with `paged` (keys sorted, as every reply's).
    func object() -> JSONWriter {
        var writer = JSONWriter(capacity: volumes.bytes.count + 128)
        writer.raw(#"{"next_marker":"#)
        if hasMore, let lastID { writer.string(lastID) } else { writer.null() }
        writer.raw(#","volumes":"#)
        writer.raw(array().bytes)
        writer.raw("}")
        return writer
    }
}

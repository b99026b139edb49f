import Glibc

/// librbd's list calls fill a buffer of `count` entries, and answer -ERANGE with the count they
/// need when it is too small. Calls `list` with a buffer that grows until the answer fits, reads
/// each filled entry with `read`, then lets `cleanup` free what librbd allocated in them.
func growingList<Entry, Element>(
    _ operation: @autoclosure () -> String, empty: Entry, capacity: Int,
    list: (inout [Entry], inout Int) -> Int32,
    cleanup: (inout [Entry], Int) -> Void,
    read: (Entry) -> Element
) throws(RBDError) -> [Element] {
    var capacity = capacity
    while true {
        var entries = [Entry](repeating: empty, count: capacity)
        var count = capacity
        let rc = list(&entries, &count)
        if rc == -ERANGE {
            capacity = max(count, capacity * 2)
            continue
        }
        try check(rc, operation())
        defer { cleanup(&entries, count) }
        return entries.prefix(count).map(read)
    }
}

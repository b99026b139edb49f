import CSystemd
import Synchronization

/// Gives memory back when the job queue drains. A burst of concurrent jobs grows the heap to its
/// high-water mark (librbd image contexts, replies, SQLite caches) and glibc keeps the freed pages:
/// 2,000 creates from 16 clients left 62 MB that `malloc_trim` brings back to 22 MB
/// (docs/benchmarks.md). Trims once per burst, when nothing is running or queued any more.
final class HeapTrimmer: Sendable {
    private let busySinceTrim = Mutex(false)

    /// Call with the engine's load whenever it changes.
    func observe(running: Int, queued: Int) {
        let trim = busySinceTrim.withLock { busy -> Bool in
            if running + queued > 0 {
                busy = true
                return false
            }
            defer { busy = false }
            return busy
        }
        // A few milliseconds of madvise calls, once per burst.
        if trim { _ = volumed_release_free_heap() }
    }
}

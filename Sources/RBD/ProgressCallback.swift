import CCeph
import Glibc

/// Bridges librbd's C progress callback to a Swift closure. The closure returns `false`
/// to ask librbd to stop (flatten and copy honour it between objects).
final class ProgressCallback {
    let handler: (UInt64, UInt64) -> Bool
    init(_ handler: @escaping (UInt64, UInt64) -> Bool) { self.handler = handler }

    /// Calls `body` with a C function and context pointer that stay valid for its duration.
    func withCallback<T>(_ body: (librbd_progress_fn_t, UnsafeMutableRawPointer) throws -> T) rethrows -> T {
        try withExtendedLifetime(self) {
            let context = Unmanaged.passUnretained(self).toOpaque()
            return try body({ offset, total, context in
                guard let context else { return 0 }
                let box = Unmanaged<ProgressCallback>.fromOpaque(context).takeUnretainedValue()
                return box.handler(offset, total) ? 0 : -ECANCELED
            }, context)
        }
    }
}

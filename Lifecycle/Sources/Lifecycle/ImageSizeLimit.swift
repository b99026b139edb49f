/// How large an RBD image may be: librbd keeps an object map (object-map, fast-diff) of at most
/// 256,000,000 objects and refuses to create or grow an image past that ("image size not
/// compatible with object map"). Checked at admission, so such a request never becomes a job
/// that fails.
public enum ImageSizeLimit {
    public static let maximumObjects: Int64 = 256_000_000

    /// The largest size in GiB for objects of 2^`objectOrder` bytes (1,000,000 GiB for 4 MiB).
    public static func largestGB(objectOrder: Int) -> Int {
        Int((maximumObjects << Int64(objectOrder)) >> 30)
    }

    /// `sizeGB`, or why librbd would refuse it.
    public static func check(_ sizeGB: Int, objectOrder: Int) throws(Refusal) {
        let largest = largestGB(objectOrder: objectOrder)
        guard sizeGB <= largest else {
            throw Refusal(.invalid, "size_gb \(sizeGB) is more than librbd's object map allows with \(1 << (objectOrder - 20)) MiB objects (at most \(largest) GiB)")
        }
    }
}

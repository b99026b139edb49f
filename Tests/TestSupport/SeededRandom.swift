import Foundation

/// A small seeded generator (splitmix64), so a failing run can be told by its seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A fresh seed, or `VOLUMED_TEST_SEED` to replay the run a failure names.
    public static func newSeed() -> UInt64 {
        if let given = ProcessInfo.processInfo.environment["VOLUMED_TEST_SEED"].flatMap(UInt64.init) { return given }
        return UInt64.random(in: 0...UInt64.max)
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
}

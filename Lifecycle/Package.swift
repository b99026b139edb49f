// swift-tools-version: 6.2
// The lifecycle core: volumed's typed states, its rows, and the pure rules of what may happen
// to them. A package of its own so that its tests build and run without Ceph (the root package
// links librbd into every test).
import PackageDescription

let package = Package(
    name: "Lifecycle",
    platforms: [.macOS(.v15)],
    products: [.library(name: "Lifecycle", targets: ["Lifecycle"])],
    targets: [
        .target(name: "Lifecycle", swiftSettings: [.enableUpcomingFeature("ExistentialAny")]),
        .testTarget(name: "LifecycleTests", dependencies: ["Lifecycle"], swiftSettings: [.enableUpcomingFeature("ExistentialAny")]),
    ],
    swiftLanguageModes: [.v6]
)

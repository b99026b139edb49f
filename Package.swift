// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]
/// The typed states and pure rules of the lifecycle, a package of its own (`Lifecycle/`).
let lifecycle: Target.Dependency = .product(name: "Lifecycle", package: "Lifecycle")

let package = Package(
    name: "volumed",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "volumed", targets: ["volumed"]),
        .executable(name: "volumectl", targets: ["volumectl"]),
        .library(name: "VolumeProtocol", targets: ["VolumeProtocol"]),
        .library(name: "VolumeClient", targets: ["VolumeClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        // Its tests build and run without Ceph (the root package links librbd into every test).
        .package(path: "Lifecycle"),
    ],
    targets: [
        // C: librbd/librados (Debian ships no pkg-config files: the module map links by name).
        .systemLibrary(name: "CCeph", path: "Sources/CCeph"),
        // C: tiny shims for what Swift cannot see in Glibc (struct ucred).
        .target(name: "CSystemd", path: "Sources/CSystemd"),

        .target(
            name: "RBD",
            dependencies: [
                "CCeph",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "VolumeStore",
            dependencies: [
                lifecycle,
                .product(name: "GRDB", package: "GRDB.swift"),
                // sqlite3_auto_extension, to register Ceph's SQLite VFS.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .target(name: "VolumeProtocol", dependencies: [lifecycle], swiftSettings: strict),
        // What volumed counts and measures (swift-metrics), and its Prometheus exposition.
        .target(
            name: "VolumeMetrics",
            dependencies: [
                lifecycle,
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        // A client of the daemon's socket, for volumectl and the tests.
        .target(name: "VolumeClient", dependencies: ["VolumeProtocol"], swiftSettings: strict),
        .target(
            name: "VolumeEngine",
            dependencies: [
                lifecycle, "RBD", "VolumeStore", "VolumeMetrics",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        // sd_notify, socket activation and the journald log handler (the plain protocols).
        .target(
            name: "Systemd",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "VolumeDaemon",
            dependencies: [
                lifecycle, "VolumeEngine", "VolumeProtocol", "VolumeMetrics", "CSystemd", "Systemd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "volumed",
            dependencies: [
                "VolumeDaemon", "Systemd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "volumectl",
            dependencies: [
                lifecycle, "VolumeClient", "VolumeProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "volumed-bench",
            dependencies: [
                lifecycle, "RBD", "VolumeClient", "VolumeProtocol", "VolumeStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TestSupport",
            dependencies: [lifecycle, "RBD", "VolumeEngine", "VolumeStore", "VolumeClient", "VolumeProtocol"],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "VolumeClientTests", dependencies: ["VolumeClient"], swiftSettings: strict),
        .testTarget(name: "VolumeProtocolTests", dependencies: ["VolumeProtocol"], swiftSettings: strict),
        .testTarget(
            name: "VolumeDaemonTests",
            dependencies: ["VolumeDaemon", "TestSupport", .product(name: "NIOEmbedded", package: "swift-nio")],
            swiftSettings: strict),
        .testTarget(name: "SystemdTests", dependencies: ["Systemd"], swiftSettings: strict),
        .testTarget(name: "RBDTests", dependencies: ["RBD", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "VolumeEngineTests", dependencies: ["VolumeEngine", "VolumeStore", "TestSupport"], swiftSettings: strict),
        // Crash-anywhere, cluster outage, fuzz, load and full-disk suites (VOLUMED_LONG=1 for the long counts).
        .testTarget(name: "ReliabilityTests", dependencies: [lifecycle, "TestSupport", "VolumeStore"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)

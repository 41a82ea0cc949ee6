// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "powa-collector",
    products: [
        .executable(name: "powa-collector", targets: ["powa-collector"]),
        .executable(name: "powa-collector-worker", targets: ["powa-collector-worker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // HeapModule only: the supervisor's timer heap.
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        // Tests only: generated requests for the protocol's property tests.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // libpq's C API, found through pkg-config (Debian: libpq-dev).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // A small, safe Swift layer over libpq. Knows nothing of PoWA.
        .target(name: "PostgresClient", dependencies: ["CLibPQ"]),
        // PoWA logic without I/O: configuration, protocol, IPC messages,
        // snapshot plan, scheduling, supervisor state machine.
        .target(
            name: "PowaCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        // Linux calls the Glibc module does not import (pipe2, prctl).
        .target(name: "CSystemShims"),
        // Thin POSIX helpers shared by both executables: poll loop pieces,
        // signal self-pipe, line-oriented pipes, stderr log handler.
        .target(
            name: "ProcessSupport",
            dependencies: ["PowaCore", "CSystemShims", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "powa-collector",
            dependencies: [
                "PowaCore", "PostgresClient", "ProcessSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/supervisor"
        ),
        .executableTarget(
            name: "powa-collector-worker",
            dependencies: [
                "PowaCore", "PostgresClient", "ProcessSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/worker"
        ),
        .testTarget(
            name: "PowaCoreTests",
            dependencies: ["PowaCore", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        // Where the real PostgreSQL clusters of scripts/pg-env.sh are, and
        // helpers to make throwaway databases and processes in them.
        .target(
            name: "TestSupport",
            dependencies: ["PostgresClient", "PowaCore", "ProcessSupport"],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "TestSupport"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["PowaCore", "PostgresClient", "ProcessSupport", "TestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

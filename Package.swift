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
    // Layers; each target imports only targets of the layers below it:
    //
    //   executables        powa-collector, powa-collector-worker
    //   shared by both     PowaPostgres     CollectorLogging
    //   logic and clients  PowaCore (pure)  PostgresClient     ProcessSupport
    //   C                                   CLibPQ             CSystemShims
    //
    //   powa-collector        -> PowaPostgres, CollectorLogging, PowaCore, PostgresClient, ProcessSupport
    //   powa-collector-worker -> the same, and CSystemShims
    //   PowaPostgres          -> PowaCore, PostgresClient   (opening a PoWA session, for both executables)
    //   CollectorLogging      -> PowaCore                   (the reference's log lines on stderr)
    //   PowaCore              -> swift-log, HeapModule      (PoWA logic without I/O)
    //   PostgresClient        -> CLibPQ                     (knows nothing of PoWA)
    //   ProcessSupport        -> CSystemShims               (knows nothing of PoWA nor PostgreSQL)
    targets: [
        // libpq's C API, found through pkg-config (Debian: libpq-dev).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // Linux calls the Glibc module does not import (pipe2, prctl).
        .target(name: "CSystemShims"),
        // A small, safe Swift layer over libpq. Knows nothing of PoWA.
        .target(name: "PostgresClient", dependencies: ["CLibPQ"]),
        // Thin POSIX helpers shared by both executables: poll loop pieces,
        // signal self-pipe, line-oriented pipes, child processes, and the
        // fork-server ("launcher") protocol with its client.
        .target(name: "ProcessSupport", dependencies: ["CSystemShims"]),
        // PoWA logic without I/O: configuration, protocol, IPC messages,
        // snapshot plan, scheduling, supervisor state machine.
        .target(
            name: "PowaCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        // swift-log's handler for both executables: the reference
        // collector's line format (PowaCore), one write(2) per line.
        .target(
            name: "CollectorLogging",
            dependencies: ["PowaCore", .product(name: "Logging", package: "swift-log")]
        ),
        // Opening a PoWA session (repository or remote) over libpq, the one
        // way both executables do it.
        .target(name: "PowaPostgres", dependencies: ["PowaCore", "PostgresClient"]),
        .executableTarget(
            name: "powa-collector",
            dependencies: [
                "PowaCore", "PowaPostgres", "PostgresClient", "ProcessSupport", "CollectorLogging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/supervisor"
        ),
        .executableTarget(
            name: "powa-collector-worker",
            dependencies: [
                "PowaCore", "PowaPostgres", "PostgresClient", "ProcessSupport", "CollectorLogging", "CSystemShims",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/worker"
        ),
        .testTarget(
            name: "PowaCoreTests",
            dependencies: [
                "PowaCore", .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "ProcessSupportTests", dependencies: ["ProcessSupport"]),
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
            dependencies: ["PowaCore", "PowaPostgres", "PostgresClient", "ProcessSupport", "TestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

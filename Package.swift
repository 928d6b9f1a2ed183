// swift-tools-version:6.1
import PackageDescription

let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// A provider plugin target in `Providers/<name>`: BrokerCore plus its driver.
func provider(_ name: String, _ dependencies: [Target.Dependency] = []) -> Target {
    .target(
        name: "\(name)Provider",
        dependencies: ["BrokerCore"] + dependencies,
        path: "Providers/\(name)",
        swiftSettings: settings
    )
}

/// A protocol front-end target in `Protocols/<name>`: BrokerCore, Hummingbird and the shared HTTP helpers.
func frontEnd(_ name: String, _ extra: [Target.Dependency] = []) -> Target {
    .target(
        name: "\(name)FrontEnd",
        dependencies: extra + [
            "BrokerCore", "FrontEndSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ],
        path: "Protocols/\(name)",
        resources: [.copy("openapi.yaml")],
        swiftSettings: settings
    )
}

/// The live-port tests of a front-end, with their `Fixtures` folder.
func frontEndTests(_ name: String) -> Target {
    .testTarget(
        name: "\(name)FrontEndTests",
        dependencies: [
            .target(name: "\(name)FrontEnd"), "Gateway", "BrokerCore", "TestSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
        ],
        resources: [.copy("Fixtures")],
        swiftSettings: settings
    )
}

let package = Package(
    name: "polybroker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "polybroker", targets: ["polybroker"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
    ],
    targets: [
        .target(
            name: "BrokerCore",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: settings
        ),
        .target(
            name: "LedgerSQLite",
            dependencies: [
                "BrokerCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "FrontEndSupport",
            dependencies: [
                "BrokerCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: settings
        ),
        frontEnd("OSB"),
        frontEnd("Tsuru"),
        frontEnd("Apcera", [.product(name: "Crypto", package: "swift-crypto")]),
        frontEnd("Registry"),
        provider("SQLite", [.product(name: "GRDB", package: "GRDB.swift")]),
        provider("Static"),
        provider(
            "PostgreSQL",
            [
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "Logging", package: "swift-log"),
            ]),
        provider(
            "Redis",
            [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "HTTPSupport",
            dependencies: [
                "BrokerCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Providers/HTTPSupport",
            swiftSettings: settings
        ),
        provider("RemoteHTTP", ["HTTPSupport", .product(name: "Logging", package: "swift-log"), .product(name: "NIOHTTP1", package: "swift-nio")]),
        provider("UpstreamOSB", ["HTTPSupport", .product(name: "Logging", package: "swift-log"), .product(name: "NIOHTTP1", package: "swift-nio")]),
        .target(
            name: "Gateway",
            dependencies: [
                "BrokerCore", "LedgerSQLite", "SQLiteProvider", "StaticProvider", "PostgreSQLProvider", "RedisProvider", "RemoteHTTPProvider", "UpstreamOSBProvider", "FrontEndSupport", "OSBFrontEnd", "TsuruFrontEnd", "ApceraFrontEnd", "RegistryFrontEnd",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "Operator",
            dependencies: [
                "BrokerCore", "LedgerSQLite", "Gateway",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "Conformance",
            dependencies: [
                "BrokerCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "polybroker",
            dependencies: [
                "Gateway", "BrokerCore", "TsuruFrontEnd", "Operator", "LedgerSQLite", "Conformance",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "BrokerCore", "LedgerSQLite", "Gateway", "SQLiteProvider", "StaticProvider", "PostgreSQLProvider", "RedisProvider",
                "RemoteHTTPProvider", "UpstreamOSBProvider",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: settings
        ),
        .testTarget(
            name: "BrokerCoreTests",
            dependencies: ["BrokerCore", "LedgerSQLite", "TestSupport"],
            swiftSettings: settings
        ),
        .testTarget(
            name: "LedgerSQLiteTests",
            dependencies: ["BrokerCore", "LedgerSQLite", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: settings
        ),
        .testTarget(
            name: "ProviderTests",
            dependencies: [
                "BrokerCore", "SQLiteProvider", "StaticProvider", "PostgreSQLProvider", "RedisProvider", "RemoteHTTPProvider",
                "UpstreamOSBProvider", "HTTPSupport", "TestSupport", "Gateway",
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: settings
        ),
        frontEndTests("OSB"),
        frontEndTests("Tsuru"),
        frontEndTests("Apcera"),
        frontEndTests("Registry"),
        .testTarget(
            name: "ConformanceTests",
            dependencies: [
                "Conformance", "Gateway", "BrokerCore", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "InteropTests",
            dependencies: [
                "Gateway", "BrokerCore", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "BrokerCore", "TestSupport", "LedgerSQLite", "PostgreSQLProvider", "RedisProvider",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "OperatorTests",
            dependencies: [
                "Operator", "Gateway", "BrokerCore", "LedgerSQLite", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: settings
        ),
    ]
)

import BrokerCore
import Foundation
import Gateway
import HummingbirdTesting
import Logging

/// Builds gateway configurations for tests from the shipped configuration file.
public enum GatewayFixture {
    /// The repository's `config/polybroker.yaml`.
    public static var shippedConfigPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/polybroker.yaml").path
    }

    /// The password tests use.
    public static let password = "test-password-\(UUID().uuidString.prefix(8))"

    /// The shipped configuration on a temp data folder, a free port and a known password.
    public static func configuration(
        in directory: TemporaryDirectory, environment: [String: String] = [:], path: String = shippedConfigPath
    ) throws -> GatewayConfiguration {
        var environment = environment
        environment["POLYBROKER_PASSWORD"] = environment["POLYBROKER_PASSWORD"] ?? password
        environment["POLYBROKER_REGISTRY_TOKENS"] = environment["POLYBROKER_REGISTRY_TOKENS"] ?? "acme=acme-token,beta=beta-token"
        return try ConfigLoader.load(
            path: path, environment: environment,
            overrides: ConfigLoader.Overrides(host: "127.0.0.1", port: 0, dataDirectory: directory.url.path))
    }

    /// A quiet logger for tests.
    public static var logger: Logger {
        var logger = Logger(label: "polybroker-test")
        logger.logLevel = .warning
        return logger
    }
}

extension GatewayConfiguration {
    /// Lays settings over one front-end's section, as `frontends.<name>` in the file would.
    public mutating func setFrontEnd(_ name: String, _ settings: [String: JSONValue]) {
        var section = frontends[name]?.objectValue ?? [:]
        section.merge(settings) { _, new in new }
        frontends[name] = .object(section)
    }
}

extension GatewayFixture {
    /// A second Polybroker serving the shipped configuration as an upstream broker for the `osb`
    /// kind: `body` gets its `/cf` base URL (basic auth `polybroker` / `password`), and its
    /// `last_operation` answers `Retry-After: 1`.
    public static func withUpstreamBroker(_ body: @escaping @Sendable (_ url: String, Gateway.Handle) async throws -> Void) async throws {
        let upstream = TemporaryDirectory("upstream")
        var configuration = try configuration(in: upstream)
        configuration.setFrontEnd("osb", ["retry_after_seconds": 1])
        try await withLiveGateway(configuration) { client, handle in
            guard let port = client.port else { throw ConfigurationError(problems: [ConfigProblem(path: "server.port", message: "the upstream has no port")]) }
            try await body("http://127.0.0.1:\(port)/cf", handle)
        }
        _ = upstream
    }

    /// Builds a gateway from `configuration`, serves it on a live loopback port for the duration of
    /// `test`, then shuts it down (closing its ledger).
    public static func withLiveGateway(
        _ configuration: GatewayConfiguration, _ test: @escaping @Sendable (any TestClientProtocol, Gateway.Handle) async throws -> Void
    ) async throws {
        let gateway = try await Gateway.build(configuration: configuration, logger: logger)
        let handle = gateway.handle
        try await gateway.makeApplication().test(.live) { client in try await test(client, handle) }
    }
}

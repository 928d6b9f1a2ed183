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

extension GatewayFixture {
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

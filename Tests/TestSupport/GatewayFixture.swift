import BrokerCore
import Foundation
import Gateway
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

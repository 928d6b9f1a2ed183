import BrokerCore
import Foundation
import Logging
import SQLiteProvider
import StaticProvider

/// A provider plugin under contract test: how to build it, and how to see what it left on its backend.
public struct ProviderUnderTest: Sendable, CustomStringConvertible {
    /// Kind name.
    public let name: String
    /// The factory.
    public let factory: PluginFactory
    /// Params for a working provider in a data folder.
    public let params: @Sendable (TemporaryDirectory) -> JSONValue
    /// Whether a backend resource for the instance exists (nil: the kind keeps none).
    public let resourceExists: @Sendable (any ProviderPlugin, String) -> Bool?
    /// Whether the kind can revoke one binding's access.
    public let revokesPerBinding: Bool

    public var description: String { name }

    /// Builds the plugin for provider `p-test` in the folder.
    public func make(in directory: TemporaryDirectory) throws -> any ProviderPlugin {
        try factory.make(params(directory), PluginEnvironment(providerID: "p-test", dataDirectory: directory.url, logger: Logger(label: "test")))
    }

    /// The plugins that run without external servers.
    public static let embedded: [ProviderUnderTest] = [
        ProviderUnderTest(
            name: "sqlite", factory: SQLiteProvider.factory, params: { _ in .emptyObject },
            resourceExists: { plugin, id in
                guard let plugin = plugin as? SQLiteProvider else { return nil }
                return FileManager.default.fileExists(atPath: plugin.databaseFile(for: id).path)
            },
            revokesPerBinding: false),
        ProviderUnderTest(
            name: "static", factory: StaticProvider.factory,
            params: { _ in ["credentials": ["uri": "https://api.example.com/v1", "api_key": "k-123"]] },
            resourceExists: { _, _ in nil }, revokesPerBinding: false),
    ]
}

import BrokerCore
import Foundation
import Logging

/// Everything `serve` and the admin commands need, parsed and checked.
public struct GatewayConfiguration: Sendable {
    /// Listen address.
    public var host: String
    /// Listen port (0 picks a free one).
    public var port: Int
    /// Request bodies above this many bytes get 413.
    public var maxBodyBytes: Int
    /// Where the ledger, secrets and provider files live.
    public var dataDirectory: URL
    /// Log level.
    public var logLevel: Logger.Level
    /// Ledger settings.
    public var ledger: LedgerSettings
    /// Broker tunables.
    public var broker: BrokerConfiguration
    /// Basic-auth user name for /cf and /apcera (tsuru also accepts the offering name).
    public var username: String
    /// Basic-auth password; generated in the data directory when unset.
    public var password: String?
    /// Registry tenants and their tokens; a `default` tenant with a generated token when unset.
    public var registryTokens: [TenantToken]?
    /// The tenant that owns what /cf, /tsuru and /apcera create (default: the first tenant).
    public var platformTenant: String?
    /// Front-end settings by front-end name (`osb`, `tsuru`, `apcera`, `registry`), as written.
    public var frontends: [String: JSONValue]
    /// Providers from the file.
    public var providers: [Provider]
    /// The catalog.
    public var catalog: Catalog

    /// Creates a configuration; `ConfigLoader` is the usual way.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 1 << 20, dataDirectory: URL,
        logLevel: Logger.Level = .info, ledger: LedgerSettings = LedgerSettings(), broker: BrokerConfiguration = BrokerConfiguration(),
        username: String = "polybroker", password: String? = nil, registryTokens: [TenantToken]? = nil,
        platformTenant: String? = nil, frontends: [String: JSONValue] = [:], providers: [Provider], catalog: Catalog
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.dataDirectory = dataDirectory
        self.logLevel = logLevel
        self.ledger = ledger
        self.broker = broker
        self.username = username
        self.password = password
        self.registryTokens = registryTokens
        self.platformTenant = platformTenant
        self.frontends = frontends
        self.providers = providers
        self.catalog = catalog
    }

    /// The URL prefix a front-end is mounted at.
    public func prefix(of frontend: String) -> String {
        if let prefix = frontends[frontend]?["prefix"]?.stringValue { return prefix }
        return Self.defaultPrefixes[frontend] ?? "/\(frontend)"
    }

    /// Default mount points.
    public static let defaultPrefixes = ["osb": "/cf", "tsuru": "/tsuru", "apcera": "/apcera", "registry": "/registry"]
}

/// Ledger settings.
public struct LedgerSettings: Sendable {
    /// The SQLite file, relative to the data directory unless absolute.
    public var file: String
    /// `full` (fsync per commit) or `normal`.
    public var durability: String
    /// The sealing key file, relative to the data directory unless absolute.
    public var keyFile: String
    /// The sealing key itself (base64 of 32 bytes), from `POLYBROKER_LEDGER_KEY`; wins over the file.
    public var key: String?

    /// Creates ledger settings.
    public init(file: String = "polybroker.sqlite", durability: String = "full", keyFile: String = "secrets/ledger.key", key: String? = nil) {
        self.file = file
        self.durability = durability
        self.keyFile = keyFile
        self.key = key
    }
}

/// A registry tenant and its token.
public struct TenantToken: Sendable, Equatable {
    /// Tenant name.
    public var tenant: String
    /// Its `X-Auth-Token`.
    public var token: String

    /// Creates a pair.
    public init(tenant: String, token: String) {
        self.tenant = tenant
        self.token = token
    }

    /// Parses `tenant=token,tenant=token`.
    public static func parseList(_ text: String) -> [TenantToken]? {
        var pairs: [TenantToken] = []
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
            pairs.append(TenantToken(tenant: parts[0], token: parts[1]))
        }
        return pairs.isEmpty ? nil : pairs
    }
}

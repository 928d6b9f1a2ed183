import BrokerCore
import FrontEndSupport

/// Settings of the `/registry` front-end.
public struct RegistryConfiguration: Sendable {
    /// Tenants and their `X-Auth-Token`s (a tenant may have several, for rotation).
    public var tokens: [(tenant: String, token: String)]
    /// `Retry-After` seconds sent with `noLiveProvider`.
    public var retryAfterSeconds: Int
    /// How long provisioning and binding calls wait for a synchronous provider.
    public var waitSeconds: Int

    /// Creates settings.
    public init(tokens: [(tenant: String, token: String)], retryAfterSeconds: Int = 10, waitSeconds: Int = 50) {
        self.tokens = tokens
        self.retryAfterSeconds = retryAfterSeconds
        self.waitSeconds = waitSeconds
    }

    /// The keys `frontends.registry` may hold.
    public static let keys: Set<String> = ["prefix", "retry_after_seconds"]

    /// Applies `frontends.registry` settings; returns one problem per bad key (`key: message`).
    public mutating func apply(_ settings: JSONValue?) -> [String] {
        guard let members = settings?.objectValue else { return [] }
        var problems = FrontEndSettings.unknownKeys(in: members, allowed: Self.keys)
        if let value = members["retry_after_seconds"] {
            if let seconds = value.integerValue, (1...3600).contains(seconds) { retryAfterSeconds = Int(seconds) } else {
                problems.append("retry_after_seconds: must be a whole number from 1 to 3600")
            }
        }
        return problems
    }

    /// The tenant a token belongs to, compared in constant time.
    func tenant(of token: String) -> String? {
        var found: String?
        for pair in tokens where constantTimeEquals(pair.token, token) { found = found ?? pair.tenant }
        return found
    }
}

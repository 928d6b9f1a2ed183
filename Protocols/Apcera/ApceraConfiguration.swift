import BrokerCore
import Foundation
import FrontEndSupport

/// Settings of the `/apcera` front-end (`frontends.apcera` in the configuration file).
public struct ApceraConfiguration: Sendable {
    /// Basic-auth user name.
    public var username: String
    /// Basic-auth password.
    public var password: String
    /// A bearer token accepted instead of basic auth (`POLYBROKER_APCERA_TOKEN`).
    public var bearerToken: String?
    /// The registry tenant that owns what is created here, and the only one visible here.
    public var tenant: String
    /// The key of the state headers (`POLYBROKER_APCERA_STATE_KEY` or the generated file).
    public var stateKey: Data
    /// Keys of earlier state still accepted for verification.
    public var previousStateKeys: [Data]
    /// Three tiers (providers can be registered) or two.
    public var providerRegistration: Bool
    /// Deleting a provider deprovisions its services instead of answering 409.
    public var forceProviderDelete: Bool
    /// The offering of a service created without a provider or `params.offering` (default: the first).
    public var defaultOffering: String?
    /// How long a create waits for an asynchronous plan (Apcera cannot poll).
    public var waitSeconds: Int

    /// Creates settings.
    public init(
        username: String, password: String, bearerToken: String? = nil, tenant: String, stateKey: Data,
        previousStateKeys: [Data] = [], providerRegistration: Bool = true, forceProviderDelete: Bool = false,
        defaultOffering: String? = nil, waitSeconds: Int = 60
    ) {
        self.username = username
        self.password = password
        self.bearerToken = bearerToken
        self.tenant = tenant
        self.stateKey = stateKey
        self.previousStateKeys = previousStateKeys
        self.providerRegistration = providerRegistration
        self.forceProviderDelete = forceProviderDelete
        self.defaultOffering = defaultOffering
        self.waitSeconds = waitSeconds
    }

    /// The keys `frontends.apcera` may hold.
    public static let keys: Set<String> = [
        "prefix", "provider_registration", "force_provider_delete", "default_offering", "wait_seconds", "state_key",
        "previous_state_keys", "token",
    ]

    /// Applies `frontends.apcera` settings; returns one problem per bad key (`key: message`).
    /// `state_key` is read by the gateway with the other secrets.
    public mutating func apply(_ settings: JSONValue?) -> [String] {
        guard let members = settings?.objectValue else { return [] }
        var problems = FrontEndSettings.unknownKeys(in: members, allowed: Self.keys)
        func flag(_ key: String) -> Bool? {
            guard let value = members[key] else { return nil }
            if let bool = value.boolValue { return bool }
            if let text = value.stringValue?.lowercased(), text == "true" || text == "false" { return text == "true" }
            problems.append("\(key): must be true or false")
            return nil
        }
        if let value = flag("provider_registration") { providerRegistration = value }
        if let value = flag("force_provider_delete") { forceProviderDelete = value }
        if let value = members["default_offering"], !value.isNull {
            if let name = value.stringValue { defaultOffering = name } else { problems.append("default_offering: must be an offering name") }
        }
        if let value = members["wait_seconds"] {
            if let seconds = value.integerValue ?? value.stringValue.flatMap({ Int64($0) }), (1...600).contains(seconds) {
                waitSeconds = Int(seconds)
            } else {
                problems.append("wait_seconds: must be a whole number from 1 to 600")
            }
        }
        if let value = members["state_key"], !value.isNull, (value.stringValue?.count ?? 0) < 32 {
            problems.append("state_key: must be at least 32 characters")
        }
        if let value = members["token"], !value.isNull {
            if let token = value.stringValue, token.count >= 16 { bearerToken = token } else { problems.append("token: must be at least 16 characters") }
        }
        if let value = members["previous_state_keys"], !value.isNull {
            if let keys = value.arrayValue?.compactMap(\.stringValue), keys.count == value.arrayValue?.count, keys.allSatisfy({ $0.count >= 32 }) {
                previousStateKeys = keys.map { Data($0.utf8) }
            } else {
                problems.append("previous_state_keys: must be a list of keys of at least 32 characters")
            }
        }
        return problems
    }
}

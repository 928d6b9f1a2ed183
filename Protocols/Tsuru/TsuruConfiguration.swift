import BrokerCore
import FrontEndSupport

/// Settings of the `/tsuru` front-end (`frontends.tsuru` in the configuration file).
public struct TsuruConfiguration: Sendable {
    /// The user name accepted besides the offering name (tsuru's default user).
    public var username: String
    /// The password of every offering's service API.
    public var password: String
    /// The registry tenant that owns instances created here, and the only one visible here.
    public var tenant: String
    /// The header tsuru sends its request id in (its `request-id-header` setting).
    public var requestIDHeader: String
    /// How long bind calls wait for a provider (tsuru gives up after 300 s).
    public var bindTimeout: Duration

    /// Creates settings.
    public init(username: String, password: String, tenant: String, requestIDHeader: String = "X-Request-ID", bindTimeout: Duration = .seconds(60)) {
        self.username = username
        self.password = password
        self.tenant = tenant
        self.requestIDHeader = requestIDHeader
        self.bindTimeout = bindTimeout
    }

    /// The keys `frontends.tsuru` may hold.
    public static let keys: Set<String> = ["prefix", "request_id_header", "bind_timeout_seconds"]

    /// Applies `frontends.tsuru` settings; returns one problem per bad key (`key: message`).
    public mutating func apply(_ settings: JSONValue?) -> [String] {
        guard let members = settings?.objectValue else { return [] }
        var problems = FrontEndSettings.unknownKeys(in: members, allowed: Self.keys)
        if let value = members["request_id_header"] {
            if let name = value.stringValue, !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) {
                requestIDHeader = name
            } else {
                problems.append("request_id_header: must be a header name such as X-Request-ID")
            }
        }
        if let value = members["bind_timeout_seconds"] {
            if let seconds = value.integerValue, (1...280).contains(seconds) {
                bindTimeout = .seconds(seconds)
            } else {
                problems.append("bind_timeout_seconds: must be a whole number from 1 to 280 (tsuru gives up at 300)")
            }
        }
        return problems
    }
}

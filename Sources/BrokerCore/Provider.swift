import Foundation

/// A provider: one backend a plugin of some kind talks to (a PostgreSQL server, a folder of SQLite files, …).
public struct Provider: Sendable, Equatable {
    /// Unique id.
    public var id: String
    /// Display name.
    public var name: String
    /// The plugin kind (`sqlite`, `static`, `postgresql`, …).
    public var kind: String
    /// The plugin's own parameters; sealed at rest, never echoed.
    public var params: JSONValue
    /// Tags offerings can select on.
    public var tags: [String]
    /// String metadata.
    public var metadata: [String: String]
    /// The tenant that registered it; `nil` for configured providers, visible to all tenants.
    public var tenant: String?
    /// The registry session keeping it alive, if any.
    public var sessionID: String?
    /// Where it came from.
    public var source: ProviderSource
    /// Whether provisioning may choose it.
    public var status: ProviderStatus
    /// Why it is offline (client-safe).
    public var statusReason: String?
    /// Creation time.
    public var createdAt: Date
    /// Time of the last change.
    public var updatedAt: Date
    /// When it was removed; a removed provider is kept for history and its id is never reused.
    public var removedAt: Date?

    /// Creates a provider value.
    public init(
        id: String, name: String, kind: String, params: JSONValue = .emptyObject, tags: [String] = [],
        metadata: [String: String] = [:], tenant: String? = nil, sessionID: String? = nil,
        source: ProviderSource, status: ProviderStatus = .online, statusReason: String? = nil,
        createdAt: Date, updatedAt: Date, removedAt: Date? = nil
    ) {
        self.removedAt = removedAt
        self.id = id
        self.name = name
        self.kind = kind
        self.params = params
        self.tags = tags
        self.metadata = metadata
        self.tenant = tenant
        self.sessionID = sessionID
        self.source = source
        self.status = status
        self.statusReason = statusReason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Where a provider was defined.
public enum ProviderSource: String, Sendable, Codable {
    /// The configuration file; read-only at run time.
    case config
    /// Registered through the registry API.
    case registry
    /// Registered through the Apcera gateway API.
    case apcera
}

/// Provider liveness.
public enum ProviderStatus: String, Sendable, Codable {
    case online
    case offline
}

/// A registry session: liveness for the providers attached to it.
public struct Session: Sendable, Equatable {
    /// Unique id.
    public var id: String
    /// Owning tenant.
    public var tenant: String
    /// Seconds without a heartbeat before it expires.
    public var heartbeatTimeout: Int
    /// A hash of the token the next heartbeat must present (the token itself is never stored).
    public var tokenHash: String
    /// When it expires unless a heartbeat arrives.
    public var deadline: Date
    /// String metadata.
    public var metadata: [String: String]
    /// Creation time.
    public var createdAt: Date
    /// The last accepted heartbeat.
    public var lastSeen: Date?

    /// Creates a session value.
    public init(
        id: String, tenant: String, heartbeatTimeout: Int, tokenHash: String, deadline: Date, metadata: [String: String] = [:],
        createdAt: Date, lastSeen: Date? = nil
    ) {
        self.id = id
        self.tenant = tenant
        self.heartbeatTimeout = heartbeatTimeout
        self.tokenHash = tokenHash
        self.deadline = deadline
        self.metadata = metadata
        self.createdAt = createdAt
        self.lastSeen = lastSeen
    }
}

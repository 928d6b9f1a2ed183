import Foundation

/// A binding: credentials for one application (or key) on one instance.
public struct Binding: Sendable, Equatable {
    /// Canonical id: the CF `binding_id`, the Apcera and registry binding id.
    public var id: String
    /// The instance's id.
    public var instanceID: String
    /// The application it belongs to, when the protocol keys bindings by app (tsuru app name).
    public var appKey: String?
    /// The front-end that created it.
    public var createdBy: String
    /// Life-cycle state.
    public var state: BindingState
    /// Client-safe reason of the last failure.
    public var failure: String?
    /// Bind parameters.
    public var parameters: JSONValue
    /// Platform context (app guid, app hosts, route, …).
    public var context: JSONValue
    /// What makes a repeated bind identical.
    public var identity: JSONValue
    /// Credentials from the provider; sealed at rest.
    public var credentials: Credentials?
    /// Unit hosts recorded by tsuru's unit binds.
    public var units: [String]
    /// Creation time.
    public var createdAt: Date
    /// Time of the last change.
    public var updatedAt: Date

    /// Creates a binding value.
    public init(
        id: String, instanceID: String, appKey: String? = nil, createdBy: String, state: BindingState,
        failure: String? = nil, parameters: JSONValue = .emptyObject, context: JSONValue = .emptyObject,
        identity: JSONValue = .emptyObject, credentials: Credentials? = nil, units: [String] = [],
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.instanceID = instanceID
        self.appKey = appKey
        self.createdBy = createdBy
        self.state = state
        self.failure = failure
        self.parameters = parameters
        self.context = context
        self.identity = identity
        self.credentials = credentials
        self.units = units
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Binding life cycle: binding → bound → unbinding → deleted; failed.
public enum BindingState: String, Sendable, Codable, CaseIterable {
    /// The provider is creating credentials.
    case binding
    /// Credentials are live.
    case bound
    /// The provider is revoking credentials.
    case unbinding
    /// Revoked; kept for history.
    case deleted
    /// Creating or revoking failed; see `failure`.
    case failed

    /// Whether a binding operation is running.
    public var isBusy: Bool { self == .binding || self == .unbinding }
}

/// Credentials as a flat string map. Its description never shows the values.
public struct Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The values (`uri`, `host`, `port`, `username`, `password`, …).
    public var values: [String: String]

    /// Creates credentials.
    public init(_ values: [String: String]) {
        self.values = values
    }

    /// Value lookup.
    public subscript(key: String) -> String? { values[key] }

    public var description: String { "<redacted \(values.count) credential fields>" }
    public var debugDescription: String { description }
}

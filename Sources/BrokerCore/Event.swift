import Foundation

/// An entry of the append-only event feed shared by all front-ends.
public struct Event: Sendable, Equatable {
    /// Ledger sequence: strictly increasing, not contiguous.
    public var sequence: Int64
    /// When it happened.
    public var timestamp: Date
    /// Event type, e.g. `instance.create`.
    public var type: String
    /// The tenant it belongs to.
    public var tenant: String
    /// The front-end that caused it, or `system`.
    public var protocolName: String
    /// The id of the instance, binding, provider or session it is about.
    public var subject: String
    /// Details; never credentials or tokens.
    public var payload: JSONValue

    /// Creates an event.
    public init(sequence: Int64, timestamp: Date, type: String, tenant: String, protocolName: String, subject: String, payload: JSONValue) {
        self.sequence = sequence
        self.timestamp = timestamp
        self.type = type
        self.tenant = tenant
        self.protocolName = protocolName
        self.subject = subject
        self.payload = payload
    }
}

/// An event to append; the ledger assigns its sequence.
public struct NewEvent: Sendable, Equatable {
    /// Event type.
    public var type: String
    /// Tenant.
    public var tenant: String
    /// Causing front-end.
    public var protocolName: String
    /// Subject id.
    public var subject: String
    /// Details.
    public var payload: JSONValue
    /// When it happened.
    public var timestamp: Date

    /// Creates an event to append.
    public init(type: String, tenant: String, protocolName: String, subject: String, payload: JSONValue, timestamp: Date) {
        self.type = type
        self.tenant = tenant
        self.protocolName = protocolName
        self.subject = subject
        self.payload = payload
        self.timestamp = timestamp
    }
}

/// The event types Polybroker writes.
public enum EventType {
    public static let instanceCreate = "instance.create"
    public static let instanceUpdate = "instance.update"
    public static let instanceDelete = "instance.delete"
    public static let instanceFail = "instance.fail"
    public static let bindingCreate = "binding.create"
    public static let bindingDelete = "binding.delete"
    public static let providerJoin = "provider.join"
    public static let providerUpdate = "provider.update"
    public static let providerTimeout = "provider.timeout"
    public static let providerRemove = "provider.remove"
    public static let sessionCreate = "session.create"
    public static let sessionTimeout = "session.timeout"
    public static let sessionRemove = "session.remove"
    public static let stateRebuilt = "state.rebuilt"

    /// Every type, for validating filters.
    public static let all: [String] = [
        sessionCreate, sessionTimeout, sessionRemove, providerJoin, providerUpdate, providerTimeout, providerRemove,
        instanceCreate, instanceUpdate, instanceDelete, instanceFail, bindingCreate, bindingDelete, stateRebuilt,
    ]
}

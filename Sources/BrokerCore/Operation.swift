import Foundation

/// An entry in the operation journal: written before a provider is called, finished after.
public struct BrokerOperation: Sendable, Equatable {
    /// Opaque id handed to platforms that poll (OSB `operation`).
    public var id: String
    /// What it does.
    public var kind: OperationKind
    /// The instance it concerns.
    public var instanceID: String
    /// The binding it concerns, for bind and unbind.
    public var bindingID: String?
    /// Progress.
    public var state: OperationState
    /// Client-safe description (failure reason when failed).
    public var description: String?
    /// Who asked.
    public var origin: RequestOrigin
    /// The change asked for (update: target plan and parameters), to recognise a repeat.
    public var request: JSONValue
    /// When it started.
    public var startedAt: Date
    /// When it finished.
    public var finishedAt: Date?

    /// Creates an operation.
    public init(
        id: String, kind: OperationKind, instanceID: String, bindingID: String? = nil,
        state: OperationState = .inProgress, description: String? = nil, origin: RequestOrigin,
        request: JSONValue = .emptyObject, startedAt: Date, finishedAt: Date? = nil
    ) {
        self.id = id
        self.kind = kind
        self.instanceID = instanceID
        self.bindingID = bindingID
        self.state = state
        self.description = description
        self.origin = origin
        self.request = request
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    /// Marks the operation finished.
    public mutating func finish(_ state: OperationState, description: String? = nil, at time: Date) {
        self.state = state
        self.description = description
        self.finishedAt = time
    }
}

/// The kinds of operation.
public enum OperationKind: String, Sendable, Codable, CaseIterable {
    case provision, update, deprovision, bind, unbind

    /// Whether it acts on a binding.
    public var isBindingOperation: Bool { self == .bind || self == .unbind }
}

/// Operation progress, spelled as OSB's `last_operation` states.
public enum OperationState: String, Sendable, Codable {
    case inProgress = "in progress"
    case succeeded
    case failed
}

/// Who asked for a change, recorded on the operation and the event.
public struct RequestOrigin: Sendable, Equatable, Codable {
    /// The front-end (`cf`, `tsuru`, `apcera`, `registry`, `system`).
    public var protocolName: String
    /// The request id of the logs.
    public var requestID: String?
    /// The platform's user identity (OSB originating identity, tsuru user), as given.
    public var identity: JSONValue?
    /// A platform event id (tsuru `eventid`).
    public var platformEventID: String?

    /// Creates an origin.
    public init(protocolName: String, requestID: String? = nil, identity: JSONValue? = nil, platformEventID: String? = nil) {
        self.protocolName = protocolName
        self.requestID = requestID
        self.identity = identity
        self.platformEventID = platformEventID
    }

    /// The origin of work no request asked for (expiry, recovery).
    public static let system = RequestOrigin(protocolName: "system")
}

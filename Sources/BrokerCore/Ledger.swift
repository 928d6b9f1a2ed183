import Foundation

/// The ledger port: durable storage of everything the broker knows.
///
/// The broker decides; the ledger makes each decision atomic. `mutate` runs the broker's
/// decision on the current state of one instance inside one write transaction, so checks
/// and changes cannot race, whichever process or front-end asks.
public protocol Ledger: Sendable {
    /// Loads the aggregate of the instance named by `key` (nil when unknown), runs `body`
    /// on it and writes what it returns, all in one write transaction.
    ///
    /// Throws `LedgerError.uniqueViolation` when a write breaks a unique rule (an id or a
    /// live name in use); errors thrown by `body` roll the transaction back and pass through.
    func mutate<Result: Sendable>(
        _ key: InstanceKey, _ body: @escaping @Sendable (InstanceAggregate?) throws -> (LedgerWrite, Result)
    ) async throws -> Result

    /// The aggregate of one instance.
    func aggregate(_ key: InstanceKey) async throws -> InstanceAggregate?
    /// One binding by id (deleted ones included).
    func binding(id: String) async throws -> Binding?
    /// One operation by id.
    func operation(id: String) async throws -> BrokerOperation?
    /// The most recent operation on an instance (`bindingID == nil`: instance operations only) or on one binding.
    func latestOperation(instanceID: String, bindingID: String?) async throws -> BrokerOperation?
    /// Every operation still in progress, oldest first.
    func openOperations() async throws -> [BrokerOperation]

    /// A page of instances.
    func instances(_ filter: InstanceFilter, page: PageRequest) async throws -> Page<Instance>
    /// A page of bindings.
    func bindings(_ filter: BindingFilter, page: PageRequest) async throws -> Page<Binding>
    /// A page of events in sequence order.
    func events(_ filter: EventFilter, page: PageRequest) async throws -> Page<Event>

    /// Inserts or replaces a provider, appending the events in the same transaction.
    /// Throws `LedgerError.uniqueViolation(field: "provider.name")` when another live provider has its name.
    func saveProvider(_ provider: Provider, events: [NewEvent]) async throws
    /// One provider by id.
    func provider(id: String) async throws -> Provider?
    /// A page of providers.
    func providers(_ filter: ProviderFilter, page: PageRequest) async throws -> Page<Provider>

    /// Runs `body` on a session (nil when unknown) and the providers attached to it, in one write
    /// transaction, and writes what it returns.
    func mutateSession<Result: Sendable>(
        _ id: String, _ body: @escaping @Sendable (Session?, [Provider]) throws -> (SessionWrite, Result)
    ) async throws -> Result
    /// One session by id.
    func session(id: String) async throws -> Session?
    /// A page of a tenant's sessions (sorted by id).
    func sessions(tenant: String, page: PageRequest) async throws -> Page<Session>
    /// The earliest session deadline (the head of the deadline queue), if any.
    func earliestSessionDeadline() async throws -> Date?
    /// The ids of sessions whose deadline is at or before `time`, earliest first.
    func sessionsDue(at time: Date, limit: Int) async throws -> [String]
    /// Gives every session whose deadline passed one fresh timeout from `time` (after a restart).
    func reviveOverdueSessions(at time: Date) async throws -> Int

    /// Checks that the ledger can be read.
    func ping() async throws
    /// Closes the ledger; later calls fail.
    func close() async throws
}

/// An instance with its live bindings and open operations, as seen inside one transaction.
public struct InstanceAggregate: Sendable, Equatable {
    /// The instance.
    public var instance: Instance
    /// Bindings not yet deleted.
    public var bindings: [Binding]
    /// Operations in progress on the instance or its bindings.
    public var openOperations: [BrokerOperation]

    /// Creates an aggregate.
    public init(instance: Instance, bindings: [Binding], openOperations: [BrokerOperation]) {
        self.instance = instance
        self.bindings = bindings
        self.openOperations = openOperations
    }

    /// The open instance operation of a kind.
    public func openOperation(_ kind: OperationKind) -> BrokerOperation? {
        openOperations.first { $0.kind == kind && $0.bindingID == nil }
    }

    /// The open operation of a kind on a binding.
    public func openOperation(_ kind: OperationKind, binding id: String) -> BrokerOperation? {
        openOperations.first { $0.kind == kind && $0.bindingID == id }
    }

    /// The live binding with this id.
    public func binding(_ id: String) -> Binding? {
        bindings.first { $0.id == id }
    }
}

/// What one `mutate` writes: rows to insert or replace, events to append.
public struct LedgerWrite: Sendable, Equatable {
    /// The instance row, inserted or replaced.
    public var instance: Instance?
    /// Binding rows, inserted or replaced.
    public var bindings: [Binding]
    /// BrokerOperation rows, inserted or replaced.
    public var operations: [BrokerOperation]
    /// Events to append.
    public var events: [NewEvent]

    /// Creates a write.
    public init(instance: Instance? = nil, bindings: [Binding] = [], operations: [BrokerOperation] = [], events: [NewEvent] = []) {
        self.instance = instance
        self.bindings = bindings
        self.operations = operations
        self.events = events
    }

    /// Writes nothing.
    public static let none = LedgerWrite()
}

/// What one `mutateSession` writes.
public struct SessionWrite: Sendable, Equatable {
    /// The session row to insert or replace.
    public var session: Session?
    /// Whether to delete the session row.
    public var deleteSession: Bool
    /// Provider rows to replace.
    public var providers: [Provider]
    /// Events to append.
    public var events: [NewEvent]

    /// Creates a write.
    public init(session: Session? = nil, deleteSession: Bool = false, providers: [Provider] = [], events: [NewEvent] = []) {
        self.session = session
        self.deleteSession = deleteSession
        self.providers = providers
        self.events = events
    }
}

/// Ledger failures the broker reacts to.
public enum LedgerError: Error, Sendable, Equatable {
    /// A unique rule was broken; `field` names it (`instance.id`, `instance.name`, `binding.id`, `binding.app`).
    case uniqueViolation(field: String)
    /// The ledger was closed.
    case closed
}

/// Which page of a list to read. Markers are inclusive: the page starts at the marker.
public struct PageRequest: Sendable, Equatable {
    /// The key of the first item of the page.
    public var marker: String?
    /// Items per page.
    public var limit: Int

    /// Creates a page request.
    public init(marker: String? = nil, limit: Int = 100) {
        self.marker = marker
        self.limit = limit
    }

    /// Everything, in pages large enough for admin listings.
    public static let all = PageRequest(limit: 1_000_000)
}

/// A page of a list.
public struct Page<Item: Sendable>: Sendable {
    /// Items, sorted by key.
    public var items: [Item]
    /// The key of the first item of the next page; nil on the last page.
    public var nextMarker: String?

    /// Creates a page.
    public init(items: [Item], nextMarker: String?) {
        self.items = items
        self.nextMarker = nextMarker
    }
}

extension Page: Equatable where Item: Equatable {}

/// Filters for instance lists (sorted by name).
public struct InstanceFilter: Sendable, Equatable {
    /// Only this tenant.
    public var tenant: String?
    /// Only this offering id.
    public var offeringID: String?
    /// Only this provider id.
    public var providerID: String?
    /// Only instances carrying this tag.
    public var tag: String?
    /// Only instances asked for by this user.
    public var user: String?
    /// Include deleted instances.
    public var includeDeleted: Bool

    /// Creates a filter.
    public init(tenant: String? = nil, offeringID: String? = nil, providerID: String? = nil, tag: String? = nil, user: String? = nil, includeDeleted: Bool = false) {
        self.tenant = tenant
        self.offeringID = offeringID
        self.providerID = providerID
        self.tag = tag
        self.user = user
        self.includeDeleted = includeDeleted
    }
}

/// Filters for binding lists (sorted by id).
public struct BindingFilter: Sendable, Equatable {
    /// Only bindings of this instance.
    public var instanceID: String?
    /// Only bindings of instances of this tenant.
    public var tenant: String?
    /// Include deleted bindings.
    public var includeDeleted: Bool

    /// Creates a filter.
    public init(instanceID: String? = nil, tenant: String? = nil, includeDeleted: Bool = false) {
        self.instanceID = instanceID
        self.tenant = tenant
        self.includeDeleted = includeDeleted
    }
}

/// Filters for the event feed.
public struct EventFilter: Sendable, Equatable {
    /// Only this tenant.
    public var tenant: String?
    /// Only this type.
    public var type: String?
    /// Only events about this subject.
    public var subject: String?

    /// Creates a filter.
    public init(tenant: String? = nil, type: String? = nil, subject: String? = nil) {
        self.tenant = tenant
        self.type = type
        self.subject = subject
    }
}

/// Filters for provider lists (sorted by id).
public struct ProviderFilter: Sendable, Equatable {
    /// Only this kind.
    public var kind: String?
    /// Only providers of this tenant plus configured ones.
    public var tenant: String?
    /// Only providers carrying this tag.
    public var tag: String?
    /// Include removed providers.
    public var includeRemoved: Bool

    /// Creates a filter.
    public init(kind: String? = nil, tenant: String? = nil, tag: String? = nil, includeRemoved: Bool = false) {
        self.kind = kind
        self.tenant = tenant
        self.tag = tag
        self.includeRemoved = includeRemoved
    }
}

/// Seals secrets at rest (binding credentials, provider params).
public protocol SecretSealer: Sendable {
    /// Encrypts and authenticates.
    func seal(_ plaintext: Data) throws -> Data
    /// Verifies and decrypts.
    func open(_ sealed: Data) throws -> Data
}

import Foundation

/// A provisioned service instance.
public struct Instance: Sendable, Equatable {
    /// Canonical id: the CF `instance_id`, the Apcera service id, the registry `id`.
    public var id: String
    /// Name, unique among live instances across offerings (tsuru and the registry address by name).
    public var name: String
    /// The offering's id.
    public var offeringID: String
    /// The current plan's id.
    public var planID: String
    /// The provider that holds the resource; every later call goes there.
    public var providerID: String
    /// The registry tenant the instance belongs to.
    public var tenant: String
    /// The front-end that created it (`cf`, `tsuru`, `apcera`, `registry`).
    public var createdBy: String
    /// Life-cycle state.
    public var state: InstanceState
    /// Client-safe reason of the last failure.
    public var failure: String?
    /// Parameters as last applied.
    public var parameters: JSONValue
    /// Platform context (CF org/space, k8s namespace, tsuru team, …): recorded, never an access filter.
    public var context: JSONValue
    /// What makes a repeated create identical (offering, plan, parameters and whatever the protocol adds).
    public var identity: JSONValue
    /// Tags for filtering.
    public var tags: [String]
    /// String metadata.
    public var metadata: [String: String]
    /// The user that asked for it, when the protocol says.
    public var user: String?
    /// Dashboard URL returned by the provider.
    public var dashboardURL: String?
    /// Opaque facts the provider returned at provision time, handed back on every later call.
    public var providerState: [String: String]
    /// Creation time.
    public var createdAt: Date
    /// Time of the last change.
    public var updatedAt: Date

    /// Creates an instance value.
    public init(
        id: String, name: String, offeringID: String, planID: String, providerID: String, tenant: String,
        createdBy: String, state: InstanceState, failure: String? = nil, parameters: JSONValue = .emptyObject,
        context: JSONValue = .emptyObject, identity: JSONValue = .emptyObject, tags: [String] = [],
        metadata: [String: String] = [:], user: String? = nil, dashboardURL: String? = nil,
        providerState: [String: String] = [:], createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.offeringID = offeringID
        self.planID = planID
        self.providerID = providerID
        self.tenant = tenant
        self.createdBy = createdBy
        self.state = state
        self.failure = failure
        self.parameters = parameters
        self.context = context
        self.identity = identity
        self.tags = tags
        self.metadata = metadata
        self.user = user
        self.dashboardURL = dashboardURL
        self.providerState = providerState
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Instance life cycle: provisioning → ready ⇄ updating; ready/failed → deprovisioning → deleted.
public enum InstanceState: String, Sendable, Codable, CaseIterable {
    /// The provider is creating the resource.
    case provisioning
    /// Usable.
    case ready
    /// A plan or parameter change is running.
    case updating
    /// The provider is removing the resource.
    case deprovisioning
    /// Gone; kept for history and so its id is never reused.
    case deleted
    /// Provisioning or deprovisioning failed; see `failure`.
    case failed

    /// Whether an instance operation is running.
    public var isBusy: Bool { self == .provisioning || self == .updating || self == .deprovisioning }
}

/// How a command names an instance.
public enum InstanceKey: Sendable, Hashable, CustomStringConvertible {
    /// By canonical id (deleted instances included).
    case id(String)
    /// By name (live instances only).
    case name(String)

    public var description: String {
        switch self {
        case .id(let id): id
        case .name(let name): name
        }
    }
}

/// The catalog: the offerings and plans platforms can provision.
public struct Catalog: Sendable, Equatable {
    /// Offerings in the order they were configured.
    public var offerings: [Offering]

    /// Creates a catalog.
    public init(offerings: [Offering]) {
        self.offerings = offerings
    }

    /// The offering with this id or name.
    public func offering(_ idOrName: String) -> Offering? {
        offerings.first { $0.id == idOrName } ?? offerings.first { $0.name == idOrName }
    }

    /// The offering with exactly this id.
    public func offering(id: String) -> Offering? {
        offerings.first { $0.id == id }
    }

    /// Resolves an offering and one of its plans by id or name.
    public func resolve(offering: String, plan: String?) throws(BrokerError) -> (Offering, Plan) {
        guard let found = self.offering(offering) else {
            throw .unknownOffering(offering)
        }
        guard let plan else {
            guard let first = found.plans.first else { throw .unknownPlan(offering: found.name, plan: "") }
            return (found, first)
        }
        guard let resolved = found.plan(plan) else {
            throw .unknownPlan(offering: found.name, plan: plan)
        }
        return (found, resolved)
    }
}

/// A service offering: CF `services[]`, a tsuru service, an Apcera or registry provider type.
public struct Offering: Sendable, Equatable {
    /// Stable id (the OSB `service_id`).
    public var id: String
    /// Unique lower-case-hyphen name.
    public var name: String
    /// Human description.
    public var description: String
    /// Whether instances can be bound (plans may override).
    public var bindable: Bool
    /// Free-form tags shown in catalogs.
    public var tags: [String]
    /// Whether plans can be changed on update (plans may override).
    public var planUpdateable: Bool
    /// Whether instances can be fetched (OSB `instances_retrievable`).
    public var instancesRetrievable: Bool
    /// Whether bindings can be fetched (OSB `bindings_retrievable`).
    public var bindingsRetrievable: Bool
    /// Whether context-only updates are accepted (OSB `allow_context_updates`).
    public var allowContextUpdates: Bool
    /// Catalog metadata shown as is (OSB `metadata`).
    public var metadata: JSONValue?
    /// Which providers serve this offering.
    public var providerSelector: ProviderSelector
    /// Renames of credential keys for protocols that expose them as variables (tsuru).
    public var credentialNames: [String: String]
    /// The plans, in order; the first is the default.
    public var plans: [Plan]

    /// Creates an offering.
    public init(
        id: String, name: String, description: String, bindable: Bool = true, tags: [String] = [],
        planUpdateable: Bool = false, instancesRetrievable: Bool = true, bindingsRetrievable: Bool = true,
        allowContextUpdates: Bool = false, metadata: JSONValue? = nil, providerSelector: ProviderSelector,
        credentialNames: [String: String] = [:], plans: [Plan]
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.bindable = bindable
        self.tags = tags
        self.planUpdateable = planUpdateable
        self.instancesRetrievable = instancesRetrievable
        self.bindingsRetrievable = bindingsRetrievable
        self.allowContextUpdates = allowContextUpdates
        self.metadata = metadata
        self.providerSelector = providerSelector
        self.credentialNames = credentialNames
        self.plans = plans
    }

    /// The plan with this id or name.
    public func plan(_ idOrName: String) -> Plan? {
        plans.first { $0.id == idOrName } ?? plans.first { $0.name == idOrName }
    }

    /// Whether instances of this plan can be bound.
    public func isBindable(_ plan: Plan) -> Bool {
        plan.bindable ?? bindable
    }

    /// Whether an instance can move from its plan to another one.
    public func isUpdateable(_ plan: Plan) -> Bool {
        plan.planUpdateable ?? planUpdateable
    }
}

/// Selects the providers that can serve an offering.
public struct ProviderSelector: Sendable, Equatable {
    /// The plugin kind, e.g. `sqlite`.
    public var kind: String
    /// Tags a provider must all carry to be chosen.
    public var tags: [String]

    /// Creates a selector.
    public init(kind: String, tags: [String] = []) {
        self.kind = kind
        self.tags = tags
    }

    /// Whether a provider matches this selector.
    public func matches(_ provider: Provider) -> Bool {
        provider.kind == kind && tags.allSatisfy(provider.tags.contains)
    }
}

/// A plan of an offering.
public struct Plan: Sendable, Equatable {
    /// Stable id (the OSB `plan_id`).
    public var id: String
    /// Name, unique within its offering.
    public var name: String
    /// Human description.
    public var description: String
    /// Whether the plan is free of charge.
    public var free: Bool
    /// Overrides the offering's `bindable`.
    public var bindable: Bool?
    /// Overrides the offering's `planUpdateable`.
    public var planUpdateable: Bool?
    /// Provider work for this plan always runs in the background; callers must be able to poll.
    public var isAsynchronous: Bool
    /// The least time an operation on this plan takes, so the in-progress state can be observed.
    public var minimumDuration: Duration
    /// OSB `maintenance_info`.
    public var maintenanceInfo: MaintenanceInfo?
    /// JSON schemas for parameters.
    public var schemas: PlanSchemas
    /// Catalog metadata shown as is.
    public var metadata: JSONValue?
    /// Whether bindings may be rotated (OSB v2.17 `binding_rotatable`).
    public var bindingRotatable: Bool
    /// OSB `maximum_polling_duration` in seconds.
    public var maximumPollingDuration: Int?
    /// Options handed to the provider plugin (e.g. a connection limit).
    public var options: [String: JSONValue]

    /// Creates a plan.
    public init(
        id: String, name: String, description: String, free: Bool = true, bindable: Bool? = nil,
        planUpdateable: Bool? = nil, isAsynchronous: Bool = false, minimumDuration: Duration = .zero,
        maintenanceInfo: MaintenanceInfo? = nil, schemas: PlanSchemas = PlanSchemas(), metadata: JSONValue? = nil,
        bindingRotatable: Bool = false, maximumPollingDuration: Int? = nil, options: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.free = free
        self.bindable = bindable
        self.planUpdateable = planUpdateable
        self.isAsynchronous = isAsynchronous
        self.minimumDuration = minimumDuration
        self.maintenanceInfo = maintenanceInfo
        self.schemas = schemas
        self.metadata = metadata
        self.bindingRotatable = bindingRotatable
        self.maximumPollingDuration = maximumPollingDuration
        self.options = options
    }
}

/// OSB maintenance information of a plan.
public struct MaintenanceInfo: Sendable, Equatable {
    /// Semantic version.
    public var version: String
    /// Optional description.
    public var description: String?

    /// Creates maintenance information.
    public init(version: String, description: String? = nil) {
        self.version = version
        self.description = description
    }
}

/// The JSON schemas a plan declares for parameters.
public struct PlanSchemas: Sendable, Equatable {
    /// Schema for provision parameters.
    public var instanceCreate: JSONValue?
    /// Schema for update parameters.
    public var instanceUpdate: JSONValue?
    /// Schema for bind parameters.
    public var bindingCreate: JSONValue?

    /// Creates a schema set.
    public init(instanceCreate: JSONValue? = nil, instanceUpdate: JSONValue? = nil, bindingCreate: JSONValue? = nil) {
        self.instanceCreate = instanceCreate
        self.instanceUpdate = instanceUpdate
        self.bindingCreate = bindingCreate
    }

    /// Whether any schema is set.
    public var isEmpty: Bool { instanceCreate == nil && instanceUpdate == nil && bindingCreate == nil }
}

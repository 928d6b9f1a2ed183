/// Input of `Broker.provision`.
public struct ProvisionCommand: Sendable {
    /// Canonical id the platform chose (CF, Apcera); generated when nil.
    public var instanceID: String?
    /// Name the platform chose (tsuru, registry); generated as `<offering>-<8 hex>` when nil.
    public var name: String?
    /// Offering id or name.
    public var offering: String
    /// Plan id or name; the offering's first plan when nil.
    public var plan: String?
    /// Owning registry tenant.
    public var tenant: String
    /// Instance parameters.
    public var parameters: JSONValue
    /// Platform context, recorded.
    public var context: JSONValue
    /// Protocol facts that must match for a repeat to count as identical (e.g. CF org/space).
    public var identity: JSONValue
    /// Tags.
    public var tags: [String]
    /// String metadata.
    public var metadata: [String: String]
    /// The asking user, when the protocol names one.
    public var user: String?
    /// Pins a provider by id.
    public var providerID: String?
    /// Whether the caller can poll for completion.
    public var acceptsIncomplete: Bool
    /// Who asks.
    public var origin: RequestOrigin

    /// Creates a command.
    public init(
        instanceID: String? = nil, name: String? = nil, offering: String, plan: String? = nil, tenant: String,
        parameters: JSONValue = .emptyObject, context: JSONValue = .emptyObject, identity: JSONValue = .emptyObject,
        tags: [String] = [], metadata: [String: String] = [:], user: String? = nil, providerID: String? = nil,
        acceptsIncomplete: Bool, origin: RequestOrigin
    ) {
        self.instanceID = instanceID
        self.name = name
        self.offering = offering
        self.plan = plan
        self.tenant = tenant
        self.parameters = parameters
        self.context = context
        self.identity = identity
        self.tags = tags
        self.metadata = metadata
        self.user = user
        self.providerID = providerID
        self.acceptsIncomplete = acceptsIncomplete
        self.origin = origin
    }
}

/// Outcome of `Broker.provision`.
public enum ProvisionOutcome: Sendable, Equatable {
    /// Created and ready.
    case created(Instance)
    /// Accepted; the operation runs in the background.
    case accepted(Instance, BrokerOperation)
    /// An identical instance exists already; the open provision operation, if it is still running.
    case alreadyExists(Instance, BrokerOperation?)
}

/// Input of `Broker.update`.
public struct UpdateCommand: Sendable {
    /// The instance.
    public var instance: InstanceKey
    /// Target plan id or name; nil keeps the plan.
    public var plan: String?
    /// Parameters to merge (top-level keys); nil keeps them.
    public var parameters: JSONValue?
    /// New platform context; nil keeps it.
    public var context: JSONValue?
    /// New owning tenant; nil keeps it.
    public var tenant: String?
    /// New tags; nil keeps them.
    public var tags: [String]?
    /// New metadata; nil keeps it.
    public var metadata: [String: String]?
    /// New owning user; nil keeps it.
    public var user: String?
    /// Whether the caller can poll.
    public var acceptsIncomplete: Bool
    /// Who asks.
    public var origin: RequestOrigin

    /// Creates a command.
    public init(
        instance: InstanceKey, plan: String? = nil, parameters: JSONValue? = nil, context: JSONValue? = nil,
        tenant: String? = nil, tags: [String]? = nil, metadata: [String: String]? = nil, user: String? = nil,
        acceptsIncomplete: Bool, origin: RequestOrigin
    ) {
        self.metadata = metadata
        self.user = user
        self.instance = instance
        self.plan = plan
        self.parameters = parameters
        self.context = context
        self.tenant = tenant
        self.tags = tags
        self.acceptsIncomplete = acceptsIncomplete
        self.origin = origin
    }
}

/// Outcome of `Broker.update`.
public enum UpdateOutcome: Sendable, Equatable {
    /// Applied.
    case updated(Instance)
    /// Nothing to change for the provider (context-only changes are applied at once).
    case unchanged(Instance)
    /// Accepted; the operation runs in the background.
    case accepted(Instance, BrokerOperation)
}

/// Input of `Broker.deprovision`.
public struct DeprovisionCommand: Sendable {
    /// The instance.
    public var instance: InstanceKey
    /// Remove live bindings first (tsuru, registry, CF); when false, bindings make it fail (Apcera without `force`).
    public var removeBindings: Bool
    /// Whether the caller can poll.
    public var acceptsIncomplete: Bool
    /// Who asks.
    public var origin: RequestOrigin

    /// Creates a command.
    public init(instance: InstanceKey, removeBindings: Bool = true, acceptsIncomplete: Bool, origin: RequestOrigin) {
        self.instance = instance
        self.removeBindings = removeBindings
        self.acceptsIncomplete = acceptsIncomplete
        self.origin = origin
    }
}

/// Outcome of `Broker.deprovision`.
public enum DeprovisionOutcome: Sendable, Equatable {
    /// Gone.
    case deleted(Instance)
    /// Accepted; runs in the background (or once the running provision settles).
    case accepted(Instance, BrokerOperation)
}

/// Input of `Broker.bind`.
public struct BindCommand: Sendable {
    /// Canonical binding id the platform chose; generated when nil.
    public var bindingID: String?
    /// The instance.
    public var instance: InstanceKey
    /// The application the binding belongs to, when the protocol keys bindings by app (tsuru).
    public var appKey: String?
    /// Bind parameters.
    public var parameters: JSONValue
    /// Platform context, recorded.
    public var context: JSONValue
    /// Protocol facts that must match for a repeat to count as identical.
    public var identity: JSONValue
    /// Unit hosts to record.
    public var units: [String]
    /// Whether the caller can poll.
    public var acceptsIncomplete: Bool
    /// Who asks.
    public var origin: RequestOrigin

    /// Creates a command.
    public init(
        bindingID: String? = nil, instance: InstanceKey, appKey: String? = nil, parameters: JSONValue = .emptyObject,
        context: JSONValue = .emptyObject, identity: JSONValue = .emptyObject, units: [String] = [],
        acceptsIncomplete: Bool, origin: RequestOrigin
    ) {
        self.bindingID = bindingID
        self.instance = instance
        self.appKey = appKey
        self.parameters = parameters
        self.context = context
        self.identity = identity
        self.units = units
        self.acceptsIncomplete = acceptsIncomplete
        self.origin = origin
    }
}

/// Outcome of `Broker.bind`.
public enum BindOutcome: Sendable, Equatable {
    /// Bound; the binding carries its credentials.
    case created(Binding)
    /// Accepted; the operation runs in the background.
    case accepted(Binding, BrokerOperation)
    /// An identical binding (or the app's binding) exists; the open bind operation, if still running.
    case alreadyExists(Binding, BrokerOperation?)
}

/// How a command names a binding.
public enum BindingKey: Sendable, Hashable {
    /// By canonical id.
    case id(String)
    /// By the application it belongs to on an instance.
    case app(instance: InstanceKey, appKey: String)
}

/// Input of `Broker.unbind`.
public struct UnbindCommand: Sendable {
    /// The binding.
    public var binding: BindingKey
    /// The instance the binding must belong to, when the protocol names it.
    public var instance: InstanceKey?
    /// Whether the caller can poll.
    public var acceptsIncomplete: Bool
    /// Who asks.
    public var origin: RequestOrigin

    /// Creates a command.
    public init(binding: BindingKey, instance: InstanceKey? = nil, acceptsIncomplete: Bool, origin: RequestOrigin) {
        self.binding = binding
        self.instance = instance
        self.acceptsIncomplete = acceptsIncomplete
        self.origin = origin
    }
}

/// Outcome of `Broker.unbind`.
public enum UnbindOutcome: Sendable, Equatable {
    /// Revoked.
    case deleted(Binding)
    /// Accepted; runs in the background (or once the running bind settles).
    case accepted(Binding, BrokerOperation)
}

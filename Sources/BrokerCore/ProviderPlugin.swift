import Foundation
import Logging

/// A plugin that does the real work on one kind of backend.
///
/// Every call is keyed by canonical ids and is idempotent: provisioning twice for one
/// instance id creates one resource; deprovisioning or unbinding something already gone
/// succeeds.
public protocol ProviderPlugin: Sendable {
    /// Creates the backend resource of an instance.
    func provision(_ request: ProvisionRequest) async throws -> ProvisionResult
    /// Applies a plan or parameter change.
    func update(_ request: UpdateRequest) async throws
    /// Removes the backend resource; success when it is already gone.
    func deprovision(_ request: DeprovisionRequest) async throws
    /// Creates credentials for one binding.
    func bind(_ request: BindRequest) async throws -> Credentials
    /// Revokes exactly this binding's credentials; success when already gone.
    func unbind(_ request: UnbindRequest) async throws
    /// Whether the backend is reachable.
    func health() async -> ProviderHealth
}

/// What a plugin is told about the plan.
public struct PlanReference: Sendable, Equatable {
    /// Plan id.
    public var id: String
    /// Plan name.
    public var name: String
    /// Provider options of the plan.
    public var options: [String: JSONValue]

    /// Creates a plan reference.
    public init(id: String, name: String, options: [String: JSONValue] = [:]) {
        self.id = id
        self.name = name
        self.options = options
    }

    init(_ plan: Plan) {
        self.init(id: plan.id, name: plan.name, options: plan.options)
    }
}

/// Input of `ProviderPlugin.provision`.
public struct ProvisionRequest: Sendable {
    /// Canonical instance id.
    public var instanceID: String
    /// Instance name.
    public var name: String
    /// Offering name.
    public var offering: String
    /// Plan.
    public var plan: PlanReference
    /// Instance parameters.
    public var parameters: JSONValue

    /// Creates a request.
    public init(instanceID: String, name: String, offering: String, plan: PlanReference, parameters: JSONValue) {
        self.instanceID = instanceID
        self.name = name
        self.offering = offering
        self.plan = plan
        self.parameters = parameters
    }
}

/// Output of `ProviderPlugin.provision`.
public struct ProvisionResult: Sendable, Equatable {
    /// Optional dashboard URL.
    public var dashboardURL: String?
    /// Facts to hand back on later calls for this instance.
    public var state: [String: String]

    /// Creates a result.
    public init(dashboardURL: String? = nil, state: [String: String] = [:]) {
        self.dashboardURL = dashboardURL
        self.state = state
    }
}

/// Input of `ProviderPlugin.update`.
public struct UpdateRequest: Sendable {
    /// Canonical instance id.
    public var instanceID: String
    /// The plan before.
    public var previousPlan: PlanReference
    /// The plan after.
    public var plan: PlanReference
    /// Parameters after the update.
    public var parameters: JSONValue
    /// What `provision` returned.
    public var state: [String: String]

    /// Creates a request.
    public init(instanceID: String, previousPlan: PlanReference, plan: PlanReference, parameters: JSONValue, state: [String: String]) {
        self.instanceID = instanceID
        self.previousPlan = previousPlan
        self.plan = plan
        self.parameters = parameters
        self.state = state
    }
}

/// Input of `ProviderPlugin.deprovision`.
public struct DeprovisionRequest: Sendable {
    /// Canonical instance id.
    public var instanceID: String
    /// Plan.
    public var plan: PlanReference
    /// What `provision` returned (empty if it never returned).
    public var state: [String: String]

    /// Creates a request.
    public init(instanceID: String, plan: PlanReference, state: [String: String]) {
        self.instanceID = instanceID
        self.plan = plan
        self.state = state
    }
}

/// Input of `ProviderPlugin.bind`.
public struct BindRequest: Sendable {
    /// Canonical instance id.
    public var instanceID: String
    /// Canonical binding id.
    public var bindingID: String
    /// Plan.
    public var plan: PlanReference
    /// Bind parameters.
    public var parameters: JSONValue
    /// What `provision` returned.
    public var state: [String: String]

    /// Creates a request.
    public init(instanceID: String, bindingID: String, plan: PlanReference, parameters: JSONValue, state: [String: String]) {
        self.instanceID = instanceID
        self.bindingID = bindingID
        self.plan = plan
        self.parameters = parameters
        self.state = state
    }
}

/// Input of `ProviderPlugin.unbind`.
public struct UnbindRequest: Sendable {
    /// Canonical instance id.
    public var instanceID: String
    /// Canonical binding id.
    public var bindingID: String
    /// The credentials the binding got, when known.
    public var credentials: Credentials?
    /// What `provision` returned.
    public var state: [String: String]

    /// Creates a request.
    public init(instanceID: String, bindingID: String, credentials: Credentials?, state: [String: String]) {
        self.instanceID = instanceID
        self.bindingID = bindingID
        self.credentials = credentials
        self.state = state
    }
}

/// A plugin's report on its backend.
public enum ProviderHealth: Sendable, Equatable {
    /// Reachable.
    case healthy
    /// Not reachable, with a client-safe reason.
    case unhealthy(String)
}

/// Errors plugins throw. Messages are client-safe; anything else a plugin throws is
/// reported as a generic provider failure.
public enum ProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The backend could not be reached.
    case unreachable(String)
    /// The backend refused or failed the work.
    case failed(String)
    /// The parameters are not acceptable to this plugin.
    case invalidParameters(String)

    public var description: String {
        switch self {
        case .unreachable(let message), .failed(let message), .invalidParameters(let message): message
        }
    }
}

/// What a plugin factory gets besides the provider's params.
public struct PluginEnvironment: Sendable {
    /// The provider's id.
    public var providerID: String
    /// The data directory; plugins keep files in a folder of their own below it.
    public var dataDirectory: URL
    /// A logger for the plugin.
    public var logger: Logger

    /// Creates an environment.
    public init(providerID: String, dataDirectory: URL, logger: Logger) {
        self.providerID = providerID
        self.dataDirectory = dataDirectory
        self.logger = logger
    }
}

/// Builds plugins of one kind.
public struct PluginFactory: Sendable {
    /// The kind, e.g. `sqlite`.
    public var kind: String
    /// Which top-level params hold secrets (masked when shown).
    public var secretParams: Set<String>
    /// Checks params; returns one client-safe problem per bad key.
    public var validate: @Sendable (JSONValue) -> [String]
    /// Builds a plugin for one provider.
    public var make: @Sendable (JSONValue, PluginEnvironment) throws -> any ProviderPlugin

    /// Creates a factory.
    public init(
        kind: String, secretParams: Set<String> = [], validate: @escaping @Sendable (JSONValue) -> [String],
        make: @escaping @Sendable (JSONValue, PluginEnvironment) throws -> any ProviderPlugin
    ) {
        self.kind = kind
        self.secretParams = secretParams
        self.validate = validate
        self.make = make
    }
}

/// The installed plugin kinds.
public struct PluginKinds: Sendable {
    private var factories: [String: PluginFactory] = [:]

    /// Creates a registry of factories.
    public init(_ factories: [PluginFactory] = []) {
        for factory in factories { register(factory) }
    }

    /// Adds or replaces a factory.
    public mutating func register(_ factory: PluginFactory) {
        factories[factory.kind] = factory
    }

    /// The factory of a kind.
    public func factory(for kind: String) -> PluginFactory? {
        factories[kind]
    }

    /// Installed kinds, sorted.
    public var kinds: [String] { factories.keys.sorted() }
}

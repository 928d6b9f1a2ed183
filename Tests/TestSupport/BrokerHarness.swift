import BrokerCore
import Crypto
import Foundation
import Gateway
import LedgerSQLite
import Logging

/// A broker over a real SQLite ledger file in a temp folder and a `FakeBackend`.
public final class BrokerHarness: @unchecked Sendable {
    /// The data folder.
    public let directory: TemporaryDirectory
    /// The fake backend every `fake` provider talks to.
    public let backend: FakeBackend
    /// The ledger.
    public let ledger: SQLiteLedger
    /// The broker.
    public let broker: Broker
    /// The sealing key.
    public let key: SymmetricKey
    let configuration: BrokerConfiguration

    /// The test catalog: offering `fake` (updatable; plans `small`, `large`, `async`, `strict`
    /// with a schema, `nobind`) and offering `fixed` (plans `a`, `b`, not updatable).
    public static let catalog = Catalog(offerings: [
        Offering(
            id: "fake-id", name: "fake", description: "fake offering", planUpdateable: true,
            providerSelector: ProviderSelector(kind: "fake"),
            plans: [
                Plan(id: "small-id", name: "small", description: "small"),
                Plan(id: "large-id", name: "large", description: "large"),
                Plan(id: "async-id", name: "async", description: "async", isAsynchronous: true, minimumDuration: .seconds(2)),
                Plan(
                    id: "strict-id", name: "strict", description: "schema",
                    schemas: PlanSchemas(
                        instanceCreate: [
                            "$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
                            "properties": ["size": ["type": "integer", "minimum": 1, "maximum": 10], "tier": ["enum": ["gold", "silver"]]],
                            "required": ["size"], "additionalProperties": false,
                        ])),
                Plan(id: "nobind-id", name: "nobind", description: "not bindable", bindable: false),
            ]),
        Offering(
            id: "fixed-id", name: "fixed", description: "fixed plans", providerSelector: ProviderSelector(kind: "fake"),
            plans: [Plan(id: "a-id", name: "a", description: "a"), Plan(id: "b-id", name: "b", description: "b")]),
    ])

    /// Creates a harness with one online provider, `fake-1`.
    public convenience init(configuration: BrokerConfiguration = BrokerConfiguration(asyncBudget: .seconds(3), syncTimeout: .seconds(10))) async throws {
        try await self.init(
            directory: TemporaryDirectory("broker"), backend: FakeBackend(), key: SymmetricKey(size: .bits256),
            configuration: configuration, registerProvider: true)
    }

    init(directory: TemporaryDirectory, backend: FakeBackend, key: SymmetricKey, configuration: BrokerConfiguration, registerProvider: Bool) async throws {
        self.directory = directory
        self.backend = backend
        self.key = key
        self.configuration = configuration
        ledger = try SQLiteLedger(path: directory.path("ledger.sqlite"), sealer: AESGCMSealer(key: key))
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        broker = Broker(
            catalog: Self.catalog, ledger: ledger, plugins: PluginKinds([FakeProvider.factory]), dataDirectory: directory.url,
            configuration: configuration, logger: logger)
        if registerProvider {
            try await broker.registerConfiguredProviders([Self.provider(id: "fake-1", backend: backend)])
        }
    }

    /// A configured provider of the fake kind.
    public static func provider(id: String, backend: FakeBackend, status: ProviderStatus = .online, tags: [String] = []) -> Provider {
        let epoch = Date(timeIntervalSince1970: 0)
        return Provider(
            id: id, name: id, kind: "fake", params: ["backend": .string(FakeBackend.register(backend))], tags: tags,
            source: .config, status: status, createdAt: epoch, updatedAt: epoch)
    }

    /// A second harness on the same files, as after a process restart (this one's background work is abandoned).
    public func restarted() async throws -> BrokerHarness {
        try await BrokerHarness(directory: directory, backend: backend, key: key, configuration: configuration, registerProvider: false)
    }

    /// An origin for commands.
    public static func origin(_ protocolName: String = "cf") -> RequestOrigin {
        RequestOrigin(protocolName: protocolName, requestID: "req-\(UUID().uuidString.prefix(6))")
    }

    /// Provisions on the fake offering.
    public func provision(
        id: String? = nil, name: String? = nil, plan: String = "small", parameters: JSONValue = .emptyObject,
        acceptsIncomplete: Bool = true, offering: String = "fake", protocolName: String = "cf", tenant: String = "acme"
    ) async throws(BrokerError) -> ProvisionOutcome {
        try await broker.provision(
            ProvisionCommand(
                instanceID: id, name: name, offering: offering, plan: plan, tenant: tenant, parameters: parameters,
                acceptsIncomplete: acceptsIncomplete, origin: Self.origin(protocolName)))
    }

    /// Binds an instance by id.
    public func bind(
        _ instanceID: String, binding: String? = nil, app: String? = nil, acceptsIncomplete: Bool = true, protocolName: String = "cf"
    ) async throws(BrokerError) -> BindOutcome {
        try await broker.bind(
            BindCommand(
                bindingID: binding, instance: .id(instanceID), appKey: app, acceptsIncomplete: acceptsIncomplete,
                origin: Self.origin(protocolName)))
    }

    /// Waits for an operation to finish (at most 10 s).
    @discardableResult
    public func finish(_ operation: BrokerOperation) async throws -> BrokerOperation? {
        try await broker.awaitOperation(operation.id, timeout: .seconds(10))
    }

    /// The instance's current state.
    public func state(_ id: String) async throws -> InstanceState? {
        try await broker.instance(.id(id))?.instance.state
    }
}

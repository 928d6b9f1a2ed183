import Foundation
import Logging

/// Tunables of the broker's use cases.
public struct BrokerConfiguration: Sendable {
    /// How long a caller that can poll waits for provider work on a synchronous plan before it
    /// gets an operation to poll instead.
    public var asyncBudget: Duration
    /// How long a caller that cannot poll waits for provider work before it gets an
    /// operation anyway (below the platforms' 60 s timeouts).
    public var syncTimeout: Duration
    /// How often every provider's backend is checked (offline when it does not answer, online again when it does).
    public var healthCheckInterval: Duration

    /// Creates a configuration.
    public init(asyncBudget: Duration = .seconds(10), syncTimeout: Duration = .seconds(50), healthCheckInterval: Duration = .seconds(15)) {
        self.asyncBudget = asyncBudget
        self.syncTimeout = syncTimeout
        self.healthCheckInterval = healthCheckInterval
    }
}

/// The façade of the canonical use cases. Every front-end turns its requests into these
/// calls, so every rule (idempotency, one operation at a time, state machines, the
/// reliability model) holds alike for all of them.
///
/// Reliability: each change records its intent in the ledger before a provider is called
/// and its outcome after; provider work runs detached from the request, so a client that
/// hangs up does not leave half-done work, and `resumeOpenOperations()` finishes what a
/// crash interrupted.
public final class Broker: Sendable {
    /// The catalog.
    public let catalog: Catalog
    /// Tunables.
    public let configuration: BrokerConfiguration
    let ledger: any Ledger
    let pool: ProviderPool
    let work = WorkTracker()
    let logger: Logger

    /// Creates a broker.
    public init(
        catalog: Catalog, ledger: any Ledger, plugins: PluginKinds, dataDirectory: URL,
        configuration: BrokerConfiguration = BrokerConfiguration(), logger: Logger
    ) {
        self.catalog = catalog
        self.ledger = ledger
        self.configuration = configuration
        self.logger = logger
        self.pool = ProviderPool(kinds: plugins, dataDirectory: dataDirectory, logger: logger)
    }

    /// The installed plugin kinds.
    public var pluginKinds: PluginKinds { pool.kinds }

    /// Waits until the operation finishes or the timeout passes; returns its latest state (nil when unknown).
    ///
    /// Front-ends that cannot poll (tsuru binds, Apcera) use this after an `.accepted` outcome.
    public func awaitOperation(_ id: String, timeout: Duration) async throws(BrokerError) -> BrokerOperation? {
        let deadline = ContinuousClock.now + timeout
        while true {
            guard let operation = try await withLedger({ try await self.ledger.operation(id: id) }) else { return nil }
            let remaining = deadline - ContinuousClock.now
            if operation.state != .inProgress || remaining <= .zero { return operation }
            await work.wait(for: id, upTo: min(remaining, .milliseconds(250)))
        }
    }

    /// Waits for background work to finish (graceful shutdown, tests). Returns whether it all did.
    @discardableResult
    public func drain(timeout: Duration) async -> Bool {
        await work.drain(upTo: timeout)
    }

    // MARK: - Helpers shared by the use cases

    /// Runs ledger work, converting its errors to `BrokerError` in one place.
    func withLedger<T: Sendable>(_ body: () async throws -> T) async throws(BrokerError) -> T {
        do {
            return try await body()
        } catch {
            throw brokerError(fromLedger: error)
        }
    }

    /// The one conversion of ledger errors (and errors thrown through it) to `BrokerError`.
    func brokerError(fromLedger error: any Error) -> BrokerError {
        switch error {
        case let error as BrokerError:
            return error
        case LedgerError.uniqueViolation(let field):
            return .conflict("\(field.replacingOccurrences(of: ".", with: " ")) is already in use")
        case LedgerError.closed:
            return .ledgerUnavailable("the ledger is closed")
        default:
            logger.error("broker.ledger.failed", metadata: ["error-type": "\(type(of: error))"])
            return .ledgerUnavailable("the ledger could not be read or written")
        }
    }

    /// How long a caller waits for the work it started.
    func waitBudget(asynchronous: Bool, acceptsIncomplete: Bool) -> Duration {
        if acceptsIncomplete {
            return asynchronous ? .zero : configuration.asyncBudget
        }
        return configuration.syncTimeout
    }

    /// Starts background work for an operation and waits up to the budget for it to finish.
    func launch(_ operationID: String, budget: Duration, _ body: @escaping @Sendable () async -> Void) async throws(BrokerError) -> BrokerOperation {
        await work.run(body)
        return try await settle(operationID, budget: budget)
    }

    /// Waits up to the budget for an operation; returns its state then.
    func settle(_ operationID: String, budget: Duration) async throws(BrokerError) -> BrokerOperation {
        guard let operation = try await awaitOperation(operationID, timeout: budget) else {
            throw .ledgerUnavailable("operation \(operationID) vanished from the ledger")
        }
        return operation
    }

    /// The plan of an instance, when the catalog still has it.
    func plan(of instance: Instance) -> (Offering, Plan)? {
        guard let offering = catalog.offering(id: instance.offeringID),
            let plan = offering.plans.first(where: { $0.id == instance.planID })
        else { return nil }
        return (offering, plan)
    }

    /// Sleeps until an operation has lasted at least the plan's minimum duration.
    func honourMinimumDuration(_ plan: Plan?, since start: Date) async {
        guard let minimum = plan?.minimumDuration, minimum > .zero else { return }
        let elapsed = Date().timeIntervalSince(start)
        let total = Double(minimum.components.seconds) + Double(minimum.components.attoseconds) / 1e18
        if total > elapsed {
            try? await Task.sleep(for: .milliseconds(Int((total - elapsed) * 1000)))
        }
    }

    /// A client-safe message for a provider failure; the details stay out of logs and answers.
    func failureMessage(_ error: any Error, doing action: String, instanceID: String) -> String {
        if let error = error as? ProviderError {
            logger.warning("broker.\(action).provider-failed", metadata: ["instance-id": "\(instanceID)", "reason": "\(error.description)"])
            return error.description
        }
        if let error = error as? BrokerError {
            return error.description
        }
        logger.warning("broker.\(action).provider-failed", metadata: ["instance-id": "\(instanceID)", "error-type": "\(type(of: error))"])
        return "the provider failed to \(action) (\(type(of: error)))"
    }

    /// The current time at millisecond precision, as the ledger keeps it.
    static func now() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    /// A new lower-case UUID.
    static func newID() -> String {
        UUID().uuidString.lowercased()
    }

    /// A generated instance name: `<offering>-<8 hex>`.
    static func generatedName(for offering: Offering) -> String {
        "\(offering.name)-\(UUID().uuidString.lowercased().prefix(8))"
    }

    /// The event payload that describes an instance (no parameters, no secrets).
    static func summary(_ instance: Instance, offering: Offering?, plan: Plan?) -> JSONValue {
        [
            "id": .string(instance.id), "name": .string(instance.name),
            "offering": .string(offering?.name ?? instance.offeringID), "plan": .string(plan?.name ?? instance.planID),
            "provider": .string(instance.providerID), "state": .string(instance.state.rawValue),
            "protocol": .string(instance.createdBy),
        ]
    }

    /// An instance event.
    func instanceEvent(_ type: String, _ instance: Instance, origin: RequestOrigin, at time: Date) -> NewEvent {
        let resolved = plan(of: instance)
        return NewEvent(
            type: type, tenant: instance.tenant, protocolName: origin.protocolName, subject: instance.id,
            payload: ["instance": Self.summary(instance, offering: resolved?.0, plan: resolved?.1)], timestamp: time)
    }

    /// A binding event.
    func bindingEvent(_ type: String, _ binding: Binding, of instance: Instance, origin: RequestOrigin, at time: Date) -> NewEvent {
        var bindingPayload: [String: JSONValue] = ["id": .string(binding.id), "protocol": .string(binding.createdBy)]
        if let app = binding.appKey { bindingPayload["app"] = .string(app) }
        return NewEvent(
            type: type, tenant: instance.tenant, protocolName: origin.protocolName, subject: binding.id,
            payload: ["instance": .string(instance.name), "instance_id": .string(instance.id), "binding": .object(bindingPayload)],
            timestamp: time)
    }
}

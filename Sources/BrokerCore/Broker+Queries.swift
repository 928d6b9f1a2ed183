import Foundation
import Logging

extension Broker {
    /// One instance with its live bindings and open operations; deleted instances included.
    ///
    /// - OSB: `GET /v2/service_instances/:id` · tsuru: `GET /resources/:name` and `/status` ·
    ///   Apcera: state rebuilds · registry: `GET /services/:name`.
    public func instance(_ key: InstanceKey) async throws(BrokerError) -> InstanceAggregate? {
        try await withLedger { try await self.ledger.aggregate(key) }
    }

    /// One binding by id; deleted bindings included.
    ///
    /// - OSB: `GET …/service_bindings/:bid` · registry: `GET /services/:name/bindings/:id`.
    public func binding(id: String) async throws(BrokerError) -> Binding? {
        try await withLedger { try await self.ledger.binding(id: id) }
    }

    /// The operation a platform polls: the one it names when it belongs to the instance,
    /// else the latest instance operation.
    ///
    /// - OSB: `GET /v2/service_instances/:id/last_operation` · tsuru: `GET /resources/:name/status`.
    public func lastOperation(instance key: InstanceKey, operationID: String? = nil) async throws(BrokerError) -> (Instance, BrokerOperation?)? {
        guard let first = try await instance(key)?.instance else { return nil }
        var operation: BrokerOperation?
        if let operationID, let named = try await withLedger({ try await self.ledger.operation(id: operationID) }),
            named.instanceID == first.id, named.bindingID == nil
        {
            operation = named
        } else {
            operation = try await withLedger { try await self.ledger.latestOperation(instanceID: first.id, bindingID: nil) }
        }
        // The instance is read again after the operation, so a finished operation is never
        // paired with the state from before it finished.
        let instance = try await self.instance(.id(first.id))?.instance ?? first
        return (instance, operation)
    }

    /// The operation a platform polls for a binding.
    ///
    /// - OSB: `GET …/service_bindings/:bid/last_operation`.
    public func lastBindingOperation(bindingID: String, operationID: String? = nil) async throws(BrokerError) -> (Binding, BrokerOperation?)? {
        guard let first = try await binding(id: bindingID) else { return nil }
        var operation: BrokerOperation?
        if let operationID, let named = try await withLedger({ try await self.ledger.operation(id: operationID) }),
            named.bindingID == bindingID
        {
            operation = named
        } else {
            operation = try await withLedger { try await self.ledger.latestOperation(instanceID: first.instanceID, bindingID: bindingID) }
        }
        return (try await binding(id: bindingID) ?? first, operation)
    }

    /// A page of instances.
    public func instances(_ filter: InstanceFilter = InstanceFilter(), page: PageRequest = PageRequest()) async throws(BrokerError) -> Page<Instance> {
        try await withLedger { try await self.ledger.instances(filter, page: page) }
    }

    /// A page of bindings.
    public func bindings(_ filter: BindingFilter = BindingFilter(), page: PageRequest = PageRequest()) async throws(BrokerError) -> Page<Binding> {
        try await withLedger { try await self.ledger.bindings(filter, page: page) }
    }

    /// A page of the event feed.
    public func events(_ filter: EventFilter = EventFilter(), page: PageRequest = PageRequest()) async throws(BrokerError) -> Page<Event> {
        try await withLedger { try await self.ledger.events(filter, page: page) }
    }

    /// Whether the ledger answers.
    public func ledgerIsReachable() async -> Bool {
        (try? await ledger.ping()) != nil
    }

    /// Resumes every operation a crash or stop left in progress: provider calls are
    /// idempotent, so each is called again and its outcome recorded.
    /// Returns the number of operations resumed.
    @discardableResult
    public func resumeOpenOperations() async throws(BrokerError) -> Int {
        let open = try await withLedger { try await self.ledger.openOperations() }
        var resumed = 0
        for operation in open {
            guard let aggregate = try await instance(.id(operation.instanceID)) else { continue }
            let state = aggregate.instance.state
            let bindingState = operation.bindingID.flatMap { aggregate.binding($0)?.state }
            let run: (@Sendable () async -> Void)?
            switch operation.kind {
            case .provision where state == .provisioning:
                run = { await self.runProvision(instanceID: operation.instanceID, operationID: operation.id) }
            case .deprovision where state == .deprovisioning:
                run = { await self.runDeprovision(instanceID: operation.instanceID, operationID: operation.id) }
            case .update where state == .updating:
                run = { await self.runUpdate(instanceID: operation.instanceID, operationID: operation.id) }
            case .bind where bindingState == .binding:
                run = { await self.runBind(instanceID: operation.instanceID, bindingID: operation.bindingID!, operationID: operation.id) }
            case .unbind where bindingState == .unbinding:
                run = { await self.runUnbind(instanceID: operation.instanceID, bindingID: operation.bindingID!, operationID: operation.id) }
            default:
                // Pending behind another operation (a deprovision waiting for its provision),
                // which carries it out when it settles.
                run = nil
            }
            if let run {
                logger.info("broker.recovery.resume", metadata: ["instance-id": "\(operation.instanceID)", "operation": "\(operation.kind.rawValue)"])
                await work.run(run)
                resumed += 1
            }
        }
        return resumed
    }
}

import Foundation
import Logging

extension Broker {
    /// Deprovisions an instance, removing its bindings first when the command says so.
    ///
    /// - OSB: `DELETE /v2/service_instances/:id` · tsuru: `DELETE /resources/:name` ·
    ///   Apcera: `DELETE /services/:id` · registry: `DELETE /services/:name`.
    /// - A deprovision during a running provision is accepted and carried out once the
    ///   provision settles (orphan mitigation); a repeat while it runs returns the same operation.
    public func deprovision(_ command: DeprovisionCommand) async throws(BrokerError) -> DeprovisionOutcome {
        let now = Self.now()
        let (instance, operation, isNew): (Instance, BrokerOperation, Bool)
        do {
            (instance, operation, isNew) = try await ledger.mutate(command.instance) { aggregate in
                guard let aggregate, aggregate.instance.state != .deleted else {
                    throw BrokerError.instanceNotFound(command.instance.description)
                }
                var instance = aggregate.instance
                let plan = self.plan(of: instance)?.1
                if plan?.isAsynchronous == true && !command.acceptsIncomplete { throw BrokerError.asyncRequired }
                if let running = aggregate.openOperation(.deprovision) {
                    return (.none, (instance, running, false))
                }
                let operation = BrokerOperation(
                    id: Self.newID(), kind: .deprovision, instanceID: instance.id, origin: command.origin, startedAt: now)
                switch instance.state {
                case .provisioning:
                    // Orphan mitigation: recorded now, carried out when the provision settles.
                    return (LedgerWrite(operations: [operation]), (instance, operation, false))
                case .updating, .deprovisioning:
                    throw BrokerError.concurrentOperation("service instance '\(instance.name)' is being \(instance.state == .updating ? "updated" : "deprovisioned")")
                case .deleted:
                    throw BrokerError.instanceNotFound(command.instance.description)
                case .ready, .failed:
                    if let busy = aggregate.bindings.first(where: { $0.state.isBusy }) {
                        throw BrokerError.concurrentOperation("binding '\(busy.id)' of service instance '\(instance.name)' is being \(busy.state == .binding ? "created" : "removed")")
                    }
                    if !command.removeBindings && !aggregate.bindings.isEmpty {
                        throw BrokerError.hasBindings(instance: instance.name, count: aggregate.bindings.count)
                    }
                    instance.state = .deprovisioning
                    instance.updatedAt = now
                    let bindings = aggregate.bindings.map { binding in
                        var binding = binding
                        binding.state = .unbinding
                        binding.updatedAt = now
                        return binding
                    }
                    return (LedgerWrite(instance: instance, bindings: bindings, operations: [operation]), (instance, operation, true))
                }
            }
        } catch {
            throw brokerError(fromLedger: error)
        }
        let budget = waitBudget(asynchronous: plan(of: instance)?.1.isAsynchronous == true, acceptsIncomplete: command.acceptsIncomplete)
        let settled: BrokerOperation
        if isNew {
            logger.info("broker.deprovision.started", metadata: ["instance-id": "\(instance.id)", "request-id": "\(command.origin.requestID ?? "-")"])
            settled = try await launch(operation.id, budget: budget) {
                await self.runDeprovision(instanceID: instance.id, operationID: operation.id)
            }
        } else {
            settled = try await settle(operation.id, budget: budget)
        }
        switch settled.state {
        case .inProgress:
            return .accepted(instance, settled)
        case .succeeded:
            return .deleted(try await reload(.id(instance.id)))
        case .failed:
            throw .providerFailed(settled.description ?? "deprovisioning failed")
        }
    }

    /// Revokes the bindings being removed, removes the backend resource, and records each step.
    func runDeprovision(instanceID: String, operationID: String) async {
        guard let aggregate = try? await ledger.aggregate(.id(instanceID)),
            aggregate.instance.state == .deprovisioning,
            let operation = aggregate.openOperations.first(where: { $0.id == operationID })
        else { return }
        let instance = aggregate.instance
        let plan = self.plan(of: instance)?.1
        var failure: String?
        do {
            let plugin = try await self.plugin(for: instance)
            for binding in aggregate.bindings where binding.state == .unbinding {
                try await plugin.unbind(
                    UnbindRequest(instanceID: instance.id, bindingID: binding.id, credentials: binding.credentials, state: instance.providerState))
                try await recordBindingRemoved(binding.id, instanceID: instance.id, origin: operation.origin)
            }
            try await plugin.deprovision(
                DeprovisionRequest(
                    instanceID: instance.id, plan: PlanReference(id: instance.planID, name: plan?.name ?? instance.planID, options: plan?.options ?? [:]),
                    state: instance.providerState))
        } catch {
            failure = failureMessage(error, doing: "deprovision", instanceID: instanceID)
        }
        await honourMinimumDuration(plan, since: operation.startedAt)
        let settledFailure = failure
        do {
            try await ledger.mutate(.id(instanceID)) { aggregate in
                guard var instance = aggregate?.instance, instance.state == .deprovisioning,
                    var operation = aggregate?.openOperations.first(where: { $0.id == operationID })
                else { return (.none, ()) }
                let now = Self.now()
                instance.updatedAt = now
                var bindings: [Binding] = []
                var others: [BrokerOperation] = []
                if let settledFailure {
                    instance.state = .failed
                    instance.failure = "deprovisioning failed: \(settledFailure)"
                    operation.finish(.failed, description: settledFailure, at: now)
                    for var binding in aggregate?.bindings ?? [] where binding.state == .unbinding {
                        binding.state = .bound
                        binding.updatedAt = now
                        bindings.append(binding)
                    }
                    let event = self.instanceEvent(EventType.instanceFail, instance, origin: operation.origin, at: now)
                    return (LedgerWrite(instance: instance, bindings: bindings, operations: [operation], events: [event]), ())
                }
                instance.state = .deleted
                operation.finish(.succeeded, at: now)
                // Whatever else was pending on this instance ends with it.
                for var other in aggregate?.openOperations ?? [] where other.id != operationID {
                    other.finish(.succeeded, description: "the service instance was deprovisioned", at: now)
                    others.append(other)
                }
                let event = self.instanceEvent(EventType.instanceDelete, instance, origin: operation.origin, at: now)
                return (LedgerWrite(instance: instance, operations: [operation] + others, events: [event]), ())
            }
        } catch {
            logger.error("broker.deprovision.record-failed", metadata: ["instance-id": "\(instanceID)", "error-type": "\(type(of: error))"])
            return
        }
        await work.signal(operationID)
    }

    /// Records that a binding's credentials were revoked: deleted, its open unbind finished, an event.
    func recordBindingRemoved(_ bindingID: String, instanceID: String, origin: RequestOrigin) async throws {
        try await ledger.mutate(.id(instanceID)) { aggregate in
            guard let aggregate, var binding = aggregate.binding(bindingID) else { return (.none, ()) }
            let now = Self.now()
            binding.state = .deleted
            binding.updatedAt = now
            var operations: [BrokerOperation] = []
            for var operation in aggregate.openOperations where operation.bindingID == bindingID {
                operation.finish(.succeeded, at: now)
                operations.append(operation)
            }
            let event = self.bindingEvent(EventType.bindingDelete, binding, of: aggregate.instance, origin: origin, at: now)
            return (LedgerWrite(bindings: [binding], operations: operations, events: [event]), ())
        }
    }
}

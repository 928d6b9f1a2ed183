import Foundation
import Logging

extension Broker {
    /// Unbinds: the provider revokes exactly this binding's credentials.
    ///
    /// - OSB: `DELETE …/service_bindings/:bid` · tsuru: `DELETE /resources/:name/bind-app` ·
    ///   Apcera: `DELETE /bindings/:id` · registry: `DELETE /services/:name/bindings/:id`.
    /// - An unbind during a running bind is accepted and carried out once the bind settles.
    public func unbind(_ command: UnbindCommand) async throws(BrokerError) -> UnbindOutcome {
        let instanceKey: InstanceKey
        let missing: String
        switch command.binding {
        case .id(let id):
            missing = id
            guard let binding = try await withLedger({ try await self.ledger.binding(id: id) }), binding.state != .deleted else {
                throw .bindingNotFound(id)
            }
            instanceKey = .id(binding.instanceID)
            if let expected = command.instance {
                let owner = try await withLedger { try await self.ledger.aggregate(expected) }
                guard owner?.instance.id == binding.instanceID else { throw .bindingNotFound(id) }
            }
        case .app(let instance, let app):
            missing = app
            instanceKey = instance
        }
        let now = Self.now()
        let (instance, binding, operation, isNew): (Instance, Binding, BrokerOperation, Bool)
        do {
            (instance, binding, operation, isNew) = try await ledger.mutate(instanceKey) { aggregate in
                guard let aggregate, aggregate.instance.state != .deleted else {
                    if case .app = command.binding { throw BrokerError.instanceNotFound(instanceKey.description) }
                    throw BrokerError.bindingNotFound(missing)
                }
                let found: Binding?
                switch command.binding {
                case .id(let id): found = aggregate.binding(id)
                case .app(_, let app): found = aggregate.bindings.first { $0.appKey == app }
                }
                guard var binding = found else { throw BrokerError.bindingNotFound(missing) }
                let instance = aggregate.instance
                if self.plan(of: instance)?.1.isAsynchronous == true && !command.acceptsIncomplete {
                    throw BrokerError.asyncRequired
                }
                if let running = aggregate.openOperation(.unbind, binding: binding.id) {
                    return (.none, (instance, binding, running, false))
                }
                if binding.state == .unbinding, let running = aggregate.openOperation(.deprovision) {
                    return (.none, (instance, binding, running, false))
                }
                let operation = BrokerOperation(
                    id: Self.newID(), kind: .unbind, instanceID: instance.id, bindingID: binding.id, origin: command.origin,
                    startedAt: now)
                switch binding.state {
                case .binding:
                    return (LedgerWrite(operations: [operation]), (instance, binding, operation, false))
                case .bound, .failed, .unbinding:
                    binding.state = .unbinding
                    binding.updatedAt = now
                    return (LedgerWrite(bindings: [binding], operations: [operation]), (instance, binding, operation, true))
                case .deleted:
                    throw BrokerError.bindingNotFound(missing)
                }
            }
        } catch {
            throw brokerError(fromLedger: error)
        }
        let budget = waitBudget(asynchronous: plan(of: instance)?.1.isAsynchronous == true, acceptsIncomplete: command.acceptsIncomplete)
        let settled: BrokerOperation
        if isNew {
            settled = try await launch(operation.id, budget: budget) {
                await self.runUnbind(instanceID: instance.id, bindingID: binding.id, operationID: operation.id)
            }
        } else {
            settled = try await settle(operation.id, budget: budget)
        }
        switch settled.state {
        case .inProgress: return .accepted(binding, settled)
        case .succeeded: return .deleted(try await reloadBinding(binding.id))
        case .failed: throw .providerFailed(settled.description ?? "unbinding failed")
        }
    }

    /// Calls the provider for a recorded unbind and records the outcome.
    func runUnbind(instanceID: String, bindingID: String, operationID: String) async {
        guard let aggregate = try? await ledger.aggregate(.id(instanceID)),
            let binding = aggregate.binding(bindingID), binding.state == .unbinding,
            let operation = aggregate.openOperations.first(where: { $0.id == operationID })
        else { return }
        let instance = aggregate.instance
        do {
            let plugin = try await self.plugin(for: instance)
            try await plugin.unbind(
                UnbindRequest(instanceID: instance.id, bindingID: bindingID, credentials: binding.credentials, state: instance.providerState))
            await honourMinimumDuration(plan(of: instance)?.1, since: operation.startedAt)
            try await recordBindingRemoved(bindingID, instanceID: instanceID, origin: operation.origin)
        } catch {
            let failure = failureMessage(error, doing: "unbind", instanceID: instanceID)
            await honourMinimumDuration(plan(of: instance)?.1, since: operation.startedAt)
            do {
                try await ledger.mutate(.id(instanceID)) { aggregate in
                    guard var binding = aggregate?.binding(bindingID), binding.state == .unbinding,
                        var operation = aggregate?.openOperations.first(where: { $0.id == operationID })
                    else { return (.none, ()) }
                    let now = Self.now()
                    binding.state = .failed
                    binding.failure = "unbinding failed: \(failure)"
                    binding.updatedAt = now
                    operation.finish(.failed, description: failure, at: now)
                    return (LedgerWrite(bindings: [binding], operations: [operation]), ())
                }
            } catch {
                logger.error("broker.unbind.record-failed", metadata: ["binding-id": "\(bindingID)", "error-type": "\(type(of: error))"])
            }
        }
        await work.signal(operationID)
    }
}

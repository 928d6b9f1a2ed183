import Foundation
import Logging

extension Broker {
    /// Binds an instance: the provider creates credentials for this binding alone.
    ///
    /// - OSB: `PUT …/service_bindings/:bid` · tsuru: `POST /resources/:name/bind-app` (and the
    ///   unit `bind`) · Apcera: `POST /bindings` · registry: `POST /services/:name/bindings`.
    /// - Binds of different bindings on a ready instance run concurrently. An identical repeat,
    ///   or a bind for an app that is already bound, returns `.alreadyExists`.
    public func bind(_ command: BindCommand) async throws(BrokerError) -> BindOutcome {
        let now = Self.now()
        let bindingID = command.bindingID ?? Self.newID()
        enum Decision: Sendable {
            case exists(Binding, BrokerOperation?)
            case start(Instance, Binding, BrokerOperation)
        }
        let decision: Decision
        do {
            decision = try await ledger.mutate(command.instance) { aggregate in
                guard let aggregate, aggregate.instance.state != .deleted else {
                    throw BrokerError.instanceNotFound(command.instance.description)
                }
                let instance = aggregate.instance
                guard let (offering, plan) = self.plan(of: instance) else {
                    throw BrokerError.notBindable("plan '\(instance.planID)' is no longer in the catalog")
                }
                guard offering.isBindable(plan) else {
                    throw BrokerError.notBindable("plan '\(plan.name)' of offering '\(offering.name)' is not bindable")
                }
                if plan.isAsynchronous && !command.acceptsIncomplete { throw BrokerError.asyncRequired }
                try SchemaValidator.validate(command.parameters, against: plan.schemas.bindingCreate)
                let identity = Self.bindIdentity(
                    instanceID: instance.id, appKey: command.appKey, parameters: command.parameters, protocolIdentity: command.identity)
                if let existing = aggregate.binding(bindingID) {
                    guard existing.identity == identity else {
                        throw BrokerError.conflict("binding '\(bindingID)' already exists with different attributes")
                    }
                    return (.none, .exists(existing, aggregate.openOperation(.bind, binding: bindingID)))
                }
                if let app = command.appKey, let existing = aggregate.bindings.first(where: { $0.appKey == app }) {
                    return (.none, .exists(existing, aggregate.openOperation(.bind, binding: existing.id)))
                }
                switch instance.state {
                case .ready: break
                case .failed: throw BrokerError.instanceFailed(instance.failure ?? "unknown reason")
                case .deleted: throw BrokerError.instanceNotFound(command.instance.description)
                case .provisioning, .updating, .deprovisioning:
                    throw BrokerError.concurrentOperation("service instance '\(instance.name)' is being \(Self.verb(instance.state))")
                }
                let binding = Binding(
                    id: bindingID, instanceID: instance.id, appKey: command.appKey, createdBy: command.origin.protocolName,
                    state: .binding, parameters: command.parameters, context: command.context, identity: identity,
                    units: command.units, createdAt: now, updatedAt: now)
                let operation = BrokerOperation(
                    id: Self.newID(), kind: .bind, instanceID: instance.id, bindingID: bindingID, origin: command.origin,
                    startedAt: now)
                return (LedgerWrite(bindings: [binding], operations: [operation]), .start(instance, binding, operation))
            }
        } catch LedgerError.uniqueViolation(field: "binding.id") {
            throw .conflict("binding id '\(bindingID)' is already in use")
        } catch {
            throw brokerError(fromLedger: error)
        }
        switch decision {
        case .exists(let binding, let operation):
            return .alreadyExists(binding, operation)
        case .start(let instance, let binding, let operation):
            let budget = waitBudget(asynchronous: plan(of: instance)?.1.isAsynchronous == true, acceptsIncomplete: command.acceptsIncomplete)
            let settled = try await launch(operation.id, budget: budget) {
                await self.runBind(instanceID: instance.id, bindingID: bindingID, operationID: operation.id)
            }
            switch settled.state {
            case .inProgress: return .accepted(binding, settled)
            case .succeeded: return .created(try await reloadBinding(bindingID))
            case .failed: throw .providerFailed(settled.description ?? "binding failed")
            }
        }
    }

    /// What makes a repeated bind identical; also used to restore a binding from platform state.
    public static func bindIdentity(instanceID: String, appKey: String?, parameters: JSONValue, protocolIdentity: JSONValue) -> JSONValue {
        ["instance": .string(instanceID), "app": appKey.map(JSONValue.string) ?? .null, "parameters": parameters, "protocol": protocolIdentity]
    }

    /// Reads a binding that must exist.
    func reloadBinding(_ id: String) async throws(BrokerError) -> Binding {
        guard let binding = try await withLedger({ try await self.ledger.binding(id: id) }) else {
            throw .bindingNotFound(id)
        }
        return binding
    }

    static func verb(_ state: InstanceState) -> String {
        switch state {
        case .provisioning: "provisioned"
        case .updating: "updated"
        case .deprovisioning: "deprovisioned"
        case .ready, .failed, .deleted: state.rawValue
        }
    }

    private enum BindNext: Sendable {
        case done
        case unbind(String)
    }

    /// Calls the provider for a recorded bind and records the outcome; carries out an unbind
    /// that arrived meanwhile.
    func runBind(instanceID: String, bindingID: String, operationID: String) async {
        guard let aggregate = try? await ledger.aggregate(.id(instanceID)),
            let binding = aggregate.binding(bindingID), binding.state == .binding,
            let operation = aggregate.openOperations.first(where: { $0.id == operationID })
        else { return }
        let instance = aggregate.instance
        let plan = self.plan(of: instance)?.1
        var outcome: Result<Credentials, BrokerError>
        do {
            let plugin = try await self.plugin(for: instance)
            let request = BindRequest(
                instanceID: instance.id, bindingID: bindingID,
                plan: PlanReference(id: instance.planID, name: plan?.name ?? instance.planID, options: plan?.options ?? [:]),
                parameters: binding.parameters, state: instance.providerState)
            outcome = .success(try await plugin.bind(request))
        } catch {
            outcome = .failure(.providerFailed(failureMessage(error, doing: "bind", instanceID: instanceID)))
        }
        await honourMinimumDuration(plan, since: operation.startedAt)
        let settledOutcome = outcome
        let next: BindNext
        do {
            next = try await ledger.mutate(.id(instanceID)) { aggregate in
                guard let aggregate, var binding = aggregate.binding(bindingID), binding.state == .binding,
                    var operation = aggregate.openOperations.first(where: { $0.id == operationID })
                else { return (.none, .done) }
                let now = Self.now()
                binding.updatedAt = now
                if case .success(let credentials) = settledOutcome { binding.credentials = credentials }
                if let pending = aggregate.openOperation(.unbind, binding: bindingID) {
                    operation.finish(.failed, description: "superseded by an unbind request", at: now)
                    binding.state = .unbinding
                    return (LedgerWrite(bindings: [binding], operations: [operation]), .unbind(pending.id))
                }
                switch settledOutcome {
                case .success:
                    binding.state = .bound
                    operation.finish(.succeeded, at: now)
                    let event = self.bindingEvent(EventType.bindingCreate, binding, of: aggregate.instance, origin: operation.origin, at: now)
                    return (LedgerWrite(bindings: [binding], operations: [operation], events: [event]), .done)
                case .failure(let error):
                    binding.state = .failed
                    binding.failure = error.description
                    operation.finish(.failed, description: error.description, at: now)
                    return (LedgerWrite(bindings: [binding], operations: [operation]), .done)
                }
            }
        } catch {
            logger.error("broker.bind.record-failed", metadata: ["binding-id": "\(bindingID)", "error-type": "\(type(of: error))"])
            return
        }
        await work.signal(operationID)
        if case .unbind(let unbindID) = next {
            await runUnbind(instanceID: instanceID, bindingID: bindingID, operationID: unbindID)
        }
    }
}

extension Broker {
    /// Records or forgets a unit host on an app's binding, without calling the provider
    /// (tsuru's unit bind and unbind). Returns the binding, or nil when the app has none.
    ///
    /// - tsuru: `POST|DELETE /resources/:name/bind` with `unit-host`.
    public func recordUnit(
        _ unit: String, adding: Bool, instance key: InstanceKey, where matches: @escaping @Sendable (Binding) -> Bool
    ) async throws(BrokerError) -> Binding? {
        do {
            return try await ledger.mutate(key) { aggregate in
                guard let aggregate, aggregate.instance.state != .deleted else {
                    throw BrokerError.instanceNotFound(key.description)
                }
                guard var binding = aggregate.bindings.first(where: matches) ?? (adding ? nil : aggregate.bindings.first(where: { $0.units.contains(unit) }))
                else { return (.none, nil) }
                let before = binding.units
                if adding {
                    if !binding.units.contains(unit) { binding.units.append(unit) }
                } else {
                    binding.units.removeAll { $0 == unit }
                }
                guard binding.units != before else { return (.none, binding) }
                binding.updatedAt = Self.now()
                return (LedgerWrite(bindings: [binding]), binding)
            }
        } catch {
            throw brokerError(fromLedger: error)
        }
    }
}

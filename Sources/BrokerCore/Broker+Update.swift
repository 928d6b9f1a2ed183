import Foundation
import Logging

extension Broker {
    /// Changes an instance's plan, parameters, context or owning tenant.
    ///
    /// - OSB: `PATCH /v2/service_instances/:id` · tsuru: `PUT /resources/:name` ·
    ///   registry: `PUT /services/:name` · Apcera: none.
    /// - Context and tenant changes are recorded at once; plan and parameter changes go to
    ///   the provider. A repeat while the same change runs returns its operation; any other
    ///   change meanwhile is a concurrency error. A failed update leaves the instance usable
    ///   on its old plan.
    public func update(_ command: UpdateCommand) async throws(BrokerError) -> UpdateOutcome {
        let now = Self.now()
        enum Decision: Sendable {
            case unchanged(Instance)
            case running(Instance, BrokerOperation, isNew: Bool)
        }
        let decision: Decision
        do {
            decision = try await ledger.mutate(command.instance) { aggregate in
                guard let aggregate, aggregate.instance.state != .deleted else {
                    throw BrokerError.instanceNotFound(command.instance.description)
                }
                var instance = aggregate.instance
                guard let (offering, currentPlan) = self.plan(of: instance) else {
                    throw BrokerError.planChangeNotSupported("plan '\(instance.planID)' is no longer in the catalog")
                }
                var newPlan = currentPlan
                if let requested = command.plan {
                    guard let found = offering.plan(requested) else {
                        throw BrokerError.unknownPlan(offering: offering.name, plan: requested)
                    }
                    newPlan = found
                }
                if (newPlan.isAsynchronous || currentPlan.isAsynchronous) && !command.acceptsIncomplete {
                    throw BrokerError.asyncRequired
                }
                if newPlan.id != currentPlan.id && !offering.isUpdateable(currentPlan) {
                    throw BrokerError.planChangeNotSupported(
                        "the plan of offering '\(offering.name)' cannot be changed from '\(currentPlan.name)' to '\(newPlan.name)'")
                }
                if let parameters = command.parameters {
                    try SchemaValidator.validate(parameters, against: newPlan.schemas.instanceUpdate)
                }
                let requestedChange: JSONValue = ["plan": .string(newPlan.id), "parameters": command.parameters ?? .null]
                switch instance.state {
                case .updating:
                    if let running = aggregate.openOperation(.update), running.request == requestedChange {
                        return (.none, .running(instance, running, isNew: false))
                    }
                    throw BrokerError.concurrentOperation("service instance '\(instance.name)' is being updated")
                case .provisioning, .deprovisioning:
                    throw BrokerError.concurrentOperation(
                        "service instance '\(instance.name)' is being \(instance.state == .provisioning ? "provisioned" : "deprovisioned")")
                case .failed:
                    throw BrokerError.instanceFailed(instance.failure ?? "unknown reason")
                case .deleted:
                    throw BrokerError.instanceNotFound(command.instance.description)
                case .ready:
                    break
                }
                var recorded = false
                if let context = command.context, context != instance.context {
                    instance.context = context
                    recorded = true
                }
                if let tenant = command.tenant, tenant != instance.tenant {
                    instance.tenant = tenant
                    recorded = true
                }
                if let tags = command.tags, tags != instance.tags {
                    instance.tags = tags
                    recorded = true
                }
                if let metadata = command.metadata, metadata != instance.metadata {
                    instance.metadata = metadata
                    recorded = true
                }
                if let user = command.user, user != instance.user {
                    instance.user = user
                    recorded = true
                }
                let merged = Self.merge(instance.parameters, command.parameters)
                if newPlan.id == currentPlan.id && merged == instance.parameters {
                    guard recorded else { return (.none, .unchanged(instance)) }
                    instance.updatedAt = now
                    let event = self.instanceEvent(EventType.instanceUpdate, instance, origin: command.origin, at: now)
                    return (LedgerWrite(instance: instance, events: [event]), .unchanged(instance))
                }
                instance.state = .updating
                instance.updatedAt = now
                let operation = BrokerOperation(
                    id: Self.newID(), kind: .update, instanceID: instance.id, origin: command.origin,
                    request: requestedChange, startedAt: now)
                return (LedgerWrite(instance: instance, operations: [operation]), .running(instance, operation, isNew: true))
            }
        } catch {
            throw brokerError(fromLedger: error)
        }
        switch decision {
        case .unchanged(let instance):
            return .unchanged(instance)
        case .running(let instance, let operation, let isNew):
            let current = plan(of: instance)
            let target = current?.0.plans.first { $0.id == operation.request["plan"]?.stringValue }
            let asynchronous = current?.1.isAsynchronous == true || target?.isAsynchronous == true
            let budget = waitBudget(asynchronous: asynchronous, acceptsIncomplete: command.acceptsIncomplete)
            let settled: BrokerOperation
            if isNew {
                settled = try await launch(operation.id, budget: budget) {
                    await self.runUpdate(instanceID: instance.id, operationID: operation.id)
                }
            } else {
                settled = try await settle(operation.id, budget: budget)
            }
            switch settled.state {
            case .inProgress: return .accepted(instance, settled)
            case .succeeded: return .updated(try await reload(.id(instance.id)))
            case .failed: throw .providerFailed(settled.description ?? "the update failed")
            }
        }
    }

    /// Top-level merge of update parameters into the current ones.
    static func merge(_ current: JSONValue, _ change: JSONValue?) -> JSONValue {
        guard let change else { return current }
        guard var members = current.objectValue, let changes = change.objectValue else { return change }
        for (key, value) in changes { members[key] = value }
        return .object(members)
    }

    /// Calls the provider for a recorded update and records the outcome.
    func runUpdate(instanceID: String, operationID: String) async {
        guard let aggregate = try? await ledger.aggregate(.id(instanceID)),
            aggregate.instance.state == .updating,
            let operation = aggregate.openOperations.first(where: { $0.id == operationID })
        else { return }
        let instance = aggregate.instance
        let current = plan(of: instance)
        let targetPlanID = operation.request["plan"]?.stringValue ?? instance.planID
        let target = current?.0.plans.first { $0.id == targetPlanID }
        let parameters = Self.merge(instance.parameters, operation.request["parameters"].flatMap { $0.isNull ? nil : $0 })
        var failure: String?
        do {
            guard let (_, currentPlan) = current, let target else {
                throw BrokerError.providerFailed("the plan is no longer in the catalog")
            }
            let plugin = try await self.plugin(for: instance)
            try await plugin.update(
                UpdateRequest(
                    instanceID: instance.id, previousPlan: PlanReference(currentPlan), plan: PlanReference(target),
                    parameters: parameters, state: instance.providerState))
        } catch {
            failure = failureMessage(error, doing: "update", instanceID: instanceID)
        }
        await honourMinimumDuration(target ?? current?.1, since: operation.startedAt)
        let settledFailure = failure
        do {
            try await ledger.mutate(.id(instanceID)) { aggregate in
                guard var instance = aggregate?.instance, instance.state == .updating,
                    var operation = aggregate?.openOperations.first(where: { $0.id == operationID })
                else { return (.none, ()) }
                let now = Self.now()
                instance.state = .ready
                instance.updatedAt = now
                if let settledFailure {
                    operation.finish(.failed, description: settledFailure, at: now)
                    return (LedgerWrite(instance: instance, operations: [operation]), ())
                }
                instance.planID = targetPlanID
                instance.parameters = parameters
                operation.finish(.succeeded, at: now)
                let event = self.instanceEvent(EventType.instanceUpdate, instance, origin: operation.origin, at: now)
                return (LedgerWrite(instance: instance, operations: [operation], events: [event]), ())
            }
        } catch {
            logger.error("broker.update.record-failed", metadata: ["instance-id": "\(instanceID)", "error-type": "\(type(of: error))"])
            return
        }
        await work.signal(operationID)
    }
}

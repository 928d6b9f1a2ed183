import Foundation
import Logging

extension Broker {
    /// Provisions an instance.
    ///
    /// - OSB: `PUT /v2/service_instances/:id` · tsuru: `POST /resources` ·
    ///   Apcera: `POST /services` · registry: `POST /services`.
    /// - An identical repeat returns `.alreadyExists` (with the open operation while it runs);
    ///   the same id or name with different attributes throws `.conflict`.
    public func provision(_ command: ProvisionCommand) async throws(BrokerError) -> ProvisionOutcome {
        let (offering, plan) = try catalog.resolve(offering: command.offering, plan: command.plan)
        if plan.isAsynchronous && !command.acceptsIncomplete { throw .asyncRequired }
        try SchemaValidator.validate(command.parameters, against: plan.schemas.instanceCreate)
        let identity = Self.provisionIdentity(offeringID: offering.id, planID: plan.id, parameters: command.parameters, protocolIdentity: command.identity)
        let choice = await chooseProvider(for: offering, pinned: command.providerID, tenant: command.tenant)
        var attempts = 0
        while true {
            attempts += 1
            let id = command.instanceID ?? Self.newID()
            let name = command.name ?? Self.generatedName(for: offering)
            do {
                return try await provision(command, id: id, name: name, offering: offering, plan: plan, identity: identity, choice: choice)
            } catch .nameTaken(let taken) where command.name == nil && attempts < 5 {
                logger.info("broker.provision.name-retry", metadata: ["name": "\(taken)"])
            }
        }
    }

    private enum ProvisionDecision: Sendable {
        case exists(Instance, BrokerOperation?)
        case start(Instance, BrokerOperation)
    }

    private func provision(
        _ command: ProvisionCommand, id: String, name: String, offering: Offering, plan: Plan, identity: JSONValue,
        choice: Result<Provider, BrokerError>
    ) async throws(BrokerError) -> ProvisionOutcome {
        let key: InstanceKey = command.instanceID != nil ? .id(id) : .name(name)
        let now = Self.now()
        let decision: ProvisionDecision
        do {
            decision = try await ledger.mutate(key) { aggregate in
                // A deleted instance's id may be provisioned again: Kubernetes retries a create
                // with the same id after its orphan mitigation deleted the first attempt.
                if let aggregate, aggregate.instance.state != .deleted {
                    let existing = aggregate.instance
                    guard existing.identity == identity, command.name == nil || command.name == existing.name else {
                        throw BrokerError.conflict("service instance '\(key)' already exists with different attributes")
                    }
                    return (.none, .exists(existing, aggregate.openOperation(.provision)))
                }
                let provider = try choice.get()
                let instance = Instance(
                    id: id, name: name, offeringID: offering.id, planID: plan.id, providerID: provider.id,
                    tenant: command.tenant, createdBy: command.origin.protocolName, state: .provisioning,
                    parameters: command.parameters, context: command.context, identity: identity, tags: command.tags,
                    metadata: command.metadata, user: command.user, createdAt: now, updatedAt: now)
                let operation = BrokerOperation(
                    id: Self.newID(), kind: .provision, instanceID: id, origin: command.origin, startedAt: now)
                return (LedgerWrite(instance: instance, operations: [operation]), .start(instance, operation))
            }
        } catch LedgerError.uniqueViolation(field: "instance.name") {
            throw .nameTaken(name)
        } catch {
            throw brokerError(fromLedger: error)
        }
        switch decision {
        case .exists(let instance, let operation):
            return .alreadyExists(instance, operation)
        case .start(let instance, let operation):
            logger.info("broker.provision.started", metadata: ["instance-id": "\(id)", "request-id": "\(command.origin.requestID ?? "-")"])
            let settled = try await launch(operation.id, budget: waitBudget(asynchronous: plan.isAsynchronous, acceptsIncomplete: command.acceptsIncomplete)) {
                await self.runProvision(instanceID: id, operationID: operation.id)
            }
            switch settled.state {
            case .inProgress:
                return .accepted(instance, settled)
            case .succeeded:
                return .created(try await reload(.id(id)))
            case .failed:
                throw .providerFailed(settled.description ?? "provisioning failed")
            }
        }
    }

    /// What makes a repeated provision identical; also used to restore an instance from platform state.
    public static func provisionIdentity(offeringID: String, planID: String, parameters: JSONValue, protocolIdentity: JSONValue) -> JSONValue {
        ["offering": .string(offeringID), "plan": .string(planID), "parameters": parameters, "protocol": protocolIdentity]
    }

    /// Reads an instance that must exist.
    func reload(_ key: InstanceKey) async throws(BrokerError) -> Instance {
        guard let aggregate = try await withLedger({ try await self.ledger.aggregate(key) }) else {
            throw .instanceNotFound(key.description)
        }
        return aggregate.instance
    }

    private enum ProvisionNext: Sendable {
        case done
        case deprovision(String)
    }

    /// Calls the provider for a recorded provision and records the outcome; carries out a
    /// deprovision that arrived meanwhile (orphan mitigation).
    func runProvision(instanceID: String, operationID: String) async {
        guard let aggregate = try? await ledger.aggregate(.id(instanceID)),
            let operation = aggregate.openOperations.first(where: { $0.id == operationID })
        else { return }
        let instance = aggregate.instance
        let resolved = plan(of: instance)
        var outcome: Result<ProvisionResult, BrokerError>
        do {
            guard let (offering, plan) = resolved else {
                throw BrokerError.providerFailed("plan '\(instance.planID)' is no longer in the catalog")
            }
            let plugin = try await self.plugin(for: instance)
            let request = ProvisionRequest(
                instanceID: instance.id, name: instance.name, offering: offering.name, plan: PlanReference(plan),
                parameters: instance.parameters)
            outcome = .success(try await plugin.provision(request))
        } catch {
            outcome = .failure(.providerFailed(failureMessage(error, doing: "provision", instanceID: instanceID)))
        }
        await honourMinimumDuration(resolved?.1, since: operation.startedAt)
        let settledOutcome = outcome
        let next: ProvisionNext
        do {
            next = try await ledger.mutate(.id(instanceID)) { aggregate in
                guard var instance = aggregate?.instance, instance.state == .provisioning,
                    var operation = aggregate?.openOperations.first(where: { $0.id == operationID })
                else { return (.none, .done) }
                let now = Self.now()
                if case .success(let result) = settledOutcome {
                    instance.providerState = result.state
                    instance.dashboardURL = result.dashboardURL
                }
                instance.updatedAt = now
                if let pending = aggregate?.openOperation(.deprovision) {
                    operation.finish(.failed, description: "superseded by a deprovision request", at: now)
                    instance.state = .deprovisioning
                    return (LedgerWrite(instance: instance, operations: [operation]), .deprovision(pending.id))
                }
                switch settledOutcome {
                case .success:
                    instance.state = .ready
                    operation.finish(.succeeded, at: now)
                    let event = self.instanceEvent(EventType.instanceCreate, instance, origin: operation.origin, at: now)
                    return (LedgerWrite(instance: instance, operations: [operation], events: [event]), .done)
                case .failure(let error):
                    instance.state = .failed
                    instance.failure = error.description
                    operation.finish(.failed, description: error.description, at: now)
                    let event = self.instanceEvent(EventType.instanceFail, instance, origin: operation.origin, at: now)
                    return (LedgerWrite(instance: instance, operations: [operation], events: [event]), .done)
                }
            }
        } catch {
            logger.error("broker.provision.record-failed", metadata: ["instance-id": "\(instanceID)", "error-type": "\(type(of: error))"])
            return
        }
        await work.signal(operationID)
        if case .deprovision(let deprovisionID) = next {
            await runDeprovision(instanceID: instanceID, operationID: deprovisionID)
        }
    }
}

import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

extension ApceraFrontEnd {
    /// POST /apcera/services → 200 `{id, name, description, provider_id, params{…, offering, plan}}` with
    /// `X-Service-State`, once the instance is ready (asynchronous plans are waited for);
    /// 400 bad input or state; 404 unknown provider; 409 name or id taken, or busy;
    /// 502 provider unreachable or failed; 504 the wait ran out (the operation goes on).
    func createService(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try verifyAllStates(request)
        let members = try await Self.body(request, required: true)
        let name = try Self.checked(Self.string(members, "name"), "name", pattern: Self.namePattern)
        let description = try Self.string(members, "description") ?? ""
        // Without an explicit id every create is a new service: a second one with the same name is 409.
        let id = try Self.checked(Self.string(members, "id"), "id", pattern: Self.idPattern) ?? UUID().uuidString.lowercased()
        let providerID = try Self.string(members, "provider_id").flatMap { $0.isEmpty ? nil : $0 }
        var params = try Self.object(members, "params")
        let providerState = try verified(request, Self.providerStateHeader, as: .provider, id: providerID)
        var provider: Provider?
        if let pinned = providerID ?? providerState?.id {
            provider = try await self.provider(pinned, state: providerState, context: context)
        }
        let offeringName = try Self.string(params, "offering")
        let planName = try Self.string(params, "plan")
        params["offering"] = nil
        params["plan"] = nil
        let offering: Offering
        if let offeringName {
            guard let found = broker.catalog.offering(offeringName) else { throw ApceraError.badRequest("unknown offering '\(offeringName)'") }
            if let provider, found.providerSelector.kind != provider.kind {
                throw ApceraError.badRequest("offering '\(found.name)' is not served by a \(provider.kind) provider like '\(provider.name)'")
            }
            offering = found
        } else if let provider {
            guard let found = broker.catalog.offerings.first(where: { $0.providerSelector.kind == provider.kind }) else {
                throw ApceraError.badRequest("no offering is served by a \(provider.kind) provider")
            }
            offering = found
        } else {
            guard let found = defaultOffering else { throw ApceraError.badRequest("the catalog has no offering") }
            offering = found
        }
        let plan: Plan
        if let planName {
            guard let found = offering.plan(planName) else { throw ApceraError.badRequest("offering '\(offering.name)' has no plan '\(planName)'") }
            plan = found
        } else {
            plan = offering.plans[0]
        }
        let parameters = JSONValue.object(params)
        // The state must fit in 4096 characters: check before anything is created.
        _ = try serviceState(id: id, name: name ?? "\(offering.name)-00000000", providerID: provider?.id ?? "",
                             offering: offering, plan: plan, parameters: parameters, description: description, resource: [:])
        let command = ProvisionCommand(
            instanceID: id, name: name, offering: offering.id, plan: plan.id, tenant: configuration.tenant, parameters: parameters,
            context: ["description": .string(description)], identity: ["description": .string(description)], providerID: provider?.id,
            acceptsIncomplete: true, origin: origin(context))
        let outcome = try await call(.createService) { () async throws(BrokerError) in try await broker.provision(command) }
        let instance: Instance
        switch outcome {
        case .created(let created):
            instance = created
        case .accepted(let created, let running), .alreadyExists(let created, .some(let running)):
            try await waitFor(running, during: .createService)
            instance = try await call(.createService) { () async throws(BrokerError) in try await broker.instance(.id(created.id)) }?.instance ?? created
        case .alreadyExists(let existing, nil):
            guard existing.state == .ready || existing.state == .updating else {
                throw ApceraError(.conflict, "conflict", "service '\(existing.name)' is \(existing.state.rawValue)")
            }
            instance = existing
        }
        return try serviceResponse(instance, offering: offering, plan: plan, description: description)
    }

    /// Waits for an operation Apcera cannot poll: 502 when it failed, 504 when the wait runs out.
    func waitFor(_ operation: BrokerOperation, during step: ApceraOperation) async throws {
        let finished = try await call(step) { () async throws(BrokerError) in
            try await broker.awaitOperation(operation.id, timeout: .seconds(configuration.waitSeconds))
        }
        switch finished?.state {
        case .succeeded: return
        case .failed: throw ApceraError(.badGateway, "provider_unreachable", finished?.description ?? "the provider failed")
        case .inProgress, nil:
            throw ApceraError(.gatewayTimeout, "timeout", "still in progress after \(configuration.waitSeconds) s; the operation goes on")
        }
    }

    func serviceState(
        id: String, name: String, providerID: String, offering: Offering, plan: Plan, parameters: JSONValue, description: String,
        resource: [String: String]
    ) throws -> String {
        let header = try state.encode(
            .service, id: id,
            fields: [
                "name": .string(name), "provider_id": .string(providerID), "offering": .string(offering.name), "plan": .string(plan.name),
            ],
            secret: ["params": parameters, "description": .string(description), "resource": JSONValue(resource)])
        guard header.count <= StateCodec.maximumLength else {
            throw ApceraError.badRequest("the service's state would pass 4096 characters: send fewer or shorter params")
        }
        return header
    }

    func serviceResponse(_ instance: Instance, offering: Offering, plan: Plan, description: String) throws -> Response {
        var params = instance.parameters.objectValue ?? [:]
        params["offering"] = .string(offering.name)
        params["plan"] = .string(plan.name)
        let header = try serviceState(
            id: instance.id, name: instance.name, providerID: instance.providerID, offering: offering, plan: plan,
            parameters: instance.parameters, description: description, resource: instance.providerState)
        return JSONResponse.make(
            .ok,
            [
                "id": .string(instance.id), "name": .string(instance.name), "description": .string(description),
                "provider_id": .string(instance.providerID), "params": .object(params),
            ],
            headers: [Self.serviceStateHeader: header])
    }

    /// The instance named by a request: from the ledger (this tenant, not deleted), else rebuilt
    /// from valid service state (and its provider from provider state when needed).
    func service(_ id: String, request: Request, context: some RequestContext, during step: ApceraOperation) async throws -> Instance {
        let providerState = try verified(request, Self.providerStateHeader, as: .provider)
        let serviceState = try verified(request, Self.serviceStateHeader, as: .service, id: id)
        if let providerState, let serviceState, serviceState.string("provider_id") != providerState.id {
            throw ApceraError.invalidState("the service state and the provider state do not belong together")
        }
        if let known = try await call(step, { () async throws(BrokerError) in try await broker.instance(.id(id)) })?.instance {
            guard known.state != .deleted, known.tenant == configuration.tenant else { throw ApceraError.notFound("service '\(id)' not found") }
            return known
        }
        guard let serviceState, let providerID = serviceState.string("provider_id"),
            let offering = serviceState.string("offering").flatMap({ broker.catalog.offering($0) }),
            let plan = serviceState.string("plan").flatMap({ offering.plan($0) }), let name = serviceState.string("name")
        else {
            throw ApceraError.notFound("service '\(id)' not found")
        }
        let provider = try await provider(providerID, state: providerState, context: context)
        let parameters = serviceState.secret["params"] ?? .emptyObject
        let description = JSONValue.string(serviceState.secret["description"]?.stringValue ?? "")
        let now = Date()
        let rebuilt = Instance(
            id: id, name: name, offeringID: offering.id, planID: plan.id, providerID: provider.id, tenant: configuration.tenant,
            createdBy: "apcera", state: .ready, parameters: parameters, context: ["description": description],
            identity: Broker.provisionIdentity(offeringID: offering.id, planID: plan.id, parameters: parameters, protocolIdentity: ["description": description]),
            providerState: serviceState.secret["resource"]?.stringMap ?? [:], createdAt: now, updatedAt: now)
        let outcome = try await call(step) { () async throws(BrokerError) in try await broker.restore(instance: rebuilt, origin: origin(context)) }
        switch outcome {
        case .known(let instance), .rebuilt(let instance): return instance
        }
    }

    /// DELETE /apcera/services/:id → 200 `{id, name, provider_id}`; 404 unknown or already deleted;
    /// 409 live bindings (unless the body says `{"force": true}`) or busy; 502/504 as for creates.
    func deleteService(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try verifyAllStates(request)
        let id = context.pathParameter("id") ?? ""
        let force = try await Self.deleteBody(request, id: id)
        let instance = try await service(id, request: request, context: context, during: .deleteService)
        let command = DeprovisionCommand(instance: .id(id), removeBindings: force, acceptsIncomplete: true, origin: origin(context))
        let outcome = try await call(.deleteService) { () async throws(BrokerError) in try await broker.deprovision(command) }
        if case .accepted(_, let running) = outcome { try await waitFor(running, during: .deleteService) }
        return JSONResponse.make(.ok, ["id": .string(instance.id), "name": .string(instance.name), "provider_id": .string(instance.providerID)])
    }
}

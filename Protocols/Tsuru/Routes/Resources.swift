import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

extension TsuruFrontEnd {
    func mountResources<Context: RequestContext>(on service: RouterGroup<Context>) {
        service.get("resources/plans") { _, context in try plans(context) }
        service.post("resources") { request, context in try await create(request, context) }
        service.get("resources/:name") { _, context in try await info(context) }
        service.put("resources/:name") { request, context in try await update(request, context) }
        service.delete("resources/:name") { request, context in try await remove(request, context) }
        service.get("resources/:name/status") { _, context in try await status(context) }
    }

    static var namePattern: Regex<Substring> { /^[A-Za-z][-A-Za-z0-9_]+$/ }

    /// GET /tsuru/:offering/resources/plans → 200 `[{"name","description"}]`.
    func plans(_ context: some RequestContext) throws -> Response {
        let offering = try offering(context)
        return JSONResponse.make(
            .ok, .array(offering.plans.map { ["name": .string($0.name), "description": .string($0.description)] }))
    }

    /// POST /tsuru/:offering/resources → 201 (no body; an asynchronous plan's status shows 202 until ready);
    /// 400 bad name, unknown plan or missing team; 409 name taken; 503 provider unreachable.
    func create(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let offering = try offering(context)
        let fields = try await TsuruFields.read(request)
        guard let name = try fields.string("name", json: "name") else { throw TsuruError(.badRequest, "name is required") }
        guard name.count <= 128, name.wholeMatch(of: Self.namePattern) != nil else {
            throw TsuruError(.badRequest, "invalid name '\(name.prefix(140))': use 2 to 128 letters, digits, '-' and '_', starting with a letter")
        }
        guard name != "plans" else { throw TsuruError(.badRequest, "the name 'plans' is reserved") }
        guard let team = try fields.string("team", json: "team") else { throw TsuruError(.badRequest, "team is required") }
        let planName = try fields.string("plan", json: "plan")
        let plan = try planName.map { requested in
            guard let plan = offering.plan(requested) else { throw TsuruError(.badRequest, "unknown plan '\(requested)' for service '\(offering.name)'") }
            return plan
        } ?? offering.plans[0]
        var parameters = try fields.parameters()
        if !fields.isJSON { parameters = SchemaCoercion.coerce(parameters, to: plan.schemas.instanceCreate) }
        let origin = origin(request, context, fields)
        var recorded: [String: JSONValue] = ["team": .string(team)]
        if let description = try fields.string("description", json: "description") { recorded["description"] = .string(description) }
        let command = ProvisionCommand(
            name: name, offering: offering.id, plan: plan.id, tenant: configuration.tenant, parameters: parameters,
            context: .object(recorded), tags: try fields.tags(), user: origin.identity?["user"]?.stringValue,
            acceptsIncomplete: true, origin: origin)
        let outcome: ProvisionOutcome
        do {
            outcome = try await broker.provision(command)
        } catch .conflict, .nameTaken {
            throw TsuruError(.conflict, "service instance '\(name)' already exists")
        } catch {
            throw TsuruError(error, during: .create)
        }
        switch outcome {
        case .created, .accepted:
            return Response(status: .created)
        case .alreadyExists:
            throw TsuruError(.conflict, "service instance '\(name)' already exists")
        }
    }

    /// GET /tsuru/:offering/resources/:name → 200 `[{"label","value"}]` (no credentials); 404 unknown.
    func info(_ context: some RequestContext) async throws -> Response {
        let offering = try offering(context)
        let instance = try await instance(context, of: offering, during: .info)
        let plan = offering.plans.first { $0.id == instance.planID }
        var rows: [(String, String)] = [("ID", instance.id), ("Plan", plan?.name ?? instance.planID), ("State", instance.state.rawValue)]
        if let team = instance.context["team"]?.stringValue { rows.append(("Team", team)) }
        if let description = instance.context["description"]?.stringValue { rows.append(("Description", description)) }
        if let dashboard = instance.dashboardURL { rows.append(("Dashboard", dashboard)) }
        return JSONResponse.make(.ok, .array(rows.map { ["label": .string($0.0), "value": .string($0.1)] }))
    }

    /// PUT /tsuru/:offering/resources/:name → 200; 400 unknown plan (never 404: tsuru takes an update 404
    /// as success); 404 unknown instance; 409 failed instance; 412 an operation is running.
    func update(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let offering = try offering(context)
        let fields = try await TsuruFields.read(request)
        let instance = try await instance(context, of: offering, during: .update)
        let planName = try fields.string("plan", json: "plan")
        var targetPlan = offering.plans.first { $0.id == instance.planID }
        if let planName {
            guard let plan = offering.plan(planName) else { throw TsuruError(.badRequest, "unknown plan '\(planName)' for service '\(offering.name)'") }
            targetPlan = plan
        }
        var parameters: JSONValue? = try fields.parameters()
        if parameters == .emptyObject { parameters = nil }
        if let given = parameters, !fields.isJSON { parameters = SchemaCoercion.coerce(given, to: targetPlan?.schemas.instanceUpdate) }
        var recorded = instance.context.objectValue ?? [:]
        if let team = try fields.string("team", json: "team") { recorded["team"] = .string(team) }
        if let description = try fields.string("description", json: "description") { recorded["description"] = .string(description) }
        let command = UpdateCommand(
            instance: .id(instance.id), plan: targetPlan?.id == instance.planID ? nil : targetPlan?.id, parameters: parameters,
            context: .object(recorded), tags: try fields.tags(), acceptsIncomplete: true, origin: origin(request, context, fields))
        _ = try await call(.update) { () async throws(BrokerError) in try await broker.update(command) }
        return Response(status: .ok)
    }

    /// DELETE /tsuru/:offering/resources/:name → 200 (its bindings go with it; the name is free again once
    /// the provider is done); 404 unknown or already removed; 412 an update is running.
    func remove(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let offering = try offering(context)
        let fields = try await TsuruFields.read(request)
        let instance = try await instance(context, of: offering, during: .delete)
        let command = DeprovisionCommand(
            instance: .id(instance.id), removeBindings: true, acceptsIncomplete: true, origin: origin(request, context, fields))
        _ = try await call(.delete) { () async throws(BrokerError) in try await broker.deprovision(command) }
        return Response(status: .ok)
    }

    /// GET /tsuru/:offering/resources/:name/status → 204 ready, 202 provisioning or updating,
    /// 500 failed (the reason as text), 404 unknown or removed.
    func status(_ context: some RequestContext) async throws -> Response {
        let offering = try offering(context)
        let instance = try await instance(context, of: offering, during: .status)
        switch instance.state {
        case .ready:
            return Response(status: .noContent)
        case .provisioning, .updating:
            return JSONResponse.text(.accepted, "service instance '\(instance.name)' is being \(instance.state == .provisioning ? "provisioned" : "updated")")
        case .failed:
            return Self.textError(.internalServerError, instance.failure ?? "the service instance failed")
        case .deprovisioning, .deleted:
            throw TsuruError(.notFound, "service instance '\(instance.name)' not found")
        }
    }
}

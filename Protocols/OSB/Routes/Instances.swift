import BrokerCore
import FrontEndSupport
import HTTPTypes
import Hummingbird

extension OSBFrontEnd {
    func mountInstances<Context: RequestContext>(on api: RouterGroup<Context>) {
        api.put("service_instances/:instance_id") { request, context in try await provision(request, context) }
        api.patch("service_instances/:instance_id") { request, context in try await update(request, context) }
        api.get("service_instances/:instance_id") { request, context in try await fetchInstance(request, context) }
        api.delete("service_instances/:instance_id") { request, context in try await deprovision(request, context) }
        api.get("service_instances/:instance_id/last_operation") { request, context in try await lastOperation(request, context) }
    }

    func instanceID(_ context: some RequestContext) throws(OSBError) -> String {
        guard let id = context.pathParameter("instance_id"), !id.isEmpty else { throw OSBError.badRequest("instance_id is required") }
        return id
    }

    /// The 201/200 body of an instance.
    static func instanceBody(_ instance: Instance, operation: BrokerOperation? = nil) -> JSONValue {
        var members: [String: JSONValue] = [:]
        if let url = instance.dashboardURL { members["dashboard_url"] = .string(url) }
        if let operation { members["operation"] = .string(operation.id) }
        return .object(members)
    }

    /// PUT /cf/v2/service_instances/:instance_id[?accepts_incomplete=true]
    /// → 201 created, 200 identical and ready, 202 `{"operation"}` accepted or still running;
    /// 400 bad input, 409 same id with other attributes, 422 AsyncRequired / MaintenanceInfoConflict.
    func provision(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = try instanceID(context)
        let fields = try await RequestFields.read(request)
        let (offering, plan) = try resolve(serviceID: try fields.requiredString("service_id"), planID: try fields.requiredString("plan_id"))
        let organization = try fields.requiredString("organization_guid")
        let space = try fields.requiredString("space_guid")
        let parameters = try fields.object("parameters") ?? .emptyObject
        let platformContext = try fields.object("context")
        try validate(parameters, against: plan.schemas.instanceCreate)
        let maintenance = try fields.maintenanceVersion()
        try checkMaintenance(maintenance, plan: plan)
        var recorded: [String: JSONValue] = ["organization_guid": .string(organization), "space_guid": .string(space)]
        if let platformContext { recorded["context"] = platformContext }
        var identity = recorded
        identity["maintenance_info_version"] = maintenance.map(JSONValue.string) ?? .null
        let command = ProvisionCommand(
            instanceID: id, offering: offering.id, plan: plan.id, tenant: configuration.tenant, parameters: parameters,
            context: .object(recorded), identity: .object(identity), acceptsIncomplete: Self.acceptsIncomplete(request),
            origin: try origin(request, context: context))
        let outcome = try await call(.provision) { () async throws(BrokerError) in try await broker.provision(command) }
        switch outcome {
        case .created(let instance):
            return JSONResponse.make(.created, Self.instanceBody(instance))
        case .accepted(let instance, let operation):
            return JSONResponse.make(.accepted, Self.instanceBody(instance, operation: operation))
        case .alreadyExists(let instance, let running):
            switch instance.state {
            case .provisioning:
                return JSONResponse.make(.accepted, Self.instanceBody(instance, operation: running))
            case .ready, .updating:
                return JSONResponse.make(.ok, Self.instanceBody(instance))
            case .deprovisioning, .deleted:
                throw OSBError(status: .conflict, description: "service instance \(id) is being deprovisioned")
            case .failed:
                throw OSBError(status: .internalServerError, error: "ProvisionFailed", description: instance.failure ?? "provisioning failed")
            }
        }
    }

    /// PATCH /cf/v2/service_instances/:instance_id[?accepts_incomplete=true]
    /// → 200 `{}` applied, 202 `{"operation"}`; 400 bad input, 404 unknown instance,
    /// 422 MaintenanceInfoConflict / AsyncRequired / plan change not supported / ConcurrencyError.
    func update(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = try instanceID(context)
        let fields = try await RequestFields.read(request)
        let serviceID = try fields.requiredString("service_id")
        guard let offering = broker.catalog.offering(id: serviceID) else {
            throw OSBError.badRequest("service_id '\(serviceID)' is not in the catalog")
        }
        let requestedPlan = try fields.string("plan_id")
        if let requestedPlan, offering.plans.first(where: { $0.id == requestedPlan }) == nil {
            throw OSBError.badRequest("plan_id '\(requestedPlan)' is not a plan of service '\(offering.name)'")
        }
        let parameters = try fields.object("parameters")
        let platformContext = try fields.object("context")
        let maintenance = try fields.maintenanceVersion()
        _ = try fields.object("previous_values")
        guard let aggregate = try await visibleInstance(id, during: .update), aggregate.instance.state != .deleted else {
            throw OSBError(status: .notFound, description: "service instance \(id) not found")
        }
        guard aggregate.instance.offeringID == offering.id else {
            throw OSBError.badRequest("service_id '\(serviceID)' is not the service of instance \(id)")
        }
        let targetPlan = offering.plans.first { $0.id == (requestedPlan ?? aggregate.instance.planID) }
        if let targetPlan { try checkMaintenance(maintenance, plan: targetPlan) }
        var newContext: JSONValue?
        if let platformContext {
            var recorded = aggregate.instance.context.objectValue ?? [:]
            recorded["context"] = platformContext
            newContext = .object(recorded)
        }
        let command = UpdateCommand(
            instance: .id(id), plan: requestedPlan, parameters: parameters, context: newContext,
            acceptsIncomplete: Self.acceptsIncomplete(request), origin: try origin(request, context: context))
        let outcome = try await call(.update) { () async throws(BrokerError) in try await broker.update(command) }
        switch outcome {
        case .updated(let instance), .unchanged(let instance):
            return JSONResponse.make(.ok, Self.instanceBody(instance))
        case .accepted(let instance, let operation):
            return JSONResponse.make(.accepted, Self.instanceBody(instance, operation: operation))
        }
    }

    /// GET /cf/v2/service_instances/:instance_id → 200 `{service_id, plan_id, dashboard_url?, parameters}`;
    /// 404 unknown or still provisioning; 422 ConcurrencyError while it is updated.
    func fetchInstance(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = try instanceID(context)
        guard let instance = try await visibleInstance(id, during: .fetchInstance)?.instance else {
            throw OSBError(status: .notFound, description: "service instance \(id) not found")
        }
        switch instance.state {
        case .provisioning, .deleted:
            throw OSBError(status: .notFound, description: "service instance \(id) not found")
        case .failed where !(instance.failure ?? "").hasPrefix("deprovisioning failed"):
            throw OSBError(status: .notFound, description: "service instance \(id) not found: its provisioning failed")
        case .updating:
            throw OSBError.concurrency
        case .ready, .deprovisioning, .failed:
            var members: [String: JSONValue] = [
                "service_id": .string(instance.offeringID), "plan_id": .string(instance.planID), "parameters": instance.parameters,
            ]
            if let url = instance.dashboardURL { members["dashboard_url"] = .string(url) }
            let plan = broker.catalog.offering(id: instance.offeringID)?.plans.first { $0.id == instance.planID }
            if let info = plan?.maintenanceInfo {
                members["maintenance_info"] = ["version": .string(info.version)]
            }
            return JSONResponse.make(.ok, .object(members))
        }
    }

    /// DELETE /cf/v2/service_instances/:instance_id?service_id&plan_id[&accepts_incomplete=true]
    /// → 200 `{}`, 202 `{"operation"}` (also during a running provision: orphan mitigation);
    /// 400 missing ids, 410 `{}` unknown or gone, 422 AsyncRequired / ConcurrencyError.
    func deprovision(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = try instanceID(context)
        guard let serviceID = request.query("service_id"), !serviceID.isEmpty else { throw OSBError.badRequest("service_id is required") }
        guard let planID = request.query("plan_id"), !planID.isEmpty else { throw OSBError.badRequest("plan_id is required") }
        let acceptsIncomplete = Self.acceptsIncomplete(request)
        let namedPlan = broker.catalog.offering(id: serviceID)?.plans.first { $0.id == planID }
        if namedPlan?.isAsynchronous == true && !acceptsIncomplete { throw OSBError.asyncRequired }
        guard try await visibleInstance(id, during: .deprovision) != nil else { throw OSBError.gone }
        let command = DeprovisionCommand(
            instance: .id(id), removeBindings: true, acceptsIncomplete: acceptsIncomplete, origin: try origin(request, context: context))
        let outcome = try await call(.deprovision) { () async throws(BrokerError) in try await broker.deprovision(command) }
        switch outcome {
        case .deleted:
            return JSONResponse.make(.ok, .emptyObject)
        case .accepted(_, let operation):
            return JSONResponse.make(.accepted, ["operation": .string(operation.id)])
        }
    }

    /// GET /cf/v2/service_instances/:instance_id/last_operation[?operation=…]
    /// → 200 `{"state", "description"?}` (+ `Retry-After` while in progress); 404 unknown;
    /// 410 after a finished deprovision (or 200 succeeded, as configured).
    func lastOperation(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = try instanceID(context)
        guard try await visibleInstance(id, during: .lastOperation) != nil,
            let (instance, found) = try await call(.lastOperation, { () async throws(BrokerError) in
                try await broker.lastOperation(instance: .id(id), operationID: request.query("operation"))
            }),
            let operation = found
        else {
            throw OSBError(status: .notFound, description: "service instance \(id) not found")
        }
        return renderLastOperation(operation, deleted: instance.state == .deleted)
    }

    /// The `last_operation` answer shared by instances and bindings.
    func renderLastOperation(_ operation: BrokerOperation, deleted: Bool) -> Response {
        let isDelete = operation.kind == .deprovision || operation.kind == .unbind
        if deleted && isDelete && operation.state == .succeeded && configuration.goneAfterDelete {
            return JSONResponse.make(.gone, .emptyObject)
        }
        var members: [String: JSONValue] = ["state": .string(operation.state.rawValue)]
        if let description = operation.description, !description.isEmpty { members["description"] = .string(description) }
        if operation.state == .failed {
            switch operation.kind {
            case .update:
                members["instance_usable"] = true
                members["update_repeatable"] = true
            case .deprovision:
                members["instance_usable"] = false
            default:
                break
            }
        }
        var headers: HTTPFields = [:]
        if operation.state == .inProgress { headers[.retryAfter] = String(configuration.retryAfterSeconds) }
        return JSONResponse.make(.ok, .object(members), headers: headers)
    }
}

import BrokerCore
import FrontEndSupport
import HTTPTypes
import Hummingbird

extension OSBFrontEnd {
    func mountBindings<Context: RequestContext>(on api: RouterGroup<Context>) {
        let path: RouterPath = "service_instances/:instance_id/service_bindings/:binding_id"
        api.put(path) { request, context in try await bind(request, context) }
        api.get(path) { request, context in try await fetchBinding(request, context) }
        api.delete(path) { request, context in try await unbind(request, context) }
        api.get(path.appendingPath("last_operation")) { request, context in try await bindingLastOperation(request, context) }
    }

    func bindingID(_ context: some RequestContext) throws(OSBError) -> String {
        guard let id = context.pathParameter("binding_id"), !id.isEmpty else { throw OSBError.badRequest("binding_id is required") }
        return id
    }

    static func credentialsBody(_ binding: Binding) -> JSONValue {
        ["credentials": JSONValue(binding.credentials?.values ?? [:])]
    }

    /// PUT /cf/v2/service_instances/:instance_id/service_bindings/:binding_id[?accepts_incomplete=true]
    /// → 201 `{"credentials"}`, 200 identical, 202 `{"operation"}` (no credentials); 400 bad input or a
    /// rotation on a plan that is not `binding_rotatable`; 404 unknown instance; 409 same id, other
    /// attributes; 422 AsyncRequired / ConcurrencyError.
    func bind(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = try instanceID(context)
        let bindingID = try bindingID(context)
        var fields = try await RequestFields.read(request)
        if let predecessorID = try fields.string("predecessor_binding_id") {
            fields = try await inheritFromPredecessor(predecessorID, instanceID: id, fields: fields)
        }
        let (offering, plan) = try resolve(serviceID: try fields.requiredString("service_id"), planID: try fields.requiredString("plan_id"))
        let parameters = try fields.object("parameters") ?? .emptyObject
        let appGUID = try fields.string("app_guid")
        let bindResource = try fields.object("bind_resource")
        let platformContext = try fields.object("context")
        try validate(parameters, against: plan.schemas.bindingCreate)
        guard let aggregate = try await visibleInstance(id, during: .bind), aggregate.instance.state != .deleted else {
            throw OSBError(status: .notFound, description: "service instance \(id) not found")
        }
        _ = aggregate
        var recorded: [String: JSONValue] = [:]
        if let appGUID { recorded["app_guid"] = .string(appGUID) }
        if let bindResource { recorded["bind_resource"] = bindResource }
        if let platformContext { recorded["context"] = platformContext }
        if let predecessor = try fields.string("predecessor_binding_id") { recorded["predecessor_binding_id"] = .string(predecessor) }
        var identity = recorded
        identity["service_id"] = .string(offering.id)
        identity["plan_id"] = .string(plan.id)
        let command = BindCommand(
            bindingID: bindingID, instance: .id(id), parameters: parameters, context: .object(recorded), identity: .object(identity),
            acceptsIncomplete: Self.acceptsIncomplete(request), origin: try origin(request, context: context))
        let outcome = try await call(.bind) { () async throws(BrokerError) in try await broker.bind(command) }
        switch outcome {
        case .created(let binding):
            return JSONResponse.make(.created, Self.credentialsBody(binding))
        case .accepted(_, let operation):
            return JSONResponse.make(.accepted, ["operation": .string(operation.id)])
        case .alreadyExists(let binding, let running):
            switch binding.state {
            case .bound:
                return JSONResponse.make(.ok, Self.credentialsBody(binding))
            case .binding:
                return JSONResponse.make(.accepted, running.map { ["operation": .string($0.id)] } ?? .emptyObject)
            case .unbinding, .deleted:
                throw OSBError(status: .conflict, description: "binding \(bindingID) is being removed")
            case .failed:
                throw OSBError(status: .internalServerError, error: "BindFailed", description: binding.failure ?? "binding failed")
            }
        }
    }

    /// Binding rotation (v2.17): ids, parameters and app of the predecessor, unless the request gives its own.
    func inheritFromPredecessor(_ predecessorID: String, instanceID: String, fields: RequestFields) async throws -> RequestFields {
        guard let aggregate = try await visibleInstance(instanceID, during: .bind) else {
            throw OSBError(status: .notFound, description: "service instance \(instanceID) not found")
        }
        guard let (_, plan) = broker.catalog.offering(id: aggregate.instance.offeringID).flatMap({ offering in
            offering.plans.first { $0.id == aggregate.instance.planID }.map { (offering, $0) }
        }), plan.bindingRotatable else {
            throw OSBError.badRequest("plan of service instance \(instanceID) does not allow binding rotation (binding_rotatable is false)")
        }
        guard let predecessor = try await call(.bind, { () async throws(BrokerError) in try await broker.binding(id: predecessorID) }),
            predecessor.instanceID == instanceID, predecessor.state == .bound
        else {
            throw OSBError.badRequest("predecessor_binding_id '\(predecessorID)' is not a binding of service instance \(instanceID)")
        }
        var members = fields.members
        members["service_id"] = members["service_id"].flatMap { $0.stringValue?.isEmpty == false ? $0 : nil } ?? .string(aggregate.instance.offeringID)
        members["plan_id"] = members["plan_id"].flatMap { $0.stringValue?.isEmpty == false ? $0 : nil } ?? .string(aggregate.instance.planID)
        if members["parameters"] == nil || members["parameters"]?.isNull == true { members["parameters"] = predecessor.parameters }
        for key in ["app_guid", "bind_resource"] where members[key] == nil {
            if let inherited = predecessor.context[key] { members[key] = inherited }
        }
        return RequestFields(members: members)
    }

    /// GET /cf/v2/service_instances/:instance_id/service_bindings/:binding_id → 200 `{"credentials", "parameters"}`;
    /// 404 unknown, still being created, or removed.
    func fetchBinding(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = try instanceID(context)
        let bindingID = try bindingID(context)
        guard try await visibleInstance(id, during: .fetchBinding) != nil,
            let binding = try await call(.fetchBinding, { () async throws(BrokerError) in try await broker.binding(id: bindingID) }),
            binding.instanceID == id, binding.state == .bound || binding.state == .unbinding
        else {
            throw OSBError(status: .notFound, description: "binding \(bindingID) not found")
        }
        var body = Self.credentialsBody(binding).objectValue ?? [:]
        body["parameters"] = binding.parameters
        return JSONResponse.make(.ok, .object(body))
    }

    /// DELETE /cf/v2/service_instances/:instance_id/service_bindings/:binding_id?service_id&plan_id[&accepts_incomplete=true]
    /// → 200 `{}`, 202 `{"operation"}`; 410 `{}` unknown or gone; 400 missing ids; 422 AsyncRequired / ConcurrencyError.
    func unbind(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = try instanceID(context)
        let bindingID = try bindingID(context)
        let acceptsIncomplete = Self.acceptsIncomplete(request)
        let serviceID = request.query("service_id") ?? ""
        let planID = request.query("plan_id") ?? ""
        let aggregate = try await visibleInstance(id, during: .unbind)
        let plan = broker.catalog.offering(id: serviceID)?.plans.first { $0.id == planID }
            ?? aggregate.flatMap { found in broker.catalog.offering(id: found.instance.offeringID)?.plans.first { $0.id == found.instance.planID } }
        if plan?.isAsynchronous == true && !acceptsIncomplete { throw OSBError.asyncRequired }
        guard aggregate?.binding(bindingID) != nil else { throw OSBError.gone }
        guard !serviceID.isEmpty else { throw OSBError.badRequest("service_id is required") }
        guard !planID.isEmpty else { throw OSBError.badRequest("plan_id is required") }
        let command = UnbindCommand(
            binding: .id(bindingID), instance: .id(id), acceptsIncomplete: acceptsIncomplete, origin: try origin(request, context: context))
        let outcome = try await call(.unbind) { () async throws(BrokerError) in try await broker.unbind(command) }
        switch outcome {
        case .deleted:
            return JSONResponse.make(.ok, .emptyObject)
        case .accepted(_, let operation):
            return JSONResponse.make(.accepted, ["operation": .string(operation.id)])
        }
    }

    /// GET /cf/v2/service_instances/:instance_id/service_bindings/:binding_id/last_operation
    /// → 200 `{"state", "description"?}`; 404 unknown; 410 after a finished unbind (or 200, as configured).
    func bindingLastOperation(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = try instanceID(context)
        let bindingID = try bindingID(context)
        guard try await visibleInstance(id, during: .bindingLastOperation) != nil,
            let (binding, found) = try await call(.bindingLastOperation, { () async throws(BrokerError) in
                try await broker.lastBindingOperation(bindingID: bindingID, operationID: request.query("operation"))
            }),
            binding.instanceID == id, let operation = found
        else {
            throw OSBError(status: .notFound, description: "binding \(bindingID) not found")
        }
        return renderLastOperation(operation, deleted: binding.state == .deleted)
    }
}

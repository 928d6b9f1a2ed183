import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

extension RegistryFrontEnd {
    func mountServices<Context: RequestContext>(on tenant: RouterGroup<Context>) {
        tenant.post("services") { request, context in try await createService(request, context) }
        tenant.get("services") { request, context in try await listServices(request, context) }
        tenant.get("services/:name") { _, context in try await getService(context) }
        tenant.put("services/:name") { request, context in try await updateService(request, context) }
        tenant.delete("services/:name") { _, context in try await deleteService(context) }
        tenant.post("services/:name/bindings") { request, context in try await createBinding(request, context) }
        tenant.get("services/:name/bindings") { request, context in try await listBindings(request, context) }
        tenant.get("services/:name/bindings/:id") { _, context in try await getBinding(context) }
        tenant.delete("services/:name/bindings/:id") { _, context in try await deleteBinding(context) }
    }

    /// The default binding of an instance: one per instance, made when it is ready (seed 000's `creds`).
    static func defaultBindingID(_ instance: Instance) -> String { "\(instance.id)-default" }

    /// The default binding's credentials, making the binding once the instance is ready (unless it
    /// was deleted). Only instances the registry created get one made: reading an instance another
    /// platform created never creates a binding behind that platform's back (Apcera would count it
    /// as live); such reads show `creds: null` unless a registry client bound it.
    func defaultCredentials(_ instance: Instance, context: some RequestContext) async throws -> Binding? {
        guard instance.state == .ready || instance.state == .updating else { return nil }
        let id = Self.defaultBindingID(instance)
        if let existing = try await call({ () async throws(BrokerError) in try await broker.binding(id: id) }) {
            return existing.state == .bound ? existing : nil
        }
        guard instance.createdBy == "registry" else { return nil }
        return try await bound(BindCommand(bindingID: id, instance: .id(instance.id), acceptsIncomplete: true, origin: origin(context)))
    }

    /// Binds and waits for the credentials.
    func bound(_ command: BindCommand) async throws -> Binding? {
        let outcome = try await call { () async throws(BrokerError) in try await broker.bind(command) }
        switch outcome {
        case .created(let binding):
            return binding
        case .accepted(let binding, let running), .alreadyExists(let binding, .some(let running)):
            let finished = try await call { () async throws(BrokerError) in
                try await broker.awaitOperation(running.id, timeout: .seconds(configuration.waitSeconds))
            }
            if finished?.state == .failed { throw RegistryError(.badGateway, "providerError", "The provider failed", details: finished?.description ?? "binding failed") }
            return try await call { () async throws(BrokerError) in try await broker.binding(id: binding.id) }
        case .alreadyExists(let binding, nil):
            return binding.state == .bound ? binding : nil
        }
    }

    /// An instance as the registry shows it, with or without `creds`.
    func representation(_ instance: Instance, tenant: String, creds: Binding?, includeCreds: Bool) -> JSONValue {
        let offering = broker.catalog.offering(id: instance.offeringID)
        let plan = offering?.plans.first { $0.id == instance.planID }
        let providerID = instance.providerID.hasPrefix("\(tenant):") ? String(instance.providerID.dropFirst(tenant.count + 1)) : instance.providerID
        var members: [String: JSONValue] = [
            "id": .string(instance.id), "name": .string(instance.name), "type": .string(offering?.name ?? instance.offeringID),
            "offering": .string(offering?.name ?? instance.offeringID), "plan": .string(plan?.name ?? instance.planID),
            "provider": .string(providerID), "user": instance.user.map(JSONValue.string) ?? .null,
            "tags": .array(instance.tags.map(JSONValue.string)), "metadata": JSONValue(instance.metadata),
            "state": .string(instance.state.rawValue), "protocol": .string(instance.createdBy), "created_at": Self.milliseconds(instance.createdAt),
        ]
        if includeCreds {
            members["binding_id"] = creds.map { .string($0.id) } ?? .null
            members["creds"] = creds?.credentials.map { JSONValue($0.values) } ?? .null
        }
        return .object(members)
    }

    /// The instance a path names: this tenant's, not deleted.
    func namedInstance(_ context: some RequestContext) async throws -> InstanceAggregate {
        let name = context.pathParameter("name") ?? ""
        guard let aggregate = try await call({ () async throws(BrokerError) in try await broker.instance(.name(name)) }),
            aggregate.instance.tenant == tenant(context), aggregate.instance.state != .deleted
        else { throw RegistryError.notFound("Service", name) }
        return aggregate
    }

    /// POST …/services → 201 (ready, with `creds`), 202 (asynchronous plan), 200 (identical repeat)
    /// + `Location`; 400 bad input; 409 name taken; 502 provider failed; 503 no live provider.
    func createService(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let tenant = tenant(context)
        let members = try await Self.body(request)
        let type = try Self.string(members, "type")
        let offeringName = try Self.string(members, "offering")
        if let type, let offeringName, type != offeringName { throw RegistryError.badRequest("type and offering name different offerings") }
        guard let chosen = type ?? offeringName else {
            throw RegistryError.badRequest(
                "type (or offering) is required: /services provisions instances of an offering; providers register at /providers")
        }
        guard let offering = broker.catalog.offering(chosen) else { throw RegistryError.badRequest("unknown offering '\(chosen)'") }
        guard let planName = try Self.string(members, "plan"), let plan = offering.plan(planName) else {
            throw RegistryError.badRequest("plan is required: one of \(offering.plans.map(\.name).joined(separator: ", "))")
        }
        let name = try Self.string(members, "name")
        if let name, !(3...63).contains(name.count) || name.wholeMatch(of: /[a-z][a-z0-9-]*/) == nil {
            throw RegistryError.badRequest("name must be 3 to 63 characters of a-z 0-9 -, starting with a letter")
        }
        let user = try Self.string(members, "user")
        if let user, !(1...255).contains(user.count) { throw RegistryError.badRequest("user must be 1 to 255 characters") }
        var providerID: String?
        if let pinned = try Self.string(members, "provider") {
            guard let provider = try await visibleProvider(pinned, tenant: tenant), offering.providerSelector.matches(provider) else {
                throw RegistryError.badRequest("provider '\(pinned.prefix(65))' is not a provider of offering '\(offering.name)' here")
            }
            providerID = provider.id
        }
        let tags = try Self.tags(members) ?? []
        let metadata = try Self.metadata(members) ?? [:]
        let params = members["params"].flatMap { $0.isNull ? nil : $0 } ?? .emptyObject
        guard params.objectValue != nil else { throw RegistryError.badRequest("params must be an object") }
        let identity: JSONValue = [
            "user": user.map(JSONValue.string) ?? .null, "provider": providerID.map(JSONValue.string) ?? .null,
            "tags": .array(tags.map(JSONValue.string)), "metadata": JSONValue(metadata),
        ]
        let command = ProvisionCommand(
            name: name, offering: offering.id, plan: plan.id, tenant: tenant, parameters: params, identity: identity, tags: tags,
            metadata: metadata, user: user, providerID: providerID, acceptsIncomplete: true, origin: origin(context))
        let outcome = try await call { () async throws(BrokerError) in try await broker.provision(command) }
        var status: HTTPResponse.Status
        let instance: Instance
        switch outcome {
        case .created(let created):
            (status, instance) = (.created, created)
        case .accepted(let created, _):
            (status, instance) = (.accepted, created)
        case .alreadyExists(let existing, _):
            (status, instance) = (.ok, existing)
        }
        let creds = try await defaultCredentials(instance, context: context)
        var body = representation(instance, tenant: tenant, creds: creds, includeCreds: true).objectValue ?? [:]
        body["status"] = .int(Int64(status.code))
        return Self.json(status, .object(body), headers: [.location: Self.location(request, tenant: tenant, "services/\(instance.name)")])
    }

    /// GET …/services[?user=&provider=&tag=&type=] → 200 page by name (items without `creds`).
    func listServices(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let tenant = tenant(context)
        let pagination = try Pagination(request)
        var filter = InstanceFilter(tenant: tenant)
        for key in ["user", "provider", "tag", "type", "offering"] {
            if let value = request.query(key), value.isEmpty { throw RegistryError.badRequest("the \(key) filter must not be empty") }
        }
        filter.user = request.query("user")
        filter.tag = request.query("tag")
        if let provider = request.query("provider") {
            filter.providerID = try await visibleProvider(provider, tenant: tenant)?.id ?? Self.ledgerID(provider, tenant: tenant)
        }
        if let type = request.query("type") ?? request.query("offering") {
            filter.offeringID = broker.catalog.offering(type)?.id ?? "unknown:\(type)"
        }
        let finalFilter = filter
        let page = try await call { () async throws(BrokerError) in try await broker.instances(finalFilter, page: pagination.page) }
        let values = page.items.map { representation($0, tenant: tenant, creds: nil, includeCreds: false) }
        return Self.json(.ok, pagination.body(values, nextMarker: page.nextMarker, request: request))
    }

    /// GET …/services/:name → 200 instance with `creds`; 404.
    func getService(_ context: some RequestContext) async throws -> Response {
        let instance = try await namedInstance(context).instance
        let creds = try await defaultCredentials(instance, context: context)
        return Self.json(.ok, representation(instance, tenant: tenant(context), creds: creds, includeCreds: true))
    }

    /// PUT …/services/:name → 204 + `Location` (202 + instance while an asynchronous plan change runs);
    /// 400 bad fields or an offering/provider change; 404; 409 busy.
    func updateService(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let tenant = tenant(context)
        let instance = try await namedInstance(context).instance
        let members = try await Self.body(request)
        for key in ["type", "offering"] {
            if let given = try Self.string(members, key), broker.catalog.offering(given)?.id != instance.offeringID {
                throw RegistryError.badRequest("\(key) cannot change")
            }
        }
        if let given = try Self.string(members, "provider"), await ((try? visibleProvider(given, tenant: tenant))??.id) != instance.providerID {
            throw RegistryError.badRequest("provider cannot change")
        }
        let params = members["params"].flatMap { $0.isNull ? nil : $0 }
        if let params, params.objectValue == nil { throw RegistryError.badRequest("params must be an object") }
        let command = UpdateCommand(
            instance: .id(instance.id), plan: try Self.string(members, "plan"), parameters: params, tags: try Self.tags(members),
            metadata: try Self.metadata(members), user: try Self.string(members, "user"), acceptsIncomplete: true, origin: origin(context))
        let outcome = try await call { () async throws(BrokerError) in try await broker.update(command) }
        if case .accepted(let updating, _) = outcome {
            return Self.json(
                .accepted, representation(updating, tenant: tenant, creds: nil, includeCreds: false),
                headers: [.location: Self.location(request, tenant: tenant, "services/\(instance.name)")])
        }
        return Response(status: .noContent, headers: [.location: Self.location(request, tenant: tenant, "services/\(instance.name)")])
    }

    /// DELETE …/services/:name → 204 (bindings and backend resource gone), 202 while an asynchronous
    /// plan deprovisions; 404; 409 busy.
    func deleteService(_ context: some RequestContext) async throws -> Response {
        let instance = try await namedInstance(context).instance
        let command = DeprovisionCommand(instance: .id(instance.id), removeBindings: true, acceptsIncomplete: true, origin: origin(context))
        let outcome = try await call { () async throws(BrokerError) in try await broker.deprovision(command) }
        if case .accepted(let deprovisioning, _) = outcome {
            return Self.json(.accepted, representation(deprovisioning, tenant: tenant(context), creds: nil, includeCreds: false))
        }
        return Response(status: .noContent)
    }

    /// POST …/services/:name/bindings → 201 + `Location` + `{"id", "state", "creds"}`; 404; 409 busy.
    func createBinding(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let instance = try await namedInstance(context).instance
        let members = try await Self.body(request, required: false)
        let params = members["params"].flatMap { $0.isNull ? nil : $0 } ?? .emptyObject
        guard params.objectValue != nil else { throw RegistryError.badRequest("params must be an object") }
        guard let binding = try await bound(BindCommand(instance: .id(instance.id), parameters: params, acceptsIncomplete: true, origin: origin(context))) else {
            throw RegistryError(.conflict, "concurrencyError", "Another operation is running", details: "the binding is not ready")
        }
        return Self.json(
            .created, ["id": .string(binding.id), "state": .string(binding.state.rawValue), "creds": JSONValue(binding.credentials?.values ?? [:])],
            headers: [.location: Self.location(request, tenant: tenant(context), "services/\(instance.name)/bindings/\(binding.id)")])
    }

    /// GET …/services/:name/bindings → 200 page of `{id, protocol, state, created_at}` (bindings made
    /// through any front-end, no credentials).
    func listBindings(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let instance = try await namedInstance(context).instance
        let pagination = try Pagination(request)
        let page = try await call { () async throws(BrokerError) in
            try await broker.bindings(BindingFilter(instanceID: instance.id), page: pagination.page)
        }
        let values: [JSONValue] = page.items.map {
            ["id": .string($0.id), "protocol": .string($0.createdBy), "state": .string($0.state.rawValue), "created_at": Self.milliseconds($0.createdAt)]
        }
        return Self.json(.ok, pagination.body(values, nextMarker: page.nextMarker, request: request))
    }

    func namedBinding(_ context: some RequestContext) async throws -> Binding {
        let instance = try await namedInstance(context).instance
        let id = context.pathParameter("id") ?? ""
        guard let binding = try await call({ () async throws(BrokerError) in try await broker.binding(id: id) }),
            binding.instanceID == instance.id, binding.state != .deleted
        else { throw RegistryError.notFound("Binding", id) }
        return binding
    }

    /// GET …/services/:name/bindings/:id → 200 `{"id", "state", "creds"}` (a binding made anywhere); 404 once unbound.
    func getBinding(_ context: some RequestContext) async throws -> Response {
        let binding = try await namedBinding(context)
        return Self.json(
            .ok, ["id": .string(binding.id), "state": .string(binding.state.rawValue), "creds": binding.credentials.map { JSONValue($0.values) } ?? .null])
    }

    /// DELETE …/services/:name/bindings/:id → 204; 404; 409 busy.
    func deleteBinding(_ context: some RequestContext) async throws -> Response {
        let binding = try await namedBinding(context)
        let outcome = try await call { () async throws(BrokerError) in
            try await broker.unbind(UnbindCommand(binding: .id(binding.id), acceptsIncomplete: true, origin: origin(context)))
        }
        if case .accepted(_, let running) = outcome {
            _ = try await call { () async throws(BrokerError) in try await broker.awaitOperation(running.id, timeout: .seconds(configuration.waitSeconds)) }
        }
        return Response(status: .noContent)
    }
}

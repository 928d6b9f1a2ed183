import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

extension RegistryFrontEnd {
    func mountProviders<Context: RequestContext>(on tenant: RouterGroup<Context>) {
        tenant.post("providers") { request, context in try await createProvider(request, context) }
        tenant.get("providers") { request, context in try await listProviders(request, context) }
        tenant.get("providers/:id") { _, context in try await getProvider(context) }
        tenant.put("providers/:id") { request, context in try await updateProvider(request, context) }
        tenant.delete("providers/:id") { request, context in try await deleteProvider(request, context) }
    }

    /// The metadata key that records the offering a registry provider declared (`type`).
    static let offeringKey = "polybroker.offering"

    /// Registry provider ids are per tenant: the ledger keeps them as `<tenant>:<id>`.
    static func ledgerID(_ id: String, tenant: String) -> String { "\(tenant):\(id)" }

    /// The id a tenant sees.
    static func displayID(_ provider: Provider, tenant: String) -> String {
        provider.id.hasPrefix("\(tenant):") ? String(provider.id.dropFirst(tenant.count + 1)) : provider.id
    }

    /// The provider a tenant names: its own, or a configured (or platform-wide) one.
    func visibleProvider(_ id: String, tenant: String) async throws -> Provider? {
        for candidate in [Self.ledgerID(id, tenant: tenant), id] {
            if let provider = try await call({ () async throws(BrokerError) in try await broker.provider(id: candidate) }),
                provider.removedAt == nil, provider.tenant == nil || provider.tenant == tenant
            {
                return provider
            }
        }
        return nil
    }

    /// A provider as the registry shows it; secret params read `"********"`.
    func representation(_ provider: Provider, tenant: String) async throws -> JSONValue {
        let secrets = broker.pluginKinds.factory(for: provider.kind)?.secretParams ?? []
        var params = provider.params.objectValue ?? [:]
        for key in secrets where params[key] != nil {
            params[key] = params[key]?.objectValue.map { .object($0.mapValues { _ in "********" }) } ?? "********"
        }
        var metadata = provider.metadata
        let declared = metadata.removeValue(forKey: Self.offeringKey)
        let type = declared ?? broker.catalog.offerings.first { $0.providerSelector.kind == provider.kind }?.name
        let held = try await call { () async throws(BrokerError) in try await broker.instances(InstanceFilter(providerID: provider.id), page: .all) }
        return [
            "id": .string(Self.displayID(provider, tenant: tenant)), "name": .string(provider.name), "kind": .string(provider.kind),
            "type": type.map(JSONValue.string) ?? .null, "params": .object(params), "tags": .array(provider.tags.map(JSONValue.string)),
            "metadata": JSONValue(metadata), "session_id": provider.sessionID.map(JSONValue.string) ?? .null,
            "status": .string(provider.status.rawValue), "source": .string(provider.source == .config ? "config" : "registry"),
            "instances": .int(Int64(held.items.count)),
        ]
    }

    /// A live session of the tenant, else 400.
    func attachableSession(_ id: String, tenant: String) async throws -> String {
        guard try await call({ () async throws(BrokerError) in try await broker.session(id: id, tenant: tenant) }) != nil else {
            throw RegistryError.badRequest("session_id '\(id.prefix(64))' is not a live session of this tenant")
        }
        return id
    }

    /// POST …/providers → 201 + `Location` + provider; 400 bad kind, type, id, tags, metadata, params or
    /// session; 409 id taken; 502 backend unreachable.
    func createProvider(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let tenant = tenant(context)
        let members = try await Self.body(request)
        guard let kind = try Self.string(members, "kind"), broker.pluginKinds.factory(for: kind) != nil else {
            throw RegistryError.badRequest("kind is required: one of \(broker.pluginKinds.kinds.joined(separator: ", "))")
        }
        let type = try Self.string(members, "type")
        let offeringName = try Self.string(members, "offering")
        if let type, let offeringName, type != offeringName { throw RegistryError.badRequest("type and offering name different offerings") }
        guard let name = type ?? offeringName, let offering = broker.catalog.offering(name) else {
            throw RegistryError.badRequest("type (or offering) is required: the name of an offering in GET /offerings")
        }
        guard offering.providerSelector.kind == kind else {
            throw RegistryError.badRequest("offering '\(offering.name)' is served by \(offering.providerSelector.kind) providers, not \(kind)")
        }
        let id = try Self.string(members, "id") ?? "\(kind)-\(UUID().uuidString.lowercased().prefix(8))"
        guard (3...65).contains(id.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) else {
            throw RegistryError.badRequest("id must be 3 to 65 characters of A-Z a-z 0-9 _ . -")
        }
        if let configured = try await call({ () async throws(BrokerError) in try await broker.provider(id: id) }), configured.source == .config {
            throw RegistryError(.conflict, "conflictError", "Conflict", details: "the id '\(id)' belongs to a configured provider")
        }
        let params = members["params"].flatMap { $0.isNull ? nil : $0 } ?? .emptyObject
        guard params.objectValue != nil else { throw RegistryError.badRequest("params must be an object") }
        var metadata = try Self.metadata(members) ?? [:]
        metadata[Self.offeringKey] = offering.name
        var sessionID: String?
        if let given = try Self.string(members, "session_id") { sessionID = try await attachableSession(given, tenant: tenant) }
        let now = Date()
        let provider = Provider(
            id: Self.ledgerID(id, tenant: tenant), name: try Self.string(members, "name") ?? "\(tenant)/\(id)", kind: kind, params: params,
            tags: try Self.tags(members) ?? [], metadata: metadata, tenant: tenant, sessionID: sessionID, source: .registry,
            createdAt: now, updatedAt: now)
        let outcome = try await call { () async throws(BrokerError) in try await broker.registerProvider(provider, origin: origin(context)) }
        guard case .created(let saved) = outcome else {
            throw RegistryError(.conflict, "conflictError", "Conflict", details: "provider '\(id)' already exists")
        }
        return Self.json(
            .created, try await representation(saved, tenant: tenant),
            headers: [.location: Self.location(request, tenant: tenant, "providers/\(id)")])
    }

    /// GET …/providers[?tag=] → 200 page, sorted by id.
    func listProviders(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let tenant = tenant(context)
        let pagination = try Pagination(request)
        let tag = request.query("tag")
        if let tag, tag.isEmpty || tag.count > 55 { throw RegistryError.badRequest("tag must be 1 to 55 characters") }
        let all = try await call { () async throws(BrokerError) in
            try await broker.providers(ProviderFilter(tenant: tenant, tag: tag), page: .all)
        }
        let sorted = all.items.sorted { Self.displayID($0, tenant: tenant) < Self.displayID($1, tenant: tenant) }
        let from = sorted.filter { pagination.marker == nil || Self.displayID($0, tenant: tenant) >= pagination.marker! }
        let page = Array(from.prefix(pagination.limit))
        let next = from.count > pagination.limit ? Self.displayID(from[pagination.limit], tenant: tenant) : nil
        var values: [JSONValue] = []
        for provider in page { values.append(try await representation(provider, tenant: tenant)) }
        return Self.json(.ok, pagination.body(values, nextMarker: next, request: request))
    }

    func namedProvider(_ context: some RequestContext) async throws -> Provider {
        let id = context.pathParameter("id") ?? ""
        guard let provider = try await visibleProvider(id, tenant: tenant(context)) else { throw RegistryError.notFound("Provider", id) }
        return provider
    }

    /// GET …/providers/:id → 200 provider; 404.
    func getProvider(_ context: some RequestContext) async throws -> Response {
        Self.json(.ok, try await representation(try await namedProvider(context), tenant: tenant(context)))
    }

    /// PUT …/providers/:id → 204 + `Location`; 400 bad fields or a kind/type change; 403 configured; 404.
    func updateProvider(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let tenant = tenant(context)
        let provider = try await namedProvider(context)
        guard provider.source != .config else { throw RegistryError(.forbidden, "forbiddenError", "Forbidden", details: "configured providers are read-only") }
        let members = try await Self.body(request)
        if let kind = try Self.string(members, "kind"), kind != provider.kind { throw RegistryError.badRequest("kind cannot change") }
        for key in ["type", "offering"] {
            if let given = try Self.string(members, key), given != provider.metadata[Self.offeringKey] { throw RegistryError.badRequest("\(key) cannot change") }
        }
        let name = try Self.string(members, "name")
        let tags = try Self.tags(members)
        let metadata = try Self.metadata(members)
        let params = members["params"].flatMap { $0.isNull ? nil : $0 }
        if let params, params.objectValue == nil { throw RegistryError.badRequest("params must be an object") }
        var session: String??
        if let value = members["session_id"] {
            if value.isNull { session = .some(nil) } else if let id = value.stringValue { session = .some(try await attachableSession(id, tenant: tenant)) } else {
                throw RegistryError.badRequest("session_id must be a string or null")
            }
        }
        let offering = provider.metadata[Self.offeringKey]
        let attach = session
        _ = try await call { () async throws(BrokerError) in
            try await broker.updateProvider(id: provider.id, origin: origin(context)) { (changed: inout Provider) throws(BrokerError) in
                if let name { changed.name = name }
                if let tags { changed.tags = tags }
                if var metadata {
                    metadata[Self.offeringKey] = offering
                    changed.metadata = metadata
                }
                if let params { changed.params = params }
                if let attach {
                    changed.sessionID = attach
                    changed.status = .online
                    changed.statusReason = nil
                }
            }
        }
        return Response(status: .noContent, headers: [.location: Self.location(request, tenant: tenant, "providers/\(Self.displayID(provider, tenant: tenant))")])
    }

    /// DELETE …/providers/:id → 200 `{"id", "instances": [{"name", "state"}]}` after deprovisioning what it held;
    /// 403 configured; 404.
    func deleteProvider(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let tenant = tenant(context)
        let provider = try await namedProvider(context)
        guard provider.source != .config else { throw RegistryError(.forbidden, "forbiddenError", "Forbidden", details: "configured providers are read-only") }
        let (_, instances) = try await call { () async throws(BrokerError) in
            try await broker.removeProvider(id: provider.id, deprovisionInstances: true, origin: origin(context))
        }
        return Self.json(
            .ok,
            [
                "id": .string(Self.displayID(provider, tenant: tenant)),
                "instances": .array(instances.map { ["name": .string($0.name), "state": .string($0.state.rawValue)] }),
            ])
    }
}

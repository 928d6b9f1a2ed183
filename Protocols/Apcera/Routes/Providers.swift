import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

extension ApceraFrontEnd {
    /// Apcera's type names that mean a Polybroker kind.
    static let kindAliases = ["postgres": "postgresql", "generic": "static"]

    /// POST /apcera/providers → 200 `{id, name, description, type}` with `X-Provider-State`;
    /// 400 bad type, params or name; 409 name or id taken; 502 backend unreachable.
    func createProvider(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try verifyAllStates(request)
        let members = try await Self.body(request, required: true)
        let name = try Self.checked(Self.string(members, "name"), "name", pattern: Self.namePattern)
        let description = try Self.string(members, "description") ?? ""
        let id = try Self.checked(Self.string(members, "id"), "id", pattern: Self.idPattern) ?? UUID().uuidString.lowercased()
        guard let type = try Self.string(members, "type"), !type.isEmpty else { throw ApceraError.badRequest("type is required: a provider kind such as sqlite or static") }
        let kind = Self.kindAliases[type] ?? type
        guard broker.pluginKinds.factory(for: kind) != nil else {
            throw ApceraError.badRequest("unknown provider type '\(type)' (installed: \(broker.pluginKinds.kinds.joined(separator: ", ")))")
        }
        let params = try pluginParams(kind: kind, Self.object(members, "params"))
        let now = Date()
        let provider = Provider(
            id: id, name: name ?? "\(kind)-\(UUID().uuidString.lowercased().prefix(8))", kind: kind, params: params,
            metadata: description.isEmpty ? [:] : ["description": description], tenant: configuration.tenant, source: .apcera,
            createdAt: now, updatedAt: now)
        let header = try providerState(provider, type: type)
        let registered = try await call(.createProvider) { () async throws(BrokerError) in
            try await broker.registerProvider(provider, origin: origin(context))
        }
        let saved: Provider
        switch registered {
        case .created(let provider), .alreadyExists(let provider): saved = provider
        }
        return JSONResponse.make(
            .ok, ["id": .string(saved.id), "name": .string(saved.name), "description": .string(description), "type": .string(type)],
            headers: [Self.providerStateHeader: header])
    }

    /// The plugin's own params from Apcera's: `static` returns `url` as `uri` plus every other
    /// string param as a credential field; other kinds take the params as they come.
    func pluginParams(kind: String, _ params: [String: JSONValue]) throws -> JSONValue {
        guard kind == "static" else { return .object(params) }
        guard let url = params["url"]?.stringValue, !url.isEmpty else {
            throw ApceraError.badRequest("params.url is required for a \(kind) provider: the URL every binding gets")
        }
        var credentials: [String: JSONValue] = ["uri": .string(url)]
        for (key, value) in params where key != "url" {
            guard let string = value.stringValue else { throw ApceraError.badRequest("params.\(key) must be a string") }
            credentials[key] = .string(string)
        }
        return ["credentials": .object(credentials)]
    }

    /// The `X-Provider-State` of a provider; 400 when it would pass 4096 characters.
    func providerState(_ provider: Provider, type: String? = nil) throws -> String {
        let header = try state.encode(
            .provider, id: provider.id,
            fields: ["name": .string(provider.name), "type": .string(type ?? provider.kind), "kind": .string(provider.kind)],
            secret: ["params": provider.params, "description": .string(provider.metadata["description"] ?? "")])
        guard header.count <= StateCodec.maximumLength else {
            throw ApceraError.badRequest("the provider's state would pass 4096 characters: send fewer or shorter params")
        }
        return header
    }

    /// The provider named by a request: from the ledger, else rebuilt from valid state; a removed one is 404.
    func provider(_ id: String, state decoded: StateCodec.Decoded?, context: some RequestContext) async throws -> Provider {
        if let known = try await call(.createService, { () async throws(BrokerError) in try await broker.provider(id: id) }) {
            guard known.removedAt == nil, known.tenant == nil || known.tenant == configuration.tenant else {
                throw ApceraError.notFound("provider '\(id)' not found")
            }
            return known
        }
        guard let decoded, decoded.id == id, let kind = decoded.string("kind"), let name = decoded.string("name") else {
            throw ApceraError.notFound("provider '\(id)' not found")
        }
        let description = decoded.secret["description"]?.stringValue ?? ""
        let now = Date()
        let rebuilt = Provider(
            id: id, name: name, kind: kind, params: decoded.secret["params"] ?? .emptyObject,
            metadata: description.isEmpty ? [:] : ["description": description], tenant: configuration.tenant, source: .apcera,
            createdAt: now, updatedAt: now)
        let outcome = try await call(.createService) { () async throws(BrokerError) in try await broker.restore(provider: rebuilt, origin: origin(context)) }
        switch outcome {
        case .known(let provider), .rebuilt(let provider): return provider
        }
    }

    /// DELETE /apcera/providers/:id → 200 `{id, name}`; 404 unknown or already deleted; 409 services remain
    /// (unless `force_provider_delete`) or the provider comes from the configuration file.
    func deleteProvider(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try verifyAllStates(request)
        let id = context.pathParameter("id") ?? ""
        let decoded = try verified(request, Self.providerStateHeader, as: .provider, id: id)
        _ = try await Self.deleteBody(request, id: id)
        _ = try await provider(id, state: decoded, context: context)
        let (removed, _) = try await call(.deleteProvider) { () async throws(BrokerError) in
            try await broker.removeProvider(id: id, deprovisionInstances: configuration.forceProviderDelete, origin: origin(context))
        }
        return JSONResponse.make(.ok, ["id": .string(removed.id), "name": .string(removed.name)])
    }
}

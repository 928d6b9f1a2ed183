import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

extension RegistryFrontEnd {
    func mountCatalog<Context: RequestContext>(on tenant: RouterGroup<Context>) {
        tenant.get("offerings") { request, context in try await listOfferings(request, context) }
        tenant.get("offerings/:name") { _, context in try await getOffering(context) }
        tenant.get("events") { request, context in try await events(request, context) }
    }

    /// Event payloads name providers by the ids this tenant uses (the ledger keeps `<tenant>:<id>`).
    static func tenantView(_ value: JSONValue, tenant: String) -> JSONValue {
        switch value {
        case .string(let text) where text.hasPrefix("\(tenant):"):
            return .string(String(text.dropFirst(tenant.count + 1)))
        case .object(let members):
            return .object(members.mapValues { tenantView($0, tenant: tenant) })
        case .array(let items):
            return .array(items.map { tenantView($0, tenant: tenant) })
        default:
            return value
        }
    }

    func representation(_ offering: Offering, tenant: String) async throws -> JSONValue {
        let providers = try await call { () async throws(BrokerError) in
            try await broker.providers(ProviderFilter(kind: offering.providerSelector.kind, tenant: tenant), page: .all)
        }.items.filter(offering.providerSelector.matches)
        return [
            "name": .string(offering.name), "id": .string(offering.id), "description": .string(offering.description),
            "bindable": .bool(offering.bindable), "tags": .array(offering.tags.map(JSONValue.string)),
            "plans": .array(offering.plans.map {
                ["name": .string($0.name), "id": .string($0.id), "description": .string($0.description), "free": .bool($0.free), "async": .bool($0.isAsynchronous)]
            }),
            "providers": [
                "online": .int(Int64(providers.filter { $0.status == .online }.count)),
                "offline": .int(Int64(providers.filter { $0.status == .offline }.count)),
            ],
        ]
    }

    /// GET …/offerings → 200 page by name.
    func listOfferings(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let pagination = try Pagination(request)
        let sorted = broker.catalog.offerings.sorted { $0.name < $1.name }.filter { pagination.marker == nil || $0.name >= pagination.marker! }
        var values: [JSONValue] = []
        for offering in sorted.prefix(pagination.limit) { values.append(try await representation(offering, tenant: tenant(context))) }
        let next = sorted.count > pagination.limit ? sorted[pagination.limit].name : nil
        return Self.json(.ok, pagination.body(values, nextMarker: next, request: request))
    }

    /// GET …/offerings/:name → 200 offering; 404.
    func getOffering(_ context: some RequestContext) async throws -> Response {
        let name = context.pathParameter("name") ?? ""
        guard let offering = broker.catalog.offerings.first(where: { $0.name == name }) else { throw RegistryError.notFound("Offering", name) }
        return Self.json(.ok, try await representation(offering, tenant: tenant(context)))
    }

    /// GET …/events[?marker=&limit=&type=] → 200 page of `{id, timestamp, type, protocol, payload}` from the
    /// oldest (or the marker, inclusive); 400 unknown type or non-numeric marker.
    func events(_ request: Request, _ context: some RequestContext) async throws -> Response {
        if let marker = request.query("marker"), !marker.isEmpty, !marker.allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw RegistryError.badRequest("marker must be an event id (a decimal number)")
        }
        let pagination = try Pagination(request)
        let type = request.query("type").flatMap { $0.isEmpty ? nil : $0 }
        if let type, !EventType.all.contains(type) {
            throw RegistryError.badRequest("unknown event type '\(type.prefix(64))': one of \(EventType.all.joined(separator: ", "))")
        }
        let page = try await call { () async throws(BrokerError) in
            try await broker.events(EventFilter(tenant: tenant(context), type: type), page: pagination.page)
        }
        let values: [JSONValue] = page.items.map {
            [
                "id": .string(String($0.sequence)), "timestamp": Self.milliseconds($0.timestamp), "type": .string($0.type),
                "protocol": .string($0.protocolName), "payload": Self.tenantView($0.payload, tenant: tenant(context)),
            ]
        }
        return Self.json(.ok, pagination.body(values, nextMarker: page.nextMarker, request: request))
    }
}

import BrokerCore
import Foundation
import NIOHTTP1

extension OSBCases {
    /// The catalog's services, or a failure.
    func catalogServices() throws -> [JSONValue] {
        let reply = context.catalogReply
        try reply.expect(200)
        guard let services = reply["services"]?.arrayValue else { throw CaseFailure("\(reply.request): no `services` array: \(reply.summary)") }
        return services
    }

    /// Every plan with the name of its service.
    func catalogPlans() throws -> [(service: String, plan: JSONValue)] {
        try catalogServices().flatMap { service in
            (service["plans"]?.arrayValue ?? []).map { (service["name"]?.stringValue ?? "?", $0) }
        }
    }

    static func nonEmptyString(_ value: JSONValue?) -> Bool { value?.stringValue?.isEmpty == false }

    var catalog: [ConformanceCase] {
        let ctx = context
        return [
            ConformanceCase("C1", "GET /v2/catalog → 200 {\"services\": [...]}, not empty (Cloud Foundry refuses an empty catalog)") { _ in
                let services = try catalogServices()
                try ensure(ctx.catalogReply.mediaType == "application/json", "Content-Type is \(ctx.catalogReply.header("Content-Type") ?? "missing")")
                try ensure(!services.isEmpty, "the catalog has no service")
            },
            ConformanceCase("C2", "each service has name, id, description (non-empty), bindable, plans (≥ 1)") { _ in
                for service in try catalogServices() {
                    let label = service["name"]?.stringValue ?? service.canonicalText().prefix(60).description
                    for key in ["name", "id", "description"] {
                        try ensure(Self.nonEmptyString(service[key]), "service \(label): `\(key)` must be a non-empty string")
                    }
                    try ensure(service["bindable"]?.boolValue != nil, "service \(label): `bindable` must be a boolean")
                    try ensure((service["plans"]?.arrayValue?.count ?? 0) >= 1, "service \(label): needs at least one plan")
                }
            },
            ConformanceCase("C3", "service and plan ids non-empty, unique, and the same on every call") { _ in
                let services = try catalogServices()
                let ids = services.compactMap { $0["id"]?.stringValue } + (try catalogPlans()).compactMap { $0.plan["id"]?.stringValue }
                try ensure(ids.allSatisfy { !$0.isEmpty }, "an id is empty")
                try ensure(Set(ids).count == ids.count, "ids are not unique: \(ids.filter { id in ids.filter { $0 == id }.count > 1 }.first ?? "")")
                let again = try await ctx.client.get("/v2/catalog").expect(200)
                let later = (again["services"]?.arrayValue ?? []).flatMap { service in
                    [service["id"]?.stringValue] + (service["plans"]?.arrayValue ?? []).map { $0["id"]?.stringValue }
                }.compactMap { $0 }
                try ensure(Set(later) == Set(ids), "the ids changed between two GET /v2/catalog")
            },
            ConformanceCase("C4", "service names unique and lower-case-hyphen (^[a-z0-9-]+$, both checkers)") { _ in
                let names = try catalogServices().compactMap { $0["name"]?.stringValue }
                try ensure(Set(names).count == names.count, "service names are not unique")
                for name in names { try ensure(name.wholeMatch(of: /[a-z0-9-]+/) != nil, "service name '\(name)' is not lower-case letters, digits and hyphens") }
            },
            ConformanceCase("C5", "optional service fields have their types (tags, requires, booleans, metadata, dashboard_client)") { _ in
                for service in try catalogServices() {
                    let label = service["name"]?.stringValue ?? "?"
                    if let tags = service["tags"] {
                        let strings = tags.arrayValue?.compactMap(\.stringValue)
                        try ensure(strings != nil && strings?.count == tags.arrayValue?.count, "service \(label): tags must be strings")
                        try ensure((strings ?? []).joined().count <= 2048, "service \(label): tags exceed 2048 characters (Cloud Foundry)")
                    }
                    if let requires = service["requires"] {
                        let allowed: Set<String> = ["syslog_drain", "route_forwarding", "volume_mount"]
                        try ensure(requires.arrayValue?.allSatisfy { allowed.contains($0.stringValue ?? "") } == true, "service \(label): requires \(requires.canonicalText()) is not a subset of \(allowed.sorted())")
                    }
                    for key in ["instances_retrievable", "bindings_retrievable", "allow_context_updates", "plan_updateable"] {
                        if let value = service[key] { try ensure(value.boolValue != nil, "service \(label): \(key) must be a boolean") }
                    }
                    if let metadata = service["metadata"] { try ensure(metadata.objectValue != nil, "service \(label): metadata must be an object") }
                    if let client = service["dashboard_client"] {
                        try ensure(["id", "secret", "redirect_uri"].allSatisfy { Self.nonEmptyString(client[$0]) }, "service \(label): dashboard_client needs id, secret and redirect_uri")
                    }
                }
            },
            ConformanceCase("C6", "each plan has id, name (unique in its service), description; optional fields typed") { _ in
                for service in try catalogServices() {
                    let label = service["name"]?.stringValue ?? "?"
                    let plans = service["plans"]?.arrayValue ?? []
                    let names = plans.compactMap { $0["name"]?.stringValue }
                    try ensure(Set(names).count == names.count, "service \(label): plan names are not unique")
                    for plan in plans {
                        let planLabel = "\(label)/\(plan["name"]?.stringValue ?? "?")"
                        for key in ["id", "name", "description"] { try ensure(Self.nonEmptyString(plan[key]), "plan \(planLabel): `\(key)` must be a non-empty string") }
                        for key in ["free", "bindable", "plan_updateable", "binding_rotatable"] {
                            if let value = plan[key] { try ensure(value.boolValue != nil, "plan \(planLabel): \(key) must be a boolean") }
                        }
                        if let value = plan["maximum_polling_duration"] { try ensure(value.integerValue != nil, "plan \(planLabel): maximum_polling_duration must be an integer") }
                        if let value = plan["metadata"] { try ensure(value.objectValue != nil, "plan \(planLabel): metadata must be an object") }
                    }
                }
            },
            ConformanceCase("C7", "plan schemas: objects with $schema, at most 64 KB") { scope in
                var seen = 0
                for (service, plan) in try catalogPlans() {
                    guard let schemas = plan["schemas"] else { continue }
                    let label = "\(service)/\(plan["name"]?.stringValue ?? "?")"
                    try ensure(schemas.objectValue != nil, "plan \(label): schemas must be an object")
                    for path in [["service_instance", "create"], ["service_instance", "update"], ["service_binding", "create"]] {
                        guard let schema = schemas[path[0]]?[path[1]]?["parameters"] else { continue }
                        seen += 1
                        try ensure(schema.objectValue != nil, "plan \(label): \(path.joined(separator: ".")).parameters must be an object")
                        try ensure(Self.nonEmptyString(schema["$schema"]), "plan \(label): \(path.joined(separator: ".")).parameters has no $schema (Cloud Foundry refuses it)")
                        try ensure(schema.canonicalText().utf8.count <= 65536, "plan \(label): a schema is over 64 KB")
                    }
                }
                if seen == 0 { scope.note("no plan has schemas") }
            },
            ConformanceCase("C8", "maintenance_info: version is semver, only version and description") { scope in
                var seen = 0
                for (service, plan) in try catalogPlans() {
                    guard let info = plan["maintenance_info"] else { continue }
                    seen += 1
                    let label = "\(service)/\(plan["name"]?.stringValue ?? "?")"
                    let version = info["version"]?.stringValue ?? ""
                    try ensure(version.wholeMatch(of: /(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?/) != nil, "plan \(label): maintenance_info.version '\(version)' is not semver")
                    try ensure(Set(info.objectValue?.keys.map { $0 } ?? []).isSubset(of: ["version", "description"]), "plan \(label): maintenance_info may hold only version and description")
                }
                if seen == 0 { scope.note("no plan has maintenance_info") }
            },
            ConformanceCase("C9", "catalog caching (MAY): an ETag is honoured with 304") { scope in
                guard let etag = ctx.catalogReply.header("ETag") else {
                    scope.note("no ETag offered")
                    return
                }
                try await ctx.client.get("/v2/catalog", headers: [("If-None-Match", etag)]).expect(304)
            },
            ConformanceCase("C10", "lengths: names and ids ≤ 255 (recommended), descriptions ≤ 10000 (Cloud Foundry)") { _ in
                for service in try catalogServices() {
                    let objects = [service] + (service["plans"]?.arrayValue ?? [])
                    for object in objects {
                        for key in ["id", "name"] { try ensure((object[key]?.stringValue?.count ?? 0) <= 255, "\(key) '\(object[key]?.stringValue?.prefix(40) ?? "")…' is over 255 characters") }
                        try ensure((object["description"]?.stringValue?.count ?? 0) <= 10000, "a description is over 10000 characters")
                    }
                }
            },
        ]
    }
}

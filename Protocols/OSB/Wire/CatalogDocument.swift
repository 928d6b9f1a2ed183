import BrokerCore
import Foundation
import FrontEndSupport

/// The `GET /v2/catalog` body, rendered once, with its ETag.
struct CatalogDocument: Sendable {
    let body: JSONValue
    /// The encoded body, made once: the catalog never changes while the server runs.
    let bytes: Data
    let etag: String

    init(_ catalog: Catalog, compat215: Bool) {
        body = ["services": .array(catalog.offerings.map { Self.service($0, compat215: compat215) })]
        bytes = JSONResponse.encode(body)
        etag = "\"\(sha256Hex(bytes).prefix(32))\""
    }

    static func service(_ offering: Offering, compat215: Bool) -> JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(offering.id), "name": .string(offering.name), "description": .string(offering.description),
            "bindable": .bool(offering.bindable), "plan_updateable": .bool(offering.planUpdateable),
            "instances_retrievable": .bool(offering.instancesRetrievable), "bindings_retrievable": .bool(offering.bindingsRetrievable),
            "allow_context_updates": .bool(offering.allowContextUpdates),
            "plans": .array(offering.plans.map { plan(offering, $0, compat215: compat215) }),
        ]
        if !offering.tags.isEmpty { members["tags"] = .array(offering.tags.map(JSONValue.string)) }
        if let metadata = offering.metadata { members["metadata"] = metadata }
        return .object(members)
    }

    static func plan(_ offering: Offering, _ plan: Plan, compat215: Bool) -> JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(plan.id), "name": .string(plan.name), "description": .string(plan.description), "free": .bool(plan.free),
        ]
        if let bindable = plan.bindable { members["bindable"] = .bool(bindable) }
        if let updateable = plan.planUpdateable { members["plan_updateable"] = .bool(updateable) }
        if let info = plan.maintenanceInfo {
            var object: [String: JSONValue] = ["version": .string(info.version)]
            if let description = info.description { object["description"] = .string(description) }
            members["maintenance_info"] = .object(object)
        }
        if let seconds = plan.maximumPollingDuration { members["maximum_polling_duration"] = .int(Int64(seconds)) }
        if !plan.schemas.isEmpty {
            var instance: [String: JSONValue] = [:]
            if let create = plan.schemas.instanceCreate { instance["create"] = ["parameters": create] }
            if let update = plan.schemas.instanceUpdate { instance["update"] = ["parameters": update] }
            var schemas: [String: JSONValue] = [:]
            if !instance.isEmpty { schemas["service_instance"] = .object(instance) }
            if let bind = plan.schemas.bindingCreate { schemas["service_binding"] = ["create": ["parameters": bind]] }
            members["schemas"] = .object(schemas)
        }
        if !compat215 {
            if let metadata = plan.metadata { members["metadata"] = metadata }
            members["binding_rotatable"] = .bool(plan.bindingRotatable)
        }
        return .object(members)
    }

    /// The Cloud Controller's catalog rules (osb.md §4.1), as problems.
    static func problems(in catalog: Catalog) -> [String] {
        var problems: [String] = []
        if catalog.offerings.isEmpty { problems.append("the catalog must provide at least one service (Cloud Foundry refuses an empty one)") }
        var ids: Set<String> = []
        var names: Set<String> = []
        for offering in catalog.offerings {
            let label = "offering '\(offering.name)'"
            if !ids.insert(offering.id).inserted { problems.append("\(label): id '\(offering.id)' is not unique") }
            if !names.insert(offering.name).inserted { problems.append("\(label): name is not unique") }
            if offering.description.isEmpty { problems.append("\(label): description must not be empty") }
            if offering.description.count > 10_000 { problems.append("\(label): description is longer than 10000 characters") }
            if offering.tags.joined().count > 2048 { problems.append("\(label): tags are longer than 2048 characters together") }
            if offering.plans.isEmpty { problems.append("\(label): needs at least one plan") }
            var planNames: Set<String> = []
            for plan in offering.plans {
                let planLabel = "plan '\(offering.name)/\(plan.name)'"
                if !ids.insert(plan.id).inserted { problems.append("\(planLabel): id '\(plan.id)' is not unique") }
                if !planNames.insert(plan.name).inserted { problems.append("\(planLabel): name is not unique in its offering") }
                if plan.description.isEmpty { problems.append("\(planLabel): description must not be empty") }
                if plan.description.count > 10_000 { problems.append("\(planLabel): description is longer than 10000 characters") }
                for schema in [plan.schemas.instanceCreate, plan.schemas.instanceUpdate, plan.schemas.bindingCreate].compactMap({ $0 }) {
                    if schema["$schema"] == nil { problems.append("\(planLabel): every schema needs \"$schema\"") }
                    if JSONResponse.encode(schema).count > 65_536 { problems.append("\(planLabel): a schema is larger than 64 KB") }
                }
                if let info = plan.maintenanceInfo, JSONResponse.encode(["version": .string(info.version), "description": .string(info.description ?? "")]).count > 2000 {
                    problems.append("\(planLabel): maintenance_info is longer than 2000 characters")
                }
            }
        }
        return problems
    }
}

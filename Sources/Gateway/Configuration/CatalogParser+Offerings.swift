import BrokerCore
import Foundation

extension CatalogParser {
    static let offeringKeys: Set<String> = [
        "id", "name", "description", "bindable", "tags", "plan_updateable", "instances_retrievable",
        "bindings_retrievable", "allow_context_updates", "metadata", "provider", "credential_names", "plans",
    ]
    static let planKeys: Set<String> = [
        "id", "name", "description", "free", "bindable", "plan_updateable", "async", "minimum_duration_seconds",
        "maintenance_info", "schemas", "metadata", "binding_rotatable", "maximum_polling_duration", "options", "offering",
    ]

    /// Offerings with their nested plans, plus top-level `plans` that name their offering.
    mutating func parseCatalog(_ root: [String: JSONValue], providerKinds: Set<String>) -> Catalog {
        var offerings: [Offering] = []
        var names: Set<String> = []
        for (index, item) in reader.list(root["offerings"], at: "offerings").enumerated() {
            let path = "offerings[\(index)]"
            guard let offering = parseOffering(item, at: path) else { continue }
            if !names.insert(offering.name).inserted {
                reader.problem("\(path).name", "duplicate offering name '\(offering.name)'")
            }
            if plugins.factory(for: offering.providerSelector.kind) == nil {
                reader.problem(
                    "\(path).provider.kind",
                    "unknown provider kind '\(offering.providerSelector.kind)' (installed: \(plugins.kinds.joined(separator: ", ")))")
            }
            offerings.append(offering)
        }
        for (index, item) in reader.list(root["plans"], at: "plans").enumerated() {
            let path = "plans[\(index)]"
            guard let members = reader.object(item, at: path) else { continue }
            guard let offeringName = reader.requiredString(members, "offering", at: path) else { continue }
            guard let position = offerings.firstIndex(where: { $0.name == offeringName }) else {
                reader.problem("\(path).offering", "refers to offering '\(offeringName)', which is not defined")
                continue
            }
            if let plan = parsePlan(item, offering: offeringName, at: path) {
                offerings[position].plans.append(plan)
            }
        }
        checkPlans(offerings)
        return Catalog(offerings: offerings)
    }

    /// Plans: at least one per offering, names unique within it, every id unique in the catalog.
    mutating func checkPlans(_ offerings: [Offering]) {
        var ids: [String: String] = [:]
        for (index, offering) in offerings.enumerated() {
            let path = "offerings[\(index)]"
            if offering.plans.isEmpty { reader.problem("\(path).plans", "an offering needs at least one plan") }
            if let first = ids[offering.id] { reader.problem("\(path).id", "duplicate id '\(offering.id)' (also used by \(first))") }
            ids[offering.id] = "offering '\(offering.name)'"
            var planNames: Set<String> = []
            for plan in offering.plans {
                if !planNames.insert(plan.name).inserted {
                    reader.problem("\(path).plans", "duplicate plan name '\(plan.name)' in offering '\(offering.name)'")
                }
                if let first = ids[plan.id] { reader.problem("\(path).plans", "duplicate id '\(plan.id)' of plan '\(plan.name)' (also used by \(first))") }
                ids[plan.id] = "plan '\(offering.name)/\(plan.name)'"
            }
        }
    }

    mutating func parseOffering(_ item: JSONValue, at path: String) -> Offering? {
        guard let members = reader.object(item, at: path) else { return nil }
        reader.checkKeys(members, allowed: Self.offeringKeys, at: path)
        guard let name = catalogName(members, at: path) else { return nil }
        let provider = reader.object(members["provider"], at: "\(path).provider")
        if let provider { reader.checkKeys(provider, allowed: ["kind", "tags"], at: "\(path).provider") }
        guard let kind = provider.flatMap({ reader.requiredString($0, "kind", at: "\(path).provider") }) else {
            if provider == nil { reader.problem("\(path).provider", "is required: the provider kind that serves this offering") }
            return nil
        }
        var plans: [Plan] = []
        for (index, planItem) in reader.list(members["plans"], at: "\(path).plans").enumerated() {
            if let plan = parsePlan(planItem, offering: name, at: "\(path).plans[\(index)]") { plans.append(plan) }
        }
        let metadata = members["metadata"].flatMap { $0.isNull ? nil : $0 }
        if let metadata, metadata.objectValue == nil { reader.problem("\(path).metadata", "must be a mapping") }
        let credentialNames = reader.stringMap(members, "credential_names", at: path)
        for (key, variable) in credentialNames.sorted(by: { $0.key < $1.key }) where variable.wholeMatch(of: /[A-Za-z_][A-Za-z0-9_]*/) == nil {
            reader.problem("\(path).credential_names.\(key)", "'\(variable)' is not a valid environment variable name")
        }
        return Offering(
            id: reader.string(members, "id", at: path) ?? ConfigLoader.stableID("offering:\(name)"), name: name,
            description: reader.string(members, "description", at: path) ?? name,
            bindable: reader.bool(members, "bindable", at: path) ?? true, tags: reader.strings(members, "tags", at: path),
            planUpdateable: reader.bool(members, "plan_updateable", at: path) ?? false,
            instancesRetrievable: reader.bool(members, "instances_retrievable", at: path) ?? true,
            bindingsRetrievable: reader.bool(members, "bindings_retrievable", at: path) ?? true,
            allowContextUpdates: reader.bool(members, "allow_context_updates", at: path) ?? false, metadata: metadata,
            providerSelector: ProviderSelector(kind: kind, tags: provider.map { reader.strings($0, "tags", at: "\(path).provider") } ?? []),
            credentialNames: credentialNames, plans: plans)
    }

    mutating func parsePlan(_ item: JSONValue, offering: String, at path: String) -> Plan? {
        guard let members = reader.object(item, at: path) else { return nil }
        reader.checkKeys(members, allowed: Self.planKeys, at: path)
        guard let name = catalogName(members, at: path) else { return nil }
        var maintenance: MaintenanceInfo?
        if let info = reader.object(members["maintenance_info"], at: "\(path).maintenance_info") {
            reader.checkKeys(info, allowed: ["version", "description"], at: "\(path).maintenance_info")
            if let version = reader.requiredString(info, "version", at: "\(path).maintenance_info") {
                if (try? Self.semverPattern.wholeMatch(in: version)) == nil {
                    reader.problem("\(path).maintenance_info.version", "must be a semantic version like 1.0.0")
                }
                maintenance = MaintenanceInfo(version: version, description: reader.string(info, "description", at: "\(path).maintenance_info"))
            }
        }
        let metadata = members["metadata"].flatMap { $0.isNull ? nil : $0 }
        if let metadata, metadata.objectValue == nil { reader.problem("\(path).metadata", "must be a mapping") }
        let minimum = reader.double(members, "minimum_duration_seconds", at: path, minimum: 0) ?? 0
        return Plan(
            id: reader.string(members, "id", at: path) ?? ConfigLoader.stableID("plan:\(offering)/\(name)"), name: name,
            description: reader.string(members, "description", at: path) ?? "\(offering) \(name)",
            free: reader.bool(members, "free", at: path) ?? true, bindable: reader.bool(members, "bindable", at: path),
            planUpdateable: reader.bool(members, "plan_updateable", at: path),
            isAsynchronous: reader.bool(members, "async", at: path) ?? false,
            minimumDuration: .milliseconds(Int(minimum * 1000)), maintenanceInfo: maintenance,
            schemas: parseSchemas(members["schemas"], at: "\(path).schemas"), metadata: metadata,
            bindingRotatable: reader.bool(members, "binding_rotatable", at: path) ?? false,
            maximumPollingDuration: reader.int(members, "maximum_polling_duration", at: path, range: 1...Int(Int32.max)),
            options: reader.object(members["options"], at: "\(path).options") ?? [:])
    }

    /// A lower-case-hyphen catalog name, as both OSB checkers and CF's CLI want.
    mutating func catalogName(_ members: [String: JSONValue], at path: String) -> String? {
        guard let name = reader.requiredString(members, "name", at: path) else { return nil }
        if (try? Self.namePattern.wholeMatch(in: name)) == nil || name.count > 50 {
            reader.problem("\(path).name", "'\(name)' must be lower-case letters, digits and hyphens (at most 50, starting with a letter or digit)")
        }
        return name
    }

    /// OSB-shaped schemas: `service_instance.create.parameters`, `…update.parameters`, `service_binding.create.parameters`.
    mutating func parseSchemas(_ value: JSONValue?, at path: String) -> PlanSchemas {
        guard let members = reader.object(value, at: path) else { return PlanSchemas() }
        reader.checkKeys(members, allowed: ["service_instance", "service_binding"], at: path)
        func schema(_ section: String, _ action: String) -> JSONValue? {
            let schema = members[section]?[action]?["parameters"]
            return schema.flatMap { $0.isNull ? nil : $0 }
        }
        var schemas = PlanSchemas(
            instanceCreate: schema("service_instance", "create"), instanceUpdate: schema("service_instance", "update"),
            bindingCreate: schema("service_binding", "create"))
        for (name, found) in [
            ("service_instance.create.parameters", schemas.instanceCreate),
            ("service_instance.update.parameters", schemas.instanceUpdate),
            ("service_binding.create.parameters", schemas.bindingCreate),
        ] {
            guard let found else { continue }
            if found.objectValue == nil {
                reader.problem("\(path).\(name)", "must be a JSON schema (a mapping)")
            } else if found["$schema"] == nil {
                reader.problem("\(path).\(name)", "needs \"$schema\" (e.g. http://json-schema.org/draft-04/schema#), as Cloud Foundry requires")
            }
        }
        if schemas.isEmpty { schemas = PlanSchemas() }
        return schemas
    }
}

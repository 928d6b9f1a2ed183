import BrokerCore
import Foundation
import Gateway
import LedgerSQLite

/// `polybroker instances|bindings|providers|events`: what the ledger holds, across every
/// front-end and tenant. Rows never carry credentials, provider params or instance parameters
/// (the ledger is opened without its key).
public enum OperatorViews {
    /// Which instances to list.
    public struct InstanceQuery: Sendable {
        /// Only this registry tenant.
        public var tenant: String?
        /// Only this tsuru team (the `team` tsuru recorded).
        public var team: String?
        /// Only instances created through this front-end (`cf`, `tsuru`, `apcera`, `registry`).
        public var protocolName: String?
        /// Only this offering (name or id).
        public var offering: String?
        /// Include deleted instances.
        public var includeDeleted = false

        /// Creates a query.
        public init(tenant: String? = nil, team: String? = nil, protocolName: String? = nil, offering: String? = nil, includeDeleted: Bool = false) {
            self.tenant = tenant
            self.team = team
            self.protocolName = protocolName
            self.offering = offering
            self.includeDeleted = includeDeleted
        }
    }

    /// An instance with what a listing shows of it.
    public struct InstanceEntry: Sendable {
        /// The instance (its `parameters` are not shown).
        public var instance: Instance
        /// Offering name (the id when the catalog lacks it).
        public var offering: String
        /// Plan name (the id when the catalog lacks it).
        public var plan: String
        /// Its live bindings.
        public var bindings: [Binding]
    }

    /// Instances sorted by name.
    public static func instances(_ ledger: any Ledger, catalog: Catalog, _ query: InstanceQuery) async throws -> [InstanceEntry] {
        var filter = InstanceFilter(tenant: query.tenant, includeDeleted: query.includeDeleted)
        if let offering = query.offering {
            filter.offeringID = catalog.offering(offering)?.id ?? offering
        }
        let instances = try await ledger.instances(filter, page: .all).items.filter { instance in
            (query.team == nil || instance.context["team"]?.stringValue == query.team)
                && (query.protocolName == nil || instance.createdBy == query.protocolName)
        }
        var bindings: [String: [Binding]] = [:]
        for binding in try await ledger.bindings(BindingFilter(tenant: query.tenant), page: .all).items {
            bindings[binding.instanceID, default: []].append(binding)
        }
        return instances.map { instance in
            let offering = catalog.offering(id: instance.offeringID)
            return InstanceEntry(
                instance: instance, offering: offering?.name ?? instance.offeringID,
                plan: offering?.plans.first { $0.id == instance.planID }?.name ?? instance.planID,
                bindings: bindings[instance.id] ?? [])
        }
    }

    /// Where a platform put an instance: `team=…` (tsuru), `org=… space=…` (CF), `user=…`.
    static func placement(_ instance: Instance) -> String {
        var parts: [String] = []
        if let team = instance.context["team"]?.stringValue { parts.append("team=\(team)") }
        if let org = instance.context["organization_guid"]?.stringValue { parts.append("org=\(org)") }
        if let space = instance.context["space_guid"]?.stringValue { parts.append("space=\(space)") }
        if parts.isEmpty, let user = instance.user { parts.append("user=\(user)") }
        return parts.isEmpty ? "-" : parts.joined(separator: " ")
    }

    /// The instances table.
    public static func table(_ entries: [InstanceEntry]) -> String {
        TextTable(
            ["ID", "NAME", "OFFERING", "PLAN", "STATE", "PROTOCOL", "TENANT", "PLACEMENT", "BINDINGS", "CREATED"],
            entries.map { entry in
                let instance = entry.instance
                return [
                    instance.id, instance.name, entry.offering, entry.plan, instance.state.rawValue, instance.createdBy, instance.tenant,
                    placement(instance), String(entry.bindings.count), timestamp(instance.createdAt),
                ]
            }
        ).render(empty: "no instances")
    }

    /// The instances as JSON values.
    public static func json(_ entries: [InstanceEntry]) -> JSONValue {
        .array(
            entries.map { entry in
                let instance = entry.instance
                return [
                    "id": .string(instance.id), "name": .string(instance.name), "offering": .string(entry.offering),
                    "offering_id": .string(instance.offeringID), "plan": .string(entry.plan), "plan_id": .string(instance.planID),
                    "provider": .string(instance.providerID), "state": .string(instance.state.rawValue),
                    "protocol": .string(instance.createdBy), "tenant": .string(instance.tenant), "context": instance.context,
                    "user": instance.user.map(JSONValue.string) ?? .null, "tags": .array(instance.tags.map(JSONValue.string)),
                    "failure": instance.failure.map(JSONValue.string) ?? .null,
                    "bindings": .array(entry.bindings.map { .string($0.id) }),
                    "created_at": .string(timestamp(instance.createdAt)), "updated_at": .string(timestamp(instance.updatedAt)),
                ]
            })
    }

    /// Which bindings to list.
    public struct BindingQuery: Sendable {
        /// Only bindings of this instance (id or name).
        public var instance: String?
        /// Only bindings of this tenant's instances.
        public var tenant: String?
        /// Only bindings made through this front-end.
        public var protocolName: String?
        /// Include deleted bindings.
        public var includeDeleted = false

        /// Creates a query.
        public init(instance: String? = nil, tenant: String? = nil, protocolName: String? = nil, includeDeleted: Bool = false) {
            self.instance = instance
            self.tenant = tenant
            self.protocolName = protocolName
            self.includeDeleted = includeDeleted
        }
    }

    /// A binding with the name of its instance.
    public struct BindingEntry: Sendable {
        /// The binding (its credentials are never read).
        public var binding: Binding
        /// The instance's name.
        public var instanceName: String
    }

    /// Bindings sorted by id.
    public static func bindings(_ ledger: any Ledger, _ query: BindingQuery) async throws -> [BindingEntry] {
        var filter = BindingFilter(tenant: query.tenant, includeDeleted: query.includeDeleted)
        if let instance = query.instance {
            var found = try await ledger.aggregate(.id(instance))
            if found == nil { found = try await ledger.aggregate(.name(instance)) }
            guard let found else { throw OperatorError("no instance with id or name '\(instance)'") }
            filter.instanceID = found.instance.id
        }
        let bindings = try await ledger.bindings(filter, page: .all).items.filter {
            query.protocolName == nil || $0.createdBy == query.protocolName
        }
        var names: [String: String] = [:]
        for instance in try await ledger.instances(InstanceFilter(tenant: query.tenant, includeDeleted: true), page: .all).items {
            names[instance.id] = instance.name
        }
        return bindings.map { BindingEntry(binding: $0, instanceName: names[$0.instanceID] ?? "?") }
    }

    /// The application a binding is for, as its platform named it.
    static func app(_ binding: Binding) -> String {
        binding.appKey ?? binding.context["app_guid"]?.stringValue ?? binding.context["bind_resource"]?["app_guid"]?.stringValue
            ?? binding.context["name"]?.stringValue ?? "-"
    }

    /// The bindings table.
    public static func table(_ entries: [BindingEntry]) -> String {
        TextTable(
            ["ID", "INSTANCE", "INSTANCE ID", "APP", "STATE", "PROTOCOL", "UNITS", "CREATED"],
            entries.map { entry in
                let binding = entry.binding
                return [
                    binding.id, entry.instanceName, binding.instanceID, app(binding), binding.state.rawValue, binding.createdBy,
                    String(binding.units.count), timestamp(binding.createdAt),
                ]
            }
        ).render(empty: "no bindings")
    }

    /// The bindings as JSON values: no credentials, only whether it holds some.
    public static func json(_ entries: [BindingEntry]) -> JSONValue {
        .array(
            entries.map { entry in
                let binding = entry.binding
                return [
                    "id": .string(binding.id), "instance_id": .string(binding.instanceID), "instance": .string(entry.instanceName),
                    "app": .string(app(binding)), "state": .string(binding.state.rawValue), "protocol": .string(binding.createdBy),
                    "context": binding.context, "units": .array(binding.units.map(JSONValue.string)),
                    "has_credentials": .bool(binding.credentials != nil), "failure": binding.failure.map(JSONValue.string) ?? .null,
                    "created_at": .string(timestamp(binding.createdAt)), "updated_at": .string(timestamp(binding.updatedAt)),
                ]
            })
    }

    /// Timestamps as ISO 8601 UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

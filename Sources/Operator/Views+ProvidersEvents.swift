import BrokerCore
import Foundation

extension OperatorViews {
    /// Which providers to list.
    public struct ProviderQuery: Sendable {
        /// Only this plugin kind.
        public var kind: String?
        /// Only this tenant's providers and the configured ones.
        public var tenant: String?
        /// Include removed providers.
        public var includeRemoved = false

        /// Creates a query.
        public init(kind: String? = nil, tenant: String? = nil, includeRemoved: Bool = false) {
            self.kind = kind
            self.tenant = tenant
            self.includeRemoved = includeRemoved
        }
    }

    /// A provider and the number of live instances it holds.
    public struct ProviderEntry: Sendable {
        /// The provider (its params are never read).
        public var provider: Provider
        /// Live instances on it.
        public var instances: Int
    }

    /// Providers sorted by id.
    public static func providers(_ ledger: any Ledger, _ query: ProviderQuery) async throws -> [ProviderEntry] {
        let providers = try await ledger.providers(
            ProviderFilter(kind: query.kind, tenant: query.tenant, includeRemoved: query.includeRemoved), page: .all
        ).items
        var held: [String: Int] = [:]
        for instance in try await ledger.instances(InstanceFilter(), page: .all).items {
            held[instance.providerID, default: 0] += 1
        }
        return providers.map { ProviderEntry(provider: $0, instances: held[$0.id] ?? 0) }
    }

    /// The providers table.
    public static func table(_ entries: [ProviderEntry]) -> String {
        TextTable(
            ["ID", "NAME", "KIND", "SOURCE", "TENANT", "STATUS", "INSTANCES", "SESSION"],
            entries.map { entry in
                let provider = entry.provider
                let status = provider.removedAt != nil ? "removed" : provider.status.rawValue
                return [
                    provider.id, provider.name, provider.kind, provider.source.rawValue, provider.tenant ?? "-", status,
                    String(entry.instances), provider.sessionID ?? "-",
                ]
            }
        ).render(empty: "no providers")
    }

    /// The providers as JSON values: never their params.
    public static func json(_ entries: [ProviderEntry]) -> JSONValue {
        .array(
            entries.map { entry in
                let provider = entry.provider
                return [
                    "id": .string(provider.id), "name": .string(provider.name), "kind": .string(provider.kind),
                    "source": .string(provider.source.rawValue), "tenant": provider.tenant.map(JSONValue.string) ?? .null,
                    "status": .string(provider.status.rawValue), "status_reason": provider.statusReason.map(JSONValue.string) ?? .null,
                    "session_id": provider.sessionID.map(JSONValue.string) ?? .null, "tags": .array(provider.tags.map(JSONValue.string)),
                    "metadata": JSONValue(provider.metadata), "instances": .int(Int64(entry.instances)),
                    "created_at": .string(timestamp(provider.createdAt)), "updated_at": .string(timestamp(provider.updatedAt)),
                    "removed_at": provider.removedAt.map { .string(timestamp($0)) } ?? .null,
                ]
            })
    }

    /// Which events to list.
    public struct EventQuery: Sendable {
        /// Only this tenant.
        public var tenant: String?
        /// Only this type (`instance.create`, …).
        public var type: String?
        /// Only events caused through this front-end (or `system`).
        public var protocolName: String?
        /// Only events about this id.
        public var subject: String?
        /// Only events after this sequence.
        public var after: Int64?
        /// At most this many (the first ones after `after`).
        public var limit: Int?

        /// Creates a query.
        public init(
            tenant: String? = nil, type: String? = nil, protocolName: String? = nil, subject: String? = nil, after: Int64? = nil,
            limit: Int? = nil
        ) {
            self.tenant = tenant
            self.type = type
            self.protocolName = protocolName
            self.subject = subject
            self.after = after
            self.limit = limit
        }
    }

    /// Events in sequence order.
    public static func events(_ ledger: any Ledger, _ query: EventQuery) async throws -> [Event] {
        let page = PageRequest(marker: query.after.map { String($0 + 1) }, limit: PageRequest.all.limit)
        let events = try await ledger.events(EventFilter(tenant: query.tenant, type: query.type, subject: query.subject), page: page).items
            .filter { query.protocolName == nil || $0.protocolName == query.protocolName }
        return query.limit.map { Array(events.prefix($0)) } ?? events
    }

    /// The events table; details are the payload as compact JSON, cut at 100 characters.
    public static func table(_ events: [Event]) -> String {
        TextTable(
            ["SEQ", "TIME", "TYPE", "PROTOCOL", "TENANT", "SUBJECT", "DETAIL"],
            events.map { event in
                let detail = event.payload.canonicalText()
                return [
                    String(event.sequence), timestamp(event.timestamp), event.type, event.protocolName, event.tenant, event.subject,
                    detail.count > 100 ? String(detail.prefix(99)) + "…" : detail,
                ]
            }
        ).render(empty: "no events")
    }

    /// The events as JSON values.
    public static func json(_ events: [Event]) -> JSONValue {
        .array(
            events.map { event in
                [
                    "sequence": .int(event.sequence), "timestamp": .string(timestamp(event.timestamp)), "type": .string(event.type),
                    "protocol": .string(event.protocolName), "tenant": .string(event.tenant), "subject": .string(event.subject),
                    "payload": event.payload,
                ]
            })
    }
}

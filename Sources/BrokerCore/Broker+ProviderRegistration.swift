import Foundation
import Logging

/// Outcome of `Broker.registerProvider`.
public enum ProviderRegistration: Sendable, Equatable {
    /// Registered and online.
    case created(Provider)
    /// A provider with this id and the same attributes exists already.
    case alreadyExists(Provider)
}

extension Broker {
    /// Registers a provider at run time, after its plugin checked the params and reached the backend.
    ///
    /// - Apcera: `POST /providers` · registry: `POST /providers`.
    /// - Throws `.invalidRequest` for params the plugin refuses, `.providerUnavailable` when the
    ///   backend cannot be reached (nothing is saved), `.conflict` for a taken id or name.
    public func registerProvider(_ provider: Provider, origin: RequestOrigin) async throws(BrokerError) -> ProviderRegistration {
        guard let factory = pool.kinds.factory(for: provider.kind) else {
            throw .invalidRequest("unknown provider kind '\(provider.kind)' (installed: \(pool.kinds.kinds.joined(separator: ", ")))")
        }
        if let problem = factory.validate(provider.params).first { throw .invalidRequest(problem) }
        if let existing = try await withLedger({ try await self.ledger.provider(id: provider.id) }) {
            if existing.removedAt == nil, existing.name == provider.name, existing.kind == provider.kind,
                existing.params == provider.params, existing.tags == provider.tags, existing.metadata == provider.metadata
            {
                return .alreadyExists(existing)
            }
            throw .conflict("provider id '\(provider.id)' is already in use")
        }
        let plugin = try await pool.plugin(for: provider)
        if case .unhealthy(let reason) = await plugin.health() {
            await pool.evict(provider.id)
            throw .providerUnavailable("provider '\(provider.name)' cannot reach its backend: \(reason)")
        }
        let event = providerEvent(EventType.providerJoin, provider, origin: origin, extra: [:])
        do {
            try await ledger.saveProvider(provider, events: [event])
        } catch LedgerError.uniqueViolation(field: "provider.name") {
            await pool.evict(provider.id)
            throw .conflict("a provider named '\(provider.name)' already exists")
        } catch {
            await pool.evict(provider.id)
            throw brokerError(fromLedger: error)
        }
        logger.info("broker.provider.registered", metadata: ["provider-id": "\(provider.id)", "kind": "\(provider.kind)"])
        return .created(provider)
    }

    /// Removes a registered provider. With live instances it refuses unless `deprovisionInstances`,
    /// which deprovisions them (bindings included) first. Returns the provider and the instances it held.
    ///
    /// - Apcera: `DELETE /providers/:id` · registry: `DELETE /providers/:id`.
    public func removeProvider(
        id: String, deprovisionInstances: Bool, origin: RequestOrigin
    ) async throws(BrokerError) -> (Provider, [Instance]) {
        guard var provider = try await withLedger({ try await self.ledger.provider(id: id) }), provider.removedAt == nil else {
            throw .providerNotFound(id)
        }
        guard provider.source != .config else {
            throw .conflict("provider '\(provider.name)' is defined in the configuration file and cannot be removed here")
        }
        let held = try await instances(InstanceFilter(providerID: id), page: .all).items
        if !held.isEmpty && !deprovisionInstances {
            throw .conflict("provider '\(provider.name)' still holds \(held.count) service instance(s)")
        }
        var removed: [Instance] = []
        for instance in held {
            let outcome = try await deprovision(
                DeprovisionCommand(instance: .id(instance.id), removeBindings: true, acceptsIncomplete: false, origin: origin))
            switch outcome {
            case .deleted(let gone): removed.append(gone)
            case .accepted(let running, _): removed.append(running)
            }
        }
        let now = Self.now()
        provider.removedAt = now
        provider.status = .offline
        provider.statusReason = "removed"
        provider.updatedAt = now
        let names: [JSONValue] = removed.map { .string($0.name) }
        let event = providerEvent(EventType.providerRemove, provider, origin: origin, extra: ["instances": .array(names)])
        let toSave = provider
        try await withLedger { try await self.ledger.saveProvider(toSave, events: [event]) }
        await pool.evict(id)
        return (provider, removed)
    }

    /// A provider event (params never included).
    func providerEvent(_ type: String, _ provider: Provider, origin: RequestOrigin, extra: [String: JSONValue]) -> NewEvent {
        var payload: [String: JSONValue] = [
            "provider": [
                "id": .string(provider.id), "name": .string(provider.name), "kind": .string(provider.kind),
                "status": .string(provider.status.rawValue), "source": .string(provider.source.rawValue),
            ]
        ]
        for (key, value) in extra { payload[key] = value }
        return NewEvent(
            type: type, tenant: provider.tenant ?? "", protocolName: origin.protocolName, subject: provider.id,
            payload: .object(payload), timestamp: Self.now())
    }
}

extension Broker {
    /// Changes a registered provider (name, tags, metadata, params, session); a provider that comes
    /// back online gets `provider.join`, any change `provider.update`.
    ///
    /// - registry: `PUT /providers/:id`.
    public func updateProvider(
        id: String, origin: RequestOrigin, _ change: @Sendable (inout Provider) throws(BrokerError) -> Void
    ) async throws(BrokerError) -> Provider {
        guard var provider = try await withLedger({ try await self.ledger.provider(id: id) }), provider.removedAt == nil else {
            throw .providerNotFound(id)
        }
        let before = provider
        try change(&provider)
        guard provider != before else { return provider }
        if let factory = pool.kinds.factory(for: provider.kind), let problem = factory.validate(provider.params).first {
            throw .invalidRequest(problem)
        }
        provider.updatedAt = Self.now()
        var events = [providerEvent(EventType.providerUpdate, provider, origin: origin, extra: [:])]
        if before.status == .offline && provider.status == .online {
            events.append(providerEvent(EventType.providerJoin, provider, origin: origin, extra: [:]))
        }
        let toSave = provider
        do {
            try await ledger.saveProvider(toSave, events: events)
        } catch LedgerError.uniqueViolation(field: "provider.name") {
            throw .conflict("a provider named '\(provider.name)' already exists")
        } catch {
            throw brokerError(fromLedger: error)
        }
        await pool.evict(id)
        return provider
    }
}

import Foundation

/// Outcome of a `Broker.restore` call.
public enum RestoreOutcome<Item: Sendable & Equatable>: Sendable, Equatable {
    /// The ledger knew it already (live); nothing was written.
    case known(Item)
    /// Written back from the state a platform kept, with a `state.rebuilt` event.
    case rebuilt(Item)
}

extension Broker {
    /// Writes back a provider the ledger has never seen, from state a platform kept
    /// (Apcera's `X-Provider-State` after a gateway moved or its ledger was restored).
    /// A removed provider is never resurrected.
    public func restore(provider: Provider, origin: RequestOrigin) async throws(BrokerError) -> RestoreOutcome<Provider> {
        if let existing = try await withLedger({ try await self.ledger.provider(id: provider.id) }) {
            guard existing.removedAt == nil else { throw .providerNotFound(provider.id) }
            return .known(existing)
        }
        guard pool.kinds.factory(for: provider.kind) != nil else {
            throw .invalidRequest("provider kind '\(provider.kind)' is not installed here")
        }
        let event = rebuiltEvent(subject: provider.id, kind: "provider", tenant: provider.tenant ?? "", origin: origin)
        do {
            try await ledger.saveProvider(provider, events: [event])
        } catch LedgerError.uniqueViolation(field: "provider.name") {
            throw .conflict("a provider named '\(provider.name)' already exists")
        } catch {
            throw brokerError(fromLedger: error)
        }
        return .rebuilt(provider)
    }

    /// Writes back a ready instance the ledger has never seen; a deleted one is never resurrected.
    public func restore(instance: Instance, origin: RequestOrigin) async throws(BrokerError) -> RestoreOutcome<Instance> {
        let event = rebuiltEvent(subject: instance.id, kind: "instance", tenant: instance.tenant, origin: origin)
        do {
            return try await ledger.mutate(.id(instance.id)) { aggregate in
                if let aggregate {
                    guard aggregate.instance.state != .deleted else { throw BrokerError.instanceNotFound(instance.id) }
                    return (.none, .known(aggregate.instance))
                }
                return (LedgerWrite(instance: instance, events: [event]), .rebuilt(instance))
            }
        } catch LedgerError.uniqueViolation(field: "instance.name") {
            throw .nameTaken(instance.name)
        } catch {
            throw brokerError(fromLedger: error)
        }
    }

    /// Writes back a bound binding the ledger has never seen (its credentials are not known:
    /// no platform state carries them); a deleted one is never resurrected.
    public func restore(binding: Binding, origin: RequestOrigin) async throws(BrokerError) -> RestoreOutcome<Binding> {
        if let existing = try await self.binding(id: binding.id) {
            guard existing.state != .deleted, existing.instanceID == binding.instanceID else { throw .bindingNotFound(binding.id) }
            return .known(existing)
        }
        let event = rebuiltEvent(subject: binding.id, kind: "binding", tenant: nil, origin: origin)
        do {
            return try await ledger.mutate(.id(binding.instanceID)) { aggregate in
                guard let aggregate, aggregate.instance.state != .deleted else {
                    throw BrokerError.instanceNotFound(binding.instanceID)
                }
                var rebuiltEvent = event
                rebuiltEvent.tenant = aggregate.instance.tenant
                return (LedgerWrite(bindings: [binding], events: [rebuiltEvent]), .rebuilt(binding))
            }
        } catch {
            throw brokerError(fromLedger: error)
        }
    }

    func rebuiltEvent(subject: String, kind: String, tenant: String?, origin: RequestOrigin) -> NewEvent {
        var payload: [String: JSONValue] = ["kind": .string(kind), "id": .string(subject)]
        if let requestID = origin.requestID { payload["request_id"] = .string(requestID) }
        return NewEvent(
            type: EventType.stateRebuilt, tenant: tenant ?? "", protocolName: origin.protocolName, subject: subject,
            payload: .object(payload), timestamp: Self.now())
    }
}

import Foundation
import Logging

extension Broker {
    /// The status reason of a provider the health check took offline; only such providers are
    /// brought back online by it (a provider offline because its session ended stays offline).
    static let unreachablePrefix = "unreachable: "

    /// Asks every provider's plugin whether its backend answers: an online provider that does not
    /// goes offline (`provider.timeout`, reason `unreachable`, so new instances go elsewhere), and
    /// one the check took offline comes back online (`provider.join`) once it answers again.
    /// Returns the providers whose status changed.
    @discardableResult
    public func checkProviderHealth() async throws(BrokerError) -> [Provider] {
        var changed: [Provider] = []
        for provider in try await providers().items where provider.removedAt == nil {
            let wasCheckedOffline = provider.status == .offline && (provider.statusReason ?? "").hasPrefix(Self.unreachablePrefix)
            let health: ProviderHealth
            do {
                health = await (try await pool.plugin(for: provider)).health()
            } catch {
                health = .unhealthy(error.description)
            }
            guard provider.status == .online || wasCheckedOffline else {
                await pool.record(health, for: provider.id)
                continue
            }
            await pool.record(health, for: provider.id)
            var next = provider
            switch health {
            case .healthy where wasCheckedOffline:
                next.status = .online
                next.statusReason = nil
            case .unhealthy(let reason) where provider.status == .online || provider.statusReason != Self.unreachablePrefix + reason:
                next.status = .offline
                next.statusReason = Self.unreachablePrefix + reason
            default:
                continue
            }
            // Apply only if nothing else (a session ending, a PUT) changed the provider meanwhile.
            guard let current = try await withLedger({ try await self.ledger.provider(id: provider.id) }),
                current.status == provider.status, current.statusReason == provider.statusReason, current.removedAt == nil
            else { continue }
            next.updatedAt = Self.now()
            let event =
                next.status == .online
                ? providerEvent(EventType.providerJoin, next, origin: .system, extra: ["reason": "reachable"])
                : providerEvent(EventType.providerTimeout, next, origin: .system, extra: ["reason": "unreachable"])
            let toSave = next
            try await withLedger { try await self.ledger.saveProvider(toSave, events: provider.status == next.status ? [] : [event]) }
            await pool.evict(provider.id)
            await pool.record(health, for: provider.id)
            if provider.status != next.status {
                logger.notice(
                    next.status == .online ? "broker.provider.online" : "broker.provider.offline",
                    metadata: ["provider-id": "\(next.id)", "reason": "\(next.statusReason ?? "reachable")"])
                changed.append(next)
            }
        }
        return changed
    }

    /// Runs `checkProviderHealth()` every `interval` until cancelled.
    public func runProviderHealthChecks(interval: Duration) async {
        while !Task.isCancelled {
            do {
                try await checkProviderHealth()
            } catch {
                logger.warning("broker.providers.health-check-failed", metadata: ["error": "\(error.description)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}

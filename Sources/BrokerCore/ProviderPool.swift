import Foundation
import Logging

/// Builds and caches one plugin per provider, rebuilding it when the provider's params change.
actor ProviderPool {
    nonisolated let kinds: PluginKinds
    private let dataDirectory: URL
    private let logger: Logger
    private var plugins: [String: (params: JSONValue, plugin: any ProviderPlugin)] = [:]
    /// The last health-check result of each provider.
    private var checked: [String: ProviderHealth] = [:]

    init(kinds: PluginKinds, dataDirectory: URL, logger: Logger) {
        self.kinds = kinds
        self.dataDirectory = dataDirectory
        self.logger = logger
    }

    /// The plugin serving a provider.
    func plugin(for provider: Provider) throws(BrokerError) -> any ProviderPlugin {
        if let cached = plugins[provider.id], cached.params == provider.params {
            return cached.plugin
        }
        guard let factory = kinds.factory(for: provider.kind) else {
            throw .providerUnavailable("provider '\(provider.id)' has kind '\(provider.kind)', which is not installed")
        }
        var pluginLogger = logger
        pluginLogger[metadataKey: "provider-id"] = "\(provider.id)"
        let environment = PluginEnvironment(providerID: provider.id, dataDirectory: dataDirectory, logger: pluginLogger)
        do {
            let plugin = try factory.make(provider.params, environment)
            plugins[provider.id] = (provider.params, plugin)
            return plugin
        } catch let error as ProviderError {
            throw .providerUnavailable("provider '\(provider.id)': \(error.description)")
        } catch {
            throw .providerUnavailable("provider '\(provider.id)' could not be started (\(type(of: error)))")
        }
    }

    /// Forgets a provider's plugin.
    func evict(_ providerID: String) {
        plugins[providerID] = nil
        checked[providerID] = nil
    }

    /// Records a health-check result.
    func record(_ health: ProviderHealth, for providerID: String) {
        checked[providerID] = health
    }

    /// The last health-check result, if any.
    func lastHealth(of providerID: String) -> ProviderHealth? {
        checked[providerID]
    }
}

extension Broker {
    /// Saves the providers of the configuration file, online, so they are alike to registered ones.
    public func registerConfiguredProviders(_ providers: [Provider]) async throws(BrokerError) {
        for var provider in providers {
            let existing = try await withLedger { try await self.ledger.provider(id: provider.id) }
            if let existing {
                provider.createdAt = existing.createdAt
                if existing == provider { continue }
            }
            let toSave = provider
            try await withLedger { try await self.ledger.saveProvider(toSave, events: []) }
            await pool.evict(provider.id)
        }
    }

    /// One provider by id.
    public func provider(id: String) async throws(BrokerError) -> Provider? {
        try await withLedger { try await self.ledger.provider(id: id) }
    }

    /// A page of providers.
    public func providers(_ filter: ProviderFilter = ProviderFilter(), page: PageRequest = .all) async throws(BrokerError) -> Page<Provider> {
        try await withLedger { try await self.ledger.providers(filter, page: page) }
    }

    /// Each provider's health: the last periodic check's result (`checkProviderHealth`), or, for a
    /// provider not checked yet, what its plugin answers now. Cached results keep `/readyz` fast
    /// when a backend does not answer at all.
    public func providerHealth() async throws(BrokerError) -> [(Provider, ProviderHealth)] {
        var report: [(Provider, ProviderHealth)] = []
        for provider in try await providers().items {
            if let checked = await pool.lastHealth(of: provider.id) {
                report.append((provider, checked))
                continue
            }
            do {
                let plugin = try await pool.plugin(for: provider)
                report.append((provider, await plugin.health()))
            } catch {
                report.append((provider, .unhealthy(error.description)))
            }
        }
        return report
    }

    /// Picks the provider for a new instance: the pinned one, or the first live provider
    /// (by id) that the offering's selector matches.
    func chooseProvider(for offering: Offering, pinned: String?, tenant: String) async -> Result<Provider, BrokerError> {
        do {
            if let pinned {
                guard let provider = try await withLedger({ try await self.ledger.provider(id: pinned) }),
                    provider.tenant == nil || provider.tenant == tenant
                else {
                    return .failure(.providerNotFound(pinned))
                }
                guard offering.providerSelector.matches(provider) else {
                    return .failure(.invalidRequest("provider '\(pinned)' cannot serve offering '\(offering.name)'"))
                }
                guard provider.status == .online else {
                    return .failure(.noLiveProvider("provider '\(pinned)' is offline"))
                }
                return .success(provider)
            }
            let candidates = try await withLedger {
                try await self.ledger.providers(ProviderFilter(kind: offering.providerSelector.kind, tenant: tenant), page: .all)
            }
            // The tenant's own live providers first, then shared ones, each in id order; never an offline one.
            let live = candidates.items.filter { $0.status == .online && offering.providerSelector.matches($0) }
            if let provider = live.first(where: { $0.tenant == tenant }) ?? live.first {
                return .success(provider)
            }
            return .failure(.noLiveProvider("no live provider can serve offering '\(offering.name)'"))
        } catch {
            return .failure(error)
        }
    }

    /// The plugin of the provider that holds an instance.
    func plugin(for instance: Instance) async throws(BrokerError) -> any ProviderPlugin {
        guard let provider = try await withLedger({ try await self.ledger.provider(id: instance.providerID) }) else {
            throw .providerNotFound(instance.providerID)
        }
        return try await pool.plugin(for: provider)
    }
}

import BrokerCore
import Foundation
import FrontEndSupport
import Hummingbird
import LedgerSQLite
import Logging
import OSBFrontEnd
import TsuruFrontEnd
import ApceraFrontEnd
import RegistryFrontEnd
import ServiceLifecycle

/// The assembled server: configuration, secrets, ledger, broker and router.
public struct Gateway {
    /// The configuration it runs with.
    public let configuration: GatewayConfiguration
    /// The secrets it runs with.
    public let secrets: ResolvedSecrets
    /// The broker every front-end calls.
    public let broker: Broker
    /// The ledger.
    public let ledger: SQLiteLedger
    /// The router with every route mounted.
    public let router: Router<BasicRequestContext>
    /// The logger.
    public let logger: Logger

    /// What tests and tools need from a running gateway, safe to share across tasks.
    public struct Handle: Sendable {
        /// The broker.
        public let broker: Broker
        /// The configuration.
        public let configuration: GatewayConfiguration
        /// The platform tenant.
        public let platformTenant: String
    }

    /// The shareable part of the gateway.
    public var handle: Handle {
        Handle(broker: broker, configuration: configuration, platformTenant: secrets.platformTenant)
    }

    /// Opens the ledger, registers the configured providers and mounts every route.
    public static func build(configuration: GatewayConfiguration, logger: Logger? = nil) async throws -> Gateway {
        var logger = logger ?? Logger(label: "polybroker")
        logger.logLevel = configuration.logLevel
        try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
        let secrets = try ResolvedSecrets.resolve(for: configuration)
        let ledgerFile = configuration.ledger.file.hasPrefix("/")
            ? configuration.ledger.file : configuration.dataDirectory.appendingPathComponent(configuration.ledger.file).path
        let ledger = try SQLiteLedger(
            path: ledgerFile, sealer: AESGCMSealer(key: secrets.ledgerKey),
            durability: configuration.ledger.durability == "normal" ? .normal : .full)
        let broker = Broker(
            catalog: configuration.catalog, ledger: ledger, plugins: Plugins.installed, dataDirectory: configuration.dataDirectory,
            configuration: configuration.broker, logger: logger)
        try await broker.registerConfiguredProviders(configuration.providers)

        var osbConfiguration = OSBConfiguration(
            username: configuration.username, password: secrets.password, tenant: secrets.platformTenant)
        _ = osbConfiguration.apply(configuration.frontends["osb"])
        let catalogProblems = OSBFrontEnd.problems(in: configuration.catalog)
        guard catalogProblems.isEmpty else {
            throw ConfigurationError(problems: catalogProblems.map { ConfigProblem(path: "offerings", message: "Cloud Foundry would refuse the catalog: \($0)") })
        }
        let osbPrefix = configuration.prefix(of: "osb")
        var tsuruConfiguration = TsuruConfiguration(
            username: configuration.username, password: secrets.password, tenant: secrets.platformTenant)
        _ = tsuruConfiguration.apply(configuration.frontends["tsuru"])
        let tsuruPrefix = configuration.prefix(of: "tsuru")
        var apceraConfiguration = ApceraConfiguration(
            username: configuration.username, password: secrets.password, tenant: secrets.platformTenant, stateKey: secrets.apceraStateKey)
        _ = apceraConfiguration.apply(configuration.frontends["apcera"])
        let apceraPrefix = configuration.prefix(of: "apcera")
        var registryConfiguration = RegistryConfiguration(tokens: secrets.registryTokens.map { ($0.tenant, $0.token) })
        _ = registryConfiguration.apply(configuration.frontends["registry"])
        let registryPrefix = configuration.prefix(of: "registry")

        let routes = RouteTable()
        let router = Router()
        router.add(
            middleware: GatewayMiddleware(
                maxBodyBytes: configuration.maxBodyBytes, routes: routes,
                renderers: [
                    (osbPrefix, OSBFrontEnd.render), (tsuruPrefix, TsuruFrontEnd.render), (apceraPrefix, ApceraFrontEnd.render),
                    (registryPrefix, RegistryFrontEnd.render),
                ]))
        HealthRoutes(broker: broker).mount(on: router)
        OSBFrontEnd(broker: broker, configuration: osbConfiguration).mount(on: router.group(RouterPath(String(osbPrefix.dropFirst()))))
        TsuruFrontEnd(broker: broker, configuration: tsuruConfiguration).mount(on: router.group(RouterPath(String(tsuruPrefix.dropFirst()))))
        ApceraFrontEnd(broker: broker, configuration: apceraConfiguration).mount(on: router.group(RouterPath(String(apceraPrefix.dropFirst()))))
        RegistryFrontEnd(broker: broker, configuration: registryConfiguration).mount(on: router.group(RouterPath(String(registryPrefix.dropFirst()))))
        routes.load(router.routes)
        return Gateway(configuration: configuration, secrets: secrets, broker: broker, ledger: ledger, router: router, logger: logger)
    }

    /// The Hummingbird application: resumes unfinished operations before it listens, and on
    /// shutdown lets requests finish, then background work, then closes the ledger.
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        var application = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "polybroker"),
            services: [BrokerService(broker: broker, ledger: ledger, logger: logger)],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        let broker = self.broker
        let logger = self.logger
        application.beforeServerStarts {
            let revived = try await broker.reviveOverdueSessions()
            if revived > 0 { logger.notice("gateway.recovery.sessions-revived", metadata: ["sessions": "\(revived)"]) }
            let resumed = try await broker.resumeOpenOperations()
            if resumed > 0 { logger.notice("gateway.recovery.resumed", metadata: ["operations": "\(resumed)"]) }
        }
        return application
    }
}

/// Builds the application `serve` runs and the tests drive.
public func buildApplication(configuration: GatewayConfiguration, logger: Logger? = nil) async throws -> some ApplicationProtocol {
    try await Gateway.build(configuration: configuration, logger: logger).makeApplication()
}

/// Keeps the broker's background work and the ledger in the service group's life cycle.
struct BrokerService: Service {
    let broker: Broker
    let ledger: SQLiteLedger
    let logger: Logger

    func run() async throws {
        let broker = self.broker
        let expiry = Task { await broker.runSessionExpiry() }
        let health = Task { await broker.runProviderHealthChecks(interval: broker.configuration.healthCheckInterval) }
        try? await gracefulShutdown()
        expiry.cancel()
        health.cancel()
        await expiry.value
        await health.value
        if !(await broker.drain(timeout: .seconds(20))) {
            logger.warning("gateway.shutdown.work-left", metadata: ["note": "unfinished operations resume on the next start"])
        }
        try await ledger.close()
        logger.info("gateway.shutdown.ledger-closed")
    }
}

/// `GET /healthz` and `GET /readyz`, without authentication.
struct HealthRoutes {
    let broker: Broker

    func mount(on router: Router<BasicRequestContext>) {
        /// GET /healthz → 200 `{"status":"ok"}` while the process runs.
        router.get("healthz") { _, _ in
            JSONResponse.make(.ok, ["status": "ok"])
        }
        /// GET /readyz → 200 when the ledger answers, else 503; lists each provider's health (no secrets).
        router.get("readyz") { _, _ in
            let ledgerUp = await broker.ledgerIsReachable()
            var providers: [JSONValue] = []
            if ledgerUp, let report = try? await broker.providerHealth() {
                for (provider, health) in report {
                    var entry: [String: JSONValue] = [
                        "id": .string(provider.id), "kind": .string(provider.kind), "status": .string(provider.status.rawValue),
                    ]
                    if case .unhealthy(let reason) = health {
                        entry["health"] = "unhealthy"
                        entry["reason"] = .string(reason)
                    } else {
                        entry["health"] = "healthy"
                    }
                    providers.append(.object(entry))
                }
            }
            return JSONResponse.make(
                ledgerUp ? .ok : .serviceUnavailable,
                ["status": .string(ledgerUp ? "ready" : "not ready"), "ledger": .string(ledgerUp ? "ok" : "unreachable"), "providers": .array(providers)])
        }
    }
}

import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgreSQLProvider
import RedisProvider
import Testing
import TestSupport

/// The real provider kinds through a serving gateway: offerings switched on by the environment,
/// providers registered at run time, and a backend that goes away and comes back.
@Suite("Provider kinds in the gateway")
struct ProviderKindsTests {
    static let environment = ProcessInfo.processInfo.environment
    static let basic = "Basic " + Data("polybroker:\(GatewayFixture.password)".utf8).base64EncodedString()

    static func send(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, body: JSONValue? = nil,
        authorization: String = basic
    ) async throws -> (status: HTTPResponse.Status, json: JSONValue?) {
        var headers: HTTPFields = [.contentType: "application/json"]
        if authorization.hasPrefix("Token ") {
            headers[HTTPField.Name("X-Auth-Token")!] = String(authorization.dropFirst(6))
        } else {
            headers[.authorization] = authorization
        }
        headers[HTTPField.Name("X-Broker-API-Version")!] = "2.17"
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0.canonicalText()) })
        return (response.status, JSONValue.parse(Data(response.body.readableBytesView)))
    }

    /// The entry of one provider in `/readyz`.
    static func readiness(_ client: any TestClientProtocol, _ id: String) async throws -> JSONValue? {
        let ready = try await send(client, .get, "/readyz")
        return ready.json?["providers"]?.arrayValue?.first { $0["id"] == .string(id) }
    }

    /// Polls `/readyz` (every 100 ms, at most 20 s) until the provider has the status.
    static func waitFor(_ client: any TestClientProtocol, _ id: String, status: String) async throws -> JSONValue? {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let entry = try await readiness(client, id)
            if entry?["status"] == .string(status) { return entry }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await readiness(client, id)
    }

    @Test func shippedOfferingsOfEachKindAreSwitchedOnByTheEnvironment() throws {
        let directory = TemporaryDirectory("kinds")
        let plain = try GatewayFixture.configuration(in: directory)
        #expect(plain.catalog.offerings.map(\.name) == ["sqlite", "static-api"])
        #expect(plain.providers.map(\.id) == ["sqlite-local", "static-api"])
        let switched = try GatewayFixture.configuration(
            in: directory,
            environment: [
                "POLYBROKER_POSTGRESQL_URL": "postgresql://admin:pg-secret@127.0.0.1:5432/postgres",
                "POLYBROKER_REDIS_URL": "redis://default:redis-secret@127.0.0.1:6379",
                "POLYBROKER_HTTP_PROVIDER_URL": "http://127.0.0.1:9000", "POLYBROKER_HTTP_PROVIDER_TOKEN": "tok",
                "POLYBROKER_UPSTREAM_OSB_URL": "http://u:p@127.0.0.1:9001/cf",
            ])
        #expect(switched.catalog.offerings.map(\.name) == ["sqlite", "static-api", "postgresql", "redis", "remote-api", "upstream-sqlite"])
        #expect(switched.catalog.offering("postgresql")?.plans.map(\.name) == ["small", "large"])
        #expect(switched.catalog.offering("postgresql")?.plans.first?.options["connection_limit"] == 20)
        #expect(switched.catalog.offering("redis")?.plans.map(\.name) == ["small"])
        let providers = Dictionary(uniqueKeysWithValues: switched.providers.map { ($0.id, $0) })
        #expect(providers["postgresql"]?.params == ["url": "postgresql://admin:pg-secret@127.0.0.1:5432/postgres"])
        #expect(providers["redis"]?.kind == "redis")
        #expect(providers["remote-api"]?.params == ["url": "http://127.0.0.1:9000", "token": "tok", "retries": 3])
        #expect(providers["upstream-broker"]?.kind == "osb")
        // Half of a pair of variables is not enough; a ${VAR} that is not set is a problem with its key path
        let half = try GatewayFixture.configuration(in: directory, environment: ["POLYBROKER_HTTP_PROVIDER_URL": "http://127.0.0.1:9000"])
        #expect(half.catalog.offering("remote-api") == nil)
        let document: JSONValue = [
            "providers": [["id": "x", "kind": "static", "enabled_by": "A", "params": ["credentials": ["uri": "${B}"]]]]
        ]
        #expect(throws: ConfigurationError.self) { try ConfigLoader.parse(document, environment: ["A": "1"]) }
        do {
            _ = try ConfigLoader.parse(document, environment: ["A": "1"])
        } catch let error as ConfigurationError {
            #expect(error.problems.map(\.description) == ["providers[0].params.credentials.uri: uses ${B}, which is not set"])
        }
    }

    @Test(.enabled(if: environment["POLYBROKER_TEST_POSTGRESQL_URL"] != nil && environment["POLYBROKER_TEST_REDIS_URL"] != nil))
    func postgresqlAndRedisOfferingsServeThePlatformsAndLeaveNothingBehind() async throws {
        let postgresURL = try #require(Self.environment["POLYBROKER_TEST_POSTGRESQL_URL"])
        let redisURL = try #require(Self.environment["POLYBROKER_TEST_REDIS_URL"])
        let directory = TemporaryDirectory("kinds")
        let configuration = try GatewayFixture.configuration(
            in: directory, environment: ["POLYBROKER_POSTGRESQL_URL": postgresURL, "POLYBROKER_REDIS_URL": redisURL])
        let instance = UUID().uuidString.lowercased()
        try await GatewayFixture.withLiveGateway(configuration) { client, handle in
            let catalog = try await Self.send(client, .get, "/cf/v2/catalog")
            let services = catalog.json?["services"]?.arrayValue ?? []
            let postgresql = try #require(services.first { $0["name"] == "postgresql" })
            #expect(services.contains { $0["name"] == "redis" })
            let serviceID = try #require(postgresql["id"]?.stringValue)
            let planID = try #require(postgresql["plans"]?.arrayValue?.first { $0["name"] == "small" }?["id"]?.stringValue)
            // Cloud Foundry provisions and binds a PostgreSQL database
            let made = try await Self.send(
                client, .put, "/cf/v2/service_instances/\(instance)",
                body: ["service_id": .string(serviceID), "plan_id": .string(planID), "organization_guid": "o", "space_guid": "s"])
            #expect(made.status == .created)
            let bound = try await Self.send(
                client, .put, "/cf/v2/service_instances/\(instance)/service_bindings/b-1",
                body: ["service_id": .string(serviceID), "plan_id": .string(planID)])
            #expect(bound.status == .created)
            #expect(bound.json?["credentials"]?["uri"]?.stringValue?.hasPrefix("postgresql://") == true)
            // A registry client gets a Redis namespace with its own user
            let token = "Token acme-token"
            let service = try await Self.send(client, .post, "/registry/v1.0/acme/services", body: ["type": "redis", "plan": "small"], authorization: token)
            #expect(service.status == .created)
            let creds = try #require(service.json?["creds"])
            #expect(creds["uri"]?.stringValue?.hasPrefix("redis://") == true)
            let redisID = try #require(service.json?["id"]?.stringValue)
            let name = try #require(service.json?["name"]?.stringValue)
            // Both backends are healthy in /readyz, without their secrets
            let ready = try await Self.send(client, .get, "/readyz")
            #expect(try await Self.readiness(client, "postgresql")?["health"] == "healthy")
            #expect(try await Self.readiness(client, "redis")?["health"] == "healthy")
            let text = ready.json?.canonicalText() ?? ""
            #expect(!text.contains(PostgreSQLProvider.Admin(url: postgresURL)?.password ?? "-"))
            #expect(!text.contains(URLComponents(string: redisURL)?.password ?? "-"))
            // Remove both through the platforms
            let gone = try await Self.send(
                client, .delete, "/cf/v2/service_instances/\(instance)?service_id=\(serviceID)&plan_id=\(planID)")
            #expect(gone.status == .ok)
            #expect(try await Self.send(client, .delete, "/registry/v1.0/acme/services/\(name)", authorization: token).status == .noContent)
            _ = handle
            let pg = try PostgreSQLProvider.factory.make(
                ["url": .string(postgresURL)], PluginEnvironment(providerID: "check", dataDirectory: directory.url, logger: GatewayFixture.logger))
            #expect(try await (pg as! PostgreSQLProvider).leftovers(instanceID: instance).isEmpty)
            let redis = try RedisProvider.factory.make(
                ["url": .string(redisURL)], PluginEnvironment(providerID: "check", dataDirectory: directory.url, logger: GatewayFixture.logger))
            #expect(try await (redis as! RedisProvider).users(instanceID: redisID).isEmpty)
        }
    }

    @Test func aProviderThatStopsAnsweringGoesOfflineAndComesBackOnlineWhenItAnswersAgain() async throws {
        let directory = TemporaryDirectory("kinds")
        let state = directory.url.appendingPathComponent("provider.json")
        let token = "remote-token-\(UUID().uuidString.prefix(8))"
        let provider = try await ExampleHTTPProvider.start(state: state, token: token)
        defer { provider.stop() }
        let port = provider.port
        let configuration = try GatewayFixture.configuration(
            in: directory,
            environment: [
                "POLYBROKER_HTTP_PROVIDER_URL": provider.url, "POLYBROKER_HTTP_PROVIDER_TOKEN": token, "POLYBROKER_HEALTH_CHECK_SECONDS": "0.2",
            ])
        let catalog = configuration.catalog
        let offering = try #require(catalog.offering("remote-api"))
        let body: JSONValue = [
            "service_id": .string(offering.id), "plan_id": .string(offering.plans[0].id), "organization_guid": "o", "space_guid": "s",
        ]
        try await GatewayFixture.withLiveGateway(configuration) { client, handle in
            #expect(try await Self.waitFor(client, "remote-api", status: "online")?["health"] == "healthy")
            #expect(try await Self.send(client, .put, "/cf/v2/service_instances/r-1", body: body).status == .created)
            provider.stop()
            let offline = try #require(try await Self.waitFor(client, "remote-api", status: "offline"))
            #expect(offline["health"] == "unhealthy")
            let reason = try #require(offline["reason"]?.stringValue)
            #expect(reason.contains("127.0.0.1:\(port)"))
            #expect(!reason.contains(token))
            // New instances cannot go to it; the platform gets a clear 503
            let refused = try await Self.send(client, .put, "/cf/v2/service_instances/r-2", body: body)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.json?["description"]?.stringValue?.contains("no live provider") == true)
            // Back on the same port: online again, and work goes on with nothing lost
            let restarted = try await ExampleHTTPProvider.start(state: state, token: token, port: port)
            defer { restarted.stop() }
            #expect(try await Self.waitFor(client, "remote-api", status: "online")?["health"] == "healthy")
            #expect(try await Self.send(client, .put, "/cf/v2/service_instances/r-2", body: body).status == .created)
            #expect(restarted.state()["instances"]?.objectValue?.keys.sorted() == ["r-1", "r-2"])
            let events = try await handle.broker.events(EventFilter(subject: "remote-api"), page: .all).items
            let kinds = events.map { "\($0.type):\($0.payload["reason"]?.stringValue ?? "")" }
            #expect(kinds.contains("provider.timeout:unreachable"))
            #expect(kinds.contains("provider.join:reachable"))
        }
    }

    @Test func httpAndRedisProvidersRegisterAtRunTimeThroughTheRegistryAndApcera() async throws {
        let directory = TemporaryDirectory("kinds")
        let token = "remote-token-\(UUID().uuidString.prefix(8))"
        let provider = try await ExampleHTTPProvider.start(state: directory.url.appendingPathComponent("provider.json"), token: token)
        defer { provider.stop() }
        var environment = [
            "POLYBROKER_HTTP_PROVIDER_URL": "http://127.0.0.1:\(ProviderUnderTest.closedPort)", "POLYBROKER_HTTP_PROVIDER_TOKEN": "unused",
            "POLYBROKER_APCERA_PROVIDER_REGISTRATION": "true",
        ]
        let redisURL = Self.environment["POLYBROKER_TEST_REDIS_URL"]
        if let redisURL { environment["POLYBROKER_REDIS_URL"] = redisURL }
        let configuration = try GatewayFixture.configuration(in: directory, environment: environment)
        try await GatewayFixture.withLiveGateway(configuration) { client, _ in
            let registry = "Token acme-token"
            let registered = try await Self.send(
                client, .post, "/registry/v1.0/acme/providers",
                body: ["id": "acme-api", "kind": "http", "type": "remote-api", "params": ["url": .string(provider.url), "token": .string(token)]],
                authorization: registry)
            #expect(registered.status == .created)
            #expect(registered.json?["params"]?["token"] == "********")
            let shown = registered.json?.canonicalText() ?? ""
            #expect(!shown.contains(token))
            // The tenant's own live provider serves its services (the configured one is unreachable)
            let service = try await Self.send(
                client, .post, "/registry/v1.0/acme/services", body: ["type": "remote-api", "plan": "standard"], authorization: registry)
            #expect(service.status == .created)
            #expect(service.json?["creds"]?["uri"]?.stringValue?.hasPrefix(provider.url + "/api/") == true)
            // Unreachable params are refused before anything is saved
            let down = try await Self.send(
                client, .post, "/registry/v1.0/acme/providers",
                body: ["id": "acme-down", "kind": "http", "type": "remote-api", "params": ["url": .string("http://127.0.0.1:\(ProviderUnderTest.closedPort)"), "token": "x"]],
                authorization: registry)
            #expect(down.status == .badGateway)
            #expect(try await Self.send(client, .get, "/registry/v1.0/acme/providers/acme-down", authorization: registry).status == .notFound)
            // Apcera registers the same kind by type
            let apcera = try await Self.send(
                client, .post, "/apcera/providers", body: ["name": "remote", "type": "http", "params": ["url": .string(provider.url), "token": .string(token)]])
            #expect(apcera.status == .ok)
            #expect(apcera.json?["type"] == "http")
            let apceraShown = apcera.json?.canonicalText() ?? ""
            #expect(!apceraShown.contains(token))
            if let redisURL {
                let redis = try await Self.send(
                    client, .post, "/registry/v1.0/acme/providers",
                    body: ["id": "acme-redis", "kind": "redis", "type": "redis", "params": ["url": .string(redisURL)]], authorization: registry)
                #expect(redis.status == .created)
                #expect(redis.json?["params"]?["url"] == "********")
                let namespace = try await Self.send(
                    client, .post, "/registry/v1.0/acme/services", body: ["type": "redis", "plan": "small", "provider": "acme-redis"],
                    authorization: registry)
                #expect(namespace.status == .created)
                #expect(namespace.json?["creds"]?["key_prefix"]?.stringValue?.isEmpty == false)
                let name = try #require(namespace.json?["name"]?.stringValue)
                #expect(try await Self.send(client, .delete, "/registry/v1.0/acme/services/\(name)", authorization: registry).status == .noContent)
            }
            let name = try #require(service.json?["name"]?.stringValue)
            #expect(try await Self.send(client, .delete, "/registry/v1.0/acme/services/\(name)", authorization: registry).status == .noContent)
            #expect(provider.state()["instances"] == .object([:]))
        }
    }
}

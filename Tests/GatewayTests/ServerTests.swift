import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LedgerSQLite
import NIOCore
import Testing
import TestSupport

@Suite("Server: health, routing errors, limits, request ids, shutdown")
struct ServerTests {
    func json(_ buffer: ByteBuffer) -> JSONValue? {
        JSONValue.parse(Data(buffer.readableBytesView))
    }

    @Test func healthzAnswersAndReadyzListsProviders() async throws {
        let directory = TemporaryDirectory("server")
        let app = try await buildApplication(configuration: GatewayFixture.configuration(in: directory), logger: GatewayFixture.logger)
        try await app.test(.live) { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(health.headers[.contentType] == "application/json")
            #expect(json(health.body) == ["status": "ok"])
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(
                json(ready.body) == [
                    "status": "ready", "ledger": "ok",
                    "providers": [
                        ["id": "sqlite-local", "kind": "sqlite", "status": "online", "health": "healthy"],
                        ["id": "static-api", "kind": "static", "status": "online", "health": "healthy"],
                    ],
                ])
        }
    }

    @Test func unknownPathsAndWrongMethodsGetJSONErrors() async throws {
        let directory = TemporaryDirectory("server")
        let app = try await buildApplication(configuration: GatewayFixture.configuration(in: directory), logger: GatewayFixture.logger)
        try await app.test(.live) { client in
            let missing = try await client.execute(uri: "/no/such/path", method: .get)
            #expect(missing.status == .notFound)
            #expect(json(missing.body) == ["error": "Not Found", "message": "no route for GET /no/such/path"])
            let wrong = try await client.execute(uri: "/healthz", method: .delete)
            #expect(wrong.status == .methodNotAllowed)
            #expect(wrong.headers[.allow] == "GET")
            #expect(json(wrong.body) == ["error": "Method Not Allowed", "message": "DELETE is not allowed on /healthz"])
        }
    }

    @Test func oversizedBodiesGet413AndRequestIDsAreEchoed() async throws {
        let directory = TemporaryDirectory("server")
        let configuration = try GatewayFixture.configuration(in: directory, environment: ["POLYBROKER_MAX_BODY_BYTES": "1024"])
        let app = try await buildApplication(configuration: configuration, logger: GatewayFixture.logger)
        try await app.test(.live) { client in
            let big = ByteBuffer(repeating: UInt8(ascii: "x"), count: 4096)
            let response = try await client.execute(uri: "/healthz", method: .post, body: big)
            #expect(response.status == .contentTooLarge)
            #expect(json(response.body) == ["error": "Content Too Large", "message": "the request body is larger than 1024 bytes"])
            var headers = HTTPFields()
            headers[HTTPField.Name("X-Request-ID")!] = "trace-42"
            let echoed = try await client.execute(uri: "/nowhere", method: .get, headers: headers)
            #expect(echoed.headers[HTTPField.Name("X-Request-ID")!] == "trace-42")
            let generated = try await client.execute(uri: "/healthz", method: .get)
            #expect(generated.headers[HTTPField.Name("X-Request-ID")!]?.isEmpty == false)
        }
    }

    @Test func secretsAreGeneratedOnceWithMode0600AndReusedAfterARestart() async throws {
        let directory = TemporaryDirectory("server")
        var configuration = try GatewayFixture.configuration(in: directory)
        configuration.password = nil
        configuration.registryTokens = nil
        let first = try await Gateway.build(configuration: configuration, logger: GatewayFixture.logger)
        #expect(Set(first.secrets.generatedFiles.map { ($0 as NSString).lastPathComponent }) == ["password", "registry-tokens", "ledger.key", "apcera-state.key"])
        for file in first.secrets.generatedFiles {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }
        #expect(first.secrets.password.count >= 32)
        #expect(first.secrets.registryTokens.first?.tenant == "default")
        try await first.ledger.close()
        let second = try await Gateway.build(configuration: configuration, logger: GatewayFixture.logger)
        #expect(second.secrets.generatedFiles.isEmpty)
        #expect(second.secrets.password == first.secrets.password)
        try await second.ledger.close()
    }

    @Test func shutdownLetsBackgroundWorkFinishAndStateSurvivesARestart() async throws {
        let directory = TemporaryDirectory("server")
        let configuration = try GatewayFixture.configuration(in: directory)
        let gateway = try await Gateway.build(configuration: configuration, logger: GatewayFixture.logger)
        let broker = gateway.broker
        let operationID = try await gateway.makeApplication().test(.live) { _ in
            // An asynchronous plan (sqlite/large takes at least 3 s) is still running when the server stops
            let outcome = try await broker.provision(
                ProvisionCommand(
                    instanceID: "survivor", offering: "sqlite", plan: "large", tenant: "acme", acceptsIncomplete: true,
                    origin: RequestOrigin(protocolName: "cf")))
            guard case .accepted(_, let operation) = outcome else { throw BrokerError.invalidRequest("not accepted") }
            return operation.id
        }
        // After a restart the operation has finished and the database file exists
        let restarted = try await Gateway.build(configuration: configuration, logger: GatewayFixture.logger)
        let aggregate = try #require(try await restarted.broker.instance(.id("survivor")))
        #expect(aggregate.instance.state == .ready)
        #expect(try await restarted.broker.lastOperation(instance: .id("survivor"), operationID: operationID)?.1?.state == .succeeded)
        let file = directory.url.appendingPathComponent("providers/sqlite-local/survivor.sqlite").path
        #expect(FileManager.default.fileExists(atPath: file))
        try await restarted.ledger.close()
    }
}

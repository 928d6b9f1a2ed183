import BrokerCore
import Foundation
import Gateway
import HTTPSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import RemoteHTTPProvider
import Testing
import TestSupport
import UpstreamOSBProvider

/// The `http` and `osb` kinds against real servers: the example provider service, a second
/// Polybroker, and a scripted server that fails on purpose.
@Suite("Remote providers")
struct RemoteProviderTests {
    static let plan = PlanReference(id: "plan-id", name: "small")
    static let logger = Logger(label: "remote-test")

    static func environment(_ directory: TemporaryDirectory) -> PluginEnvironment {
        PluginEnvironment(providerID: "p-remote", dataDirectory: directory.url, logger: logger)
    }

    // MARK: http

    @Test func httpCredentialsOpenTheServiceAndUnbindRevokesExactlyThatBinding() async throws {
        let directory = TemporaryDirectory("remote")
        let server = try await ExampleHTTPProvider.start(state: directory.url.appendingPathComponent("state.json"), token: "t-1")
        defer { server.stop() }
        let plugin = try RemoteHTTPProvider.factory.make(["url": .string(server.url), "token": "t-1"], Self.environment(directory))
        let state = try await plugin.provision(ProvisionRequest(instanceID: "i-1", name: "one", offering: "api", plan: Self.plan, parameters: ["size": 2]))
        #expect(state.state["api"] == "/api/i-1")
        #expect(state.state["protocol_version"] == "1")
        // What the provider holds is exactly what Polybroker sent
        let stored = server.state()["instances"]?["i-1"]
        #expect(stored?["name"] == "one")
        #expect(stored?["offering"] == "api")
        #expect(stored?["params"] == ["size": 2])
        #expect(stored?["plan"]?["name"] == "small")
        let first = try await plugin.bind(BindRequest(instanceID: "i-1", bindingID: "b-1", plan: Self.plan, parameters: .emptyObject, state: state.state))
        let second = try await plugin.bind(BindRequest(instanceID: "i-1", bindingID: "b-2", plan: Self.plan, parameters: .emptyObject, state: state.state))
        // Numbers in the answer become strings
        #expect(first["port"] == server.url.split(separator: ":").last.map(String.init))
        #expect(try await Self.whoami(first) == 200)
        #expect(try await Self.whoami(second) == 200)
        try await plugin.unbind(UnbindRequest(instanceID: "i-1", bindingID: "b-1", credentials: first, state: state.state))
        #expect(try await Self.whoami(first) == 401)
        #expect(try await Self.whoami(second) == 200)
        try await plugin.deprovision(DeprovisionRequest(instanceID: "i-1", plan: Self.plan, state: state.state))
        #expect(try await Self.whoami(second) == 401)
        #expect(server.state()["instances"] == .object([:]))
    }

    @Test func httpWrongTokenIsRefusedWithTheServiceReasonAndNoSecret() async throws {
        let directory = TemporaryDirectory("remote")
        let server = try await ExampleHTTPProvider.start(state: directory.url.appendingPathComponent("state.json"), token: "right-token")
        defer { server.stop() }
        let plugin = try RemoteHTTPProvider.factory.make(["url": .string(server.url), "token": "wrong-token-123"], Self.environment(directory))
        let error = await #expect(throws: ProviderError.self) {
            try await plugin.provision(ProvisionRequest(instanceID: "i", name: "i", offering: "o", plan: Self.plan, parameters: [:]))
        }
        #expect(error?.description.contains("(401): bad credentials") == true)
        #expect(error?.description.contains("wrong-token-123") == false)
        #expect(await plugin.health() != .healthy)
    }

    /// GET {uri}/whoami with the binding's token.
    static func whoami(_ credentials: Credentials) async throws -> Int {
        let endpoint = try #require(RemoteEndpoint(url: credentials["uri"]!, authentication: .bearer(credentials["token"]!)))
        return try await endpoint.send(.GET, "/whoami").status
    }

    @Test func httpDeletesAreRetriedWithBackoffAndAFailedCreateIsCleanedUp() async throws {
        let script = ScriptedServer.Script([
            "POST /instances": [503],
            "DELETE /instances/i-9": [503, 502, 204],
            "POST /instances/i-1/bindings": [500],
            "DELETE /instances/i-1/bindings/b-1": [503, 410],
        ])
        try await ScriptedServer.run(script) { url in
            let plugin = try RemoteHTTPProvider.factory.make(
                ["url": .string(url), "username": "pb", "password": "secret-pw", "retries": 3, "retry_delay_seconds": 0.05],
                Self.environment(TemporaryDirectory("remote")))
            let error = await #expect(throws: ProviderError.self) {
                try await plugin.provision(ProvisionRequest(instanceID: "i-9", name: "n", offering: "o", plan: Self.plan, parameters: [:]))
            }
            #expect(error?.description.contains("(503)") == true)
            await #expect(throws: ProviderError.self) {
                try await plugin.bind(BindRequest(instanceID: "i-1", bindingID: "b-1", plan: Self.plan, parameters: [:], state: [:]))
            }
            let requests = await script.requests
            // Per resource, in order (a loaded machine may lose the bind's POST to a connect timeout:
            // the cleanup follows all the same)
            let instance = requests.map(\.line).filter { $0.hasSuffix("/instances") || $0.hasSuffix("/instances/i-9") }
            #expect(instance == ["POST /instances", "DELETE /instances/i-9", "DELETE /instances/i-9", "DELETE /instances/i-9"])
            let binding = requests.map(\.line).filter { $0.contains("/i-1/") }
            #expect(binding.suffix(2) == ["DELETE /instances/i-1/bindings/b-1", "DELETE /instances/i-1/bindings/b-1"])
            #expect(binding.count <= 3)
            // Protocol version and basic auth on every request
            #expect(requests.allSatisfy { $0.headers["X-Polybroker-Provider-API"] == "1" })
            #expect(requests.allSatisfy { $0.headers["Authorization"] == "Basic " + Data("pb:secret-pw".utf8).base64EncodedString() })
        }
    }

    @Test func httpDeleteGivesUpAfterItsRetriesAndSaysSo() async throws {
        let script = ScriptedServer.Script(["DELETE /instances/i-2": [503, 503]])
        try await ScriptedServer.run(script) { url in
            let plugin = try RemoteHTTPProvider.factory.make(
                ["url": .string(url), "retries": 1, "retry_delay_seconds": 0.05], Self.environment(TemporaryDirectory("remote")))
            let error = await #expect(throws: ProviderError.self) {
                try await plugin.deprovision(DeprovisionRequest(instanceID: "i-2", plan: Self.plan, state: [:]))
            }
            #expect(error?.description.contains("failed to delete instance 'i-2' (503)") == true)
            #expect(await script.requests.count == 2)
        }
    }

    @Test(arguments: [
        (["url": "ftp://x"] as JSONValue, ["'url' is required: an http:// or https:// URL"]),
        (["url": "http://h", "token": "t", "username": "u"] as JSONValue, ["give either 'token' or 'username'/'password', not both"]),
        (["url": "http://h", "retries": 99, "timeout_seconds": 0] as JSONValue, ["'timeout_seconds' must be a positive number", "'retries' must be an integer from 0 to 20"]),
        (["url": "http://h", "colour": "red"] as JSONValue, [
            "unknown parameter 'colour': the http provider takes 'password', 'retries', 'retry_delay_seconds', 'timeout_seconds', 'token', 'url', 'username'",
        ]),
    ])
    func httpParamsAreCheckedKeyByKey(params: JSONValue, problems: [String]) {
        #expect(RemoteHTTPProvider.factory.validate(params) == problems)
    }

    // MARK: osb

    @Test func osbAsynchronousPlanIsPolledUntilReadyAndItsCredentialsWork() async throws {
        try await GatewayFixture.withUpstreamBroker { url, handle in
            let plugin = try UpstreamOSBProvider.factory.make(
                [
                    "url": .string(url), "username": "polybroker", "password": .string(GatewayFixture.password),
                    "poll_interval_seconds": 30,
                ], Self.environment(TemporaryDirectory("remote")))
            // `large` is asynchronous upstream (≥ 3 s): provision returns once last_operation says succeeded,
            // polling soon and then at the upstream's Retry-After (1 s), not at the 30 s default.
            let large = PlanReference(id: "x", name: "large")
            let started = Date()
            let result = try await plugin.provision(ProvisionRequest(instanceID: "up-1", name: "up-1", offering: "sqlite", plan: large, parameters: [:]))
            #expect(Date().timeIntervalSince(started) < 25)
            let upstreamInstance = try #require(try await handle.broker.instance(.id("up-1")))
            #expect(upstreamInstance.instance.state == .ready)
            #expect(result.state["service_id"] == upstreamInstance.instance.offeringID)
            #expect(result.state["plan_id"] == upstreamInstance.instance.planID)
            // Upstream context says who the platform is
            #expect(upstreamInstance.instance.context["context"]?["platform"] == "polybroker")
            let credentials = try await plugin.bind(BindRequest(instanceID: "up-1", bindingID: "ub-1", plan: large, parameters: [:], state: result.state))
            let path = try #require(credentials["path"])
            #expect(FileManager.default.fileExists(atPath: path))
            // Plan change upstream
            try await plugin.update(UpdateRequest(instanceID: "up-1", previousPlan: large, plan: Self.plan, parameters: [:], state: result.state))
            let updated = try #require(try await handle.broker.instance(.id("up-1")))
            #expect(updated.instance.planID != upstreamInstance.instance.planID)
            try await plugin.unbind(UnbindRequest(instanceID: "up-1", bindingID: "ub-1", credentials: credentials, state: result.state))
            try await plugin.deprovision(DeprovisionRequest(instanceID: "up-1", plan: Self.plan, state: result.state))
            let gone = try await handle.broker.instance(.id("up-1"))
            #expect(gone?.instance.state == .deleted)
            #expect(!FileManager.default.fileExists(atPath: path))
            // A plan the upstream does not have is a clear failure
            let error = await #expect(throws: ProviderError.self) {
                try await plugin.provision(
                    ProvisionRequest(instanceID: "up-2", name: "up-2", offering: "sqlite", plan: PlanReference(id: "y", name: "huge"), parameters: [:]))
            }
            #expect(error?.description.contains("has no plan 'huge' of service 'sqlite'") == true)
        }
    }

    @Test func osbSpeaksAsThePlatformAndMitigatesOrphansAfterA5xx() async throws {
        let catalog: JSONValue = [
            "services": [["id": "svc-1", "name": "db", "plans": [["id": "plan-1", "name": "small"]]]]
        ]
        let script = ScriptedServer.Script(
            [
                "PUT /v2/service_instances/i-1": [500],
                "DELETE /v2/service_instances/i-1": [503, 200],
                "PUT /v2/service_instances/i-2": [201],
                "PUT /v2/service_instances/i-2/service_bindings/b-1": [504],
                "DELETE /v2/service_instances/i-2/service_bindings/b-1": [410],
            ], bodies: ["GET /v2/catalog": catalog, "PUT /v2/service_instances/i-2": ["dashboard_url": "https://dash/i-2"]])
        try await ScriptedServer.run(script) { url in
            let plugin = try UpstreamOSBProvider.factory.make(
                ["url": .string(url), "username": "u", "password": "p", "retries": 2, "retry_delay_seconds": 0.05, "api_version": "2.16"],
                Self.environment(TemporaryDirectory("remote")))
            await #expect(throws: ProviderError.self) {
                try await plugin.provision(ProvisionRequest(instanceID: "i-1", name: "one", offering: "db", plan: Self.plan, parameters: [:]))
            }
            let made = try await plugin.provision(ProvisionRequest(instanceID: "i-2", name: "two", offering: "db", plan: Self.plan, parameters: [:]))
            #expect(made.dashboardURL == "https://dash/i-2")
            #expect(made.state == ["service_id": "svc-1", "plan_id": "plan-1"])
            await #expect(throws: ProviderError.self) {
                try await plugin.bind(BindRequest(instanceID: "i-2", bindingID: "b-1", plan: Self.plan, parameters: [:], state: made.state))
            }
            let requests = await script.requests
            #expect(
                requests.map(\.line) == [
                    "GET /v2/catalog", "PUT /v2/service_instances/i-1", "DELETE /v2/service_instances/i-1", "DELETE /v2/service_instances/i-1",
                    "PUT /v2/service_instances/i-2", "PUT /v2/service_instances/i-2/service_bindings/b-1",
                    "DELETE /v2/service_instances/i-2/service_bindings/b-1",
                ])
            #expect(requests.allSatisfy { $0.headers["X-Broker-API-Version"] == "2.16" })
            #expect(requests.allSatisfy { $0.headers["X-Broker-API-Originating-Identity"]?.hasPrefix("polybroker ") == true })
            let put = try #require(requests.first { $0.line == "PUT /v2/service_instances/i-2" })
            #expect(put.query == "accepts_incomplete=true")
            #expect(put.body?["service_id"] == "svc-1")
            #expect(put.body?["plan_id"] == "plan-1")
            #expect(put.body?["context"]?["instance_name"] == "two")
            let delete = try #require(requests.first { $0.line == "DELETE /v2/service_instances/i-1" })
            #expect(delete.query == "service_id=svc-1&plan_id=plan-1&accepts_incomplete=true")
        }
    }
}

/// A server that answers each `METHOD /path` with the next status of its script (200 `{}` when the
/// script has none left) and records every request.
enum ScriptedServer {
    struct Recorded: Sendable {
        let line: String
        let query: String?
        let headers: [String: String]
        let body: JSONValue?
    }

    actor Script {
        var statuses: [String: [Int]]
        let bodies: [String: JSONValue]
        var requests: [Recorded] = []

        init(_ statuses: [String: [Int]], bodies: [String: JSONValue] = [:]) {
            self.statuses = statuses
            self.bodies = bodies
        }

        func answer(_ recorded: Recorded) -> (Int, JSONValue) {
            requests.append(recorded)
            var queue = statuses[recorded.line] ?? []
            let status = queue.isEmpty ? 200 : queue.removeFirst()
            statuses[recorded.line] = queue
            return (status, bodies[recorded.line] ?? .emptyObject)
        }
    }

    static func run(_ script: Script, _ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        router.on("**", method: .get) { request, context in try await answer(request, script) }
        for method in [HTTPRequest.Method.put, .post, .patch, .delete] {
            router.on("**", method: method) { request, context in try await answer(request, script) }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)")
        }
    }

    static func answer(_ request: Request, _ script: Script) async throws -> Response {
        let bytes = try await request.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        for field in request.headers { headers[field.name.rawName] = field.value }
        let recorded = Recorded(
            line: "\(request.method.rawValue) \(request.uri.path)", query: request.uri.query, headers: headers,
            body: bytes.readableBytes == 0 ? nil : JSONValue.parse(Data(bytes.readableBytesView)))
        let (status, body) = await script.answer(recorded)
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body.canonicalText())))
    }
}

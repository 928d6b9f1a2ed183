import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

@Suite("Apcera: methods, auth, providers, services, bindings, deletes")
struct ApceraFlowTests {
    static let methods: JSONValue = [
        "/providers": ["POST": ["params": ["url": "postgresql://admin:secret@db.example.com:5432/postgres"]]],
        "/providers/:id": ["DELETE": [:]],
        "/services": ["POST": ["params": ["offering": "sqlite", "plan": "small"]]],
        "/services/:id": ["DELETE": [:]],
        "/bindings": ["POST": [:]],
        "/bindings/:id": ["DELETE": [:]],
    ]

    @Test func a1A2A3MethodsObjectWithAndWithoutTrailingSlash() async throws {
        try await ApceraFixture.withServer { apcera, _ in
            for path in ["", "/"] {
                let reply = try await apcera.send(.get, path, contentType: nil)
                #expect(reply.status == .ok)
                #expect(reply.json == Self.methods)
            }
        }
    }

    @Test func a4TwoTierGatewayHasNoProviderRoutes() async throws {
        try await ApceraFixture.withServer(settings: ["provider_registration": false]) { apcera, _ in
            var expected = Self.methods.objectValue!
            expected["/providers"] = nil
            expected["/providers/:id"] = nil
            #expect(try await apcera.send(.get, "").json == .object(expected))
            let refused = try await apcera.send(.post, "/providers", body: ["type": "sqlite"])
            #expect(refused.status == .notFound)
            #expect(refused["error"] == "not_found")
            #expect(try await apcera.send(.post, "/services", body: ["name": "two-tier"]).status == .ok)
        }
    }

    @Test func a5A7A8UnknownRoutesWrongMethodsAndCredentialsFirst() async throws {
        try await ApceraFixture.withServer { apcera, handle in
            #expect(try await apcera.send(.get, "/nothing/here").status == .notFound)
            let wrong = try await apcera.send(.get, "/services")
            #expect(wrong.status == .methodNotAllowed)
            #expect(wrong["error"] == "method_not_allowed")
            for authorization in ["Basic " + Data("polybroker:nope".utf8).base64EncodedString(), "Bearer made-up-token", ""] {
                var intruder = apcera
                intruder.authorization = authorization
                let denied = try await intruder.send(.post, "/services", raw: "{broken", service: "forged")
                #expect(denied.status == .unauthorized)
                #expect(denied.headers[.wwwAuthenticate] == "Basic realm=\"polybroker-apcera\"")
                #expect(denied.json == ["error": "unauthorized", "message": "missing or wrong credentials"])
                #expect(try await intruder.send(.get, "").status == .unauthorized)
            }
            #expect(try await handle.broker.instances().items.isEmpty)
        }
    }

    @Test func a9ToA15ProviderLifecycle() async throws {
        try await ApceraFixture.withServer { apcera, handle in
            let created = try await apcera.send(
                .post, "/providers", body: ["name": "weather", "description": "a SaaS", "type": "generic", "params": ["url": "https://api.weather.example/v1", "api_key": "s3cr3t-key"]])
            #expect(created.status == .ok)
            let id = try #require(created["id"]?.stringValue)
            #expect(UUID(uuidString: id) != nil)
            #expect(created.json == ["id": .string(id), "name": "weather", "description": "a SaaS", "type": "generic"])
            let state = try #require(created.providerState)
            #expect(state.count <= 4096 && state.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            #expect(!(String(data: Data(base64Encoded: state.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/").padding(toLength: (state.count + 3) / 4 * 4, withPad: "=", startingAt: 0)) ?? Data(), encoding: .isoLatin1) ?? "").contains("s3cr3t-key"))
            #expect(try await handle.broker.provider(id: id)?.kind == "static")
            // A10: no name → generated
            let unnamed = try await apcera.send(.post, "/providers", body: ["type": "sqlite"])
            #expect(unnamed["name"]?.stringValue?.hasPrefix("sqlite-") == true)
            // A11: bad input creates nothing
            for body: JSONValue in [
                ["type": "mysql"], ["name": "x"], ["type": 7], ["type": "generic"], ["type": "generic", "params": ["url": 1]],
                ["type": "sqlite", "params": ["path": "/tmp"]], ["type": "sqlite", "name": "bad name!"],
            ] {
                let reply = try await apcera.send(.post, "/providers", body: body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply["error"] == "bad_request")
                #expect(reply.hasNoState)
            }
            // A13: name taken
            #expect(try await apcera.send(.post, "/providers", body: ["name": "weather", "type": "sqlite"]).status == .conflict)
            // A15: a provider with services is kept
            let service = try await apcera.send(.post, "/services", body: ["name": "forecast", "provider_id": .string(id)], provider: state)
            #expect(service.status == .ok)
            let busy = try await apcera.send(.delete, "/providers/\(id)")
            #expect(busy.status == .conflict)
            #expect(busy["message"] == "provider 'weather' still holds 1 service instance(s)")
            _ = try await apcera.send(.delete, "/services/\(service["id"]!.stringValue!)")
            let removed = try await apcera.send(.delete, "/providers/\(id)", provider: state)
            #expect(removed.status == .ok)
            #expect(removed.json == ["id": .string(id), "name": "weather"])
            #expect(removed.hasNoState)
            #expect(try await apcera.send(.delete, "/providers/\(id)").status == .notFound)
            #expect(try await apcera.send(.delete, "/providers/\(id)", provider: state).status == .notFound)  // A43
            #expect(try await apcera.send(.delete, "/providers/never-seen").status == .notFound)
            #expect(try await apcera.send(.delete, "/providers/sqlite-local").status == .conflict)
        }
    }

    @Test func a16ToA23ServicesOnDefaultsOnProvidersAndAsync() async throws {
        try await ApceraFixture.withServer { apcera, handle in
            let plain = try await apcera.send(.post, "/services", body: ["name": "db-one", "params": ["size": 3]])
            #expect(plain.status == .ok)
            let id = try #require(plain["id"]?.stringValue)
            #expect(plain.json == ["id": .string(id), "name": "db-one", "description": "", "provider_id": "sqlite-local", "params": ["size": 3, "offering": "sqlite", "plan": "small"]])
            #expect(plain.serviceState != nil)
            // A17: explicit offering/plan honoured; unknown or wrong kind refused
            let large = try await apcera.send(.post, "/services", body: ["params": ["offering": "sqlite", "plan": "large"]])
            #expect(large.status == .ok)  // A22: answered only once ready
            #expect(try await handle.broker.instance(.id(large["id"]!.stringValue!))?.instance.state == .ready)
            #expect(large["name"]?.stringValue?.hasPrefix("sqlite-") == true)
            #expect(try await apcera.send(.post, "/services", body: ["params": ["offering": "nope"]]).status == .badRequest)
            #expect(try await apcera.send(.post, "/services", body: ["params": ["plan": "huge"]]).status == .badRequest)
            #expect(try await apcera.send(.post, "/services", body: ["provider_id": "static-api", "params": ["offering": "sqlite"]]).status == .badRequest)
            #expect(try await apcera.send(.post, "/services", body: ["provider_id": "static-api"])["params"]?["offering"] == "static-api")
            // A19: unknown provider without state
            #expect(try await apcera.send(.post, "/services", body: ["provider_id": "ghost"]).status == .notFound)
            // A20: a taken name; A21: explicit id, identical repeat and different attributes
            #expect(try await apcera.send(.post, "/services", body: ["name": "db-one"]).status == .conflict)
            let explicit = try await apcera.send(.post, "/services", body: ["id": "svc-42", "name": "db-42", "description": "d"])
            #expect(explicit.status == .ok)
            #expect(try await apcera.send(.post, "/services", body: ["id": "svc-42", "name": "db-42", "description": "d"]).json == explicit.json)
            #expect(try await apcera.send(.post, "/services", body: ["id": "svc-42", "name": "db-42", "description": "other"]).status == .conflict)
            // A23: the sqlite file lives as long as the service
            let binding = try await apcera.send(.post, "/bindings", body: ["service_id": .string(id)])
            let path = try #require(binding["credentials"]?["path"]?.stringValue)
            #expect(FileManager.default.fileExists(atPath: path))
            #expect(try await apcera.send(.delete, "/services/\(id)", body: ["force": true]).status == .ok)
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func a20ParallelCreatesOfOneNameGiveOneService() async throws {
        try await ApceraFixture.withServer { apcera, handle in
            let statuses = await withTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<6 { group.addTask { (try? await apcera.send(.post, "/services", body: ["name": "racer"]).status) ?? .internalServerError } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .conflict }.count == 5)
            let count = try await handle.broker.instances().items.count
            #expect(count == 1)
        }
    }

    @Test func a24ToA29BindingsAndDeletes() async throws {
        try await ApceraFixture.withServer { apcera, _ in
            let provider = try await apcera.send(.post, "/providers", body: ["type": "generic", "params": ["url": "https://api.example.com/v2", "region": "eu"]])
            let service = try await apcera.send(
                .post, "/services", body: ["provider_id": provider["id"]!], provider: provider.providerState)
            let serviceID = try #require(service["id"]?.stringValue)
            let bound = try await apcera.send(.post, "/bindings", body: ["service_id": .string(serviceID), "name": "job-1"], service: service.serviceState)
            #expect(bound.status == .ok)
            let bindingID = try #require(bound["id"]?.stringValue)
            #expect(
                bound.json == [
                    "id": .string(bindingID), "name": "job-1", "description": "", "service_id": .string(serviceID),
                    "url": "https://api.example.com/v2", "protocol": ["scheme": "https"],
                    "credentials": ["uri": "https://api.example.com/v2", "region": "eu"], "params": [:],
                ])
            #expect(bound.bindingState != nil)
            // A26
            for body: JSONValue in [[:], ["service_id": ""], ["service_id": 5], ["service_id": .string(serviceID), "params": "x"]] {
                #expect(try await apcera.send(.post, "/bindings", body: body).status == .badRequest)
            }
            #expect(try await apcera.send(.post, "/bindings", body: ["service_id": "ghost"]).status == .notFound)
            // A28: a service with live bindings is kept unless forced
            let refused = try await apcera.send(.delete, "/services/\(serviceID)")
            #expect(refused.status == .conflict)
            #expect(refused.hasNoState)
            // A29: a body id that differs from the path
            #expect(try await apcera.send(.delete, "/bindings/\(bindingID)", body: ["id": "other"]).status == .badRequest)
            // A27
            let unbound = try await apcera.send(.delete, "/bindings/\(bindingID)", body: ["id": .string(bindingID)])
            #expect(unbound.status == .ok)
            #expect(unbound.json == ["id": .string(bindingID), "name": "job-1", "service_id": .string(serviceID)])
            #expect(try await apcera.send(.delete, "/bindings/\(bindingID)").status == .notFound)
            #expect(try await apcera.send(.delete, "/services/\(serviceID)").status == .ok)
            #expect(try await apcera.send(.delete, "/services/\(serviceID)").status == .notFound)
        }
    }

    @Test func a47A48A49MalformedInputIsA4xx() async throws {
        try await ApceraFixture.withServer { apcera, _ in
            expectStatus(try await apcera.send(.post, "/services", raw: "{\"name\":", contentType: "text/plain"), .badRequest)
            expectStatus(try await apcera.send(.post, "/services", raw: "[]"), .badRequest)
            expectStatus(try await apcera.send(.post, "/services", raw: String(repeating: "[", count: 5000)), .badRequest)
            expectStatus(try await apcera.send(.post, "/services", raw: "{\"name\":\"\\udc00\"}"), .badRequest)
            expectStatus(try await apcera.send(.post, "/services", body: ["name": "n", "params": ["plan": 3]]), .badRequest)
            expectStatus(try await apcera.send(.delete, "/services/%zz%"), .notFound)
            expectStatus(try await apcera.send(.post, "/services", raw: "{\"name\":\"no-content-type\"}", contentType: nil), .ok)
            let big = String(repeating: "x", count: 1_100_000)
            expectStatus(try await apcera.send(.post, "/services", raw: "{\"name\":\"\(big)\"}"), .contentTooLarge)
        }
    }

    @Test func anInstanceCreatedHereIsBoundThroughCFAndTsuruWithTheSameCredentials() async throws {
        try await ApceraFixture.withServer { apcera, handle in
            let service = try await apcera.send(.post, "/services", body: ["name": "shared-db"])
            let id = try #require(service["id"]?.stringValue)
            let viaApcera = try await apcera.send(.post, "/bindings", body: ["service_id": .string(id)])
            #expect(try await handle.broker.instance(.id(id))?.instance.createdBy == "apcera")
            var headers = HTTPFields()
            headers[.authorization] = "Basic " + Data("polybroker:\(GatewayFixture.password)".utf8).base64EncodedString()
            headers[HTTPField.Name("X-Broker-API-Version")!] = "2.17"
            let body: JSONValue = ["service_id": .string(ConfigLoader.stableID("offering:sqlite")), "plan_id": .string(ConfigLoader.stableID("plan:sqlite/small"))]
            let cf = try await apcera.client.execute(
                uri: "/cf/v2/service_instances/\(id)/service_bindings/cf-1", method: .put, headers: headers, body: ByteBuffer(string: body.canonicalText()))
            #expect(cf.status == .created)
            #expect(JSONValue.parse(Data(cf.body.readableBytesView))?["credentials"]?["uri"] == viaApcera["url"])
            headers[.authorization] = "Basic " + Data("sqlite:\(GatewayFixture.password)".utf8).base64EncodedString()
            headers[.contentType] = "application/x-www-form-urlencoded"
            let tsuru = try await apcera.client.execute(
                uri: "/tsuru/sqlite/resources/shared-db/bind-app", method: .post, headers: headers, body: ByteBuffer(string: "app-name=web"))
            #expect(tsuru.status == .created)
            #expect(JSONValue.parse(Data(tsuru.body.readableBytesView))?["POLYBROKER_SQLITE_URI"] == viaApcera["url"])
        }
    }
}

/// `#expect` on a status, for call sites where the macro cannot see the enclosing `throws`.
func expectStatus(_ reply: ApceraReply, _ status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reply.status == status, sourceLocation: sourceLocation)
}

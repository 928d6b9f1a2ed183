import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

@Suite("OSB: authentication, version header, identity headers, catalog, routing")
struct OSBGeneralTests {
    @Test func g1AuthenticationIsCheckedBeforeTheVersionHeader() async throws {
        try await OSBFixture.withServer { osb, _ in
            var intruder = osb
            intruder.password = "wrong"
            intruder.version = "garbage"
            let denied = try await intruder.send(.get, "catalog", headers: [OSBClient.requestIdentity: "rid-1"])
            #expect(denied.status == .unauthorized)
            #expect(denied.headers[.wwwAuthenticate] == "Basic realm=\"polybroker\"")
            #expect(denied.json == ["error": "Unauthorized", "description": "Not Authorized: basic authentication failed"])
            #expect(denied.headers[OSBClient.requestIdentity] == "rid-1")
        }
    }

    @Test(arguments: [nil, "", "  "] as [String?])
    func g2MissingOrEmptyVersionGets412ByDefault(version: String?) async throws {
        try await OSBFixture.withServer { osb, _ in
            var client = osb
            client.version = nil
            let headers: HTTPFields = version.map { [OSBClient.apiVersion: $0, OSBClient.requestIdentity: "rid-2"] } ?? [OSBClient.requestIdentity: "rid-2"]
            let reply = try await client.send(.get, "catalog", headers: headers)
            #expect(reply.status == .preconditionFailed)
            #expect(reply["error"] == "MissingVersion")
            #expect(reply.headers[OSBClient.requestIdentity] == "rid-2")
        }
    }

    @Test func g2MissingVersionGets400WhenConfigured() async throws {
        try await OSBFixture.withServer(osb: ["missing_version_status": 400]) { osb, _ in
            var client = osb
            client.version = nil
            let reply = try await client.send(.get, "catalog")
            #expect(reply.status == .badRequest)
        }
    }

    @Test(arguments: ["1.0", "3.2", "2", "two", "2.x"])
    func g3UnsupportedVersionsGet412(version: String) async throws {
        try await OSBFixture.withServer { osb, _ in
            var client = osb
            client.version = version
            let reply = try await client.send(.get, "catalog")
            #expect(reply.status == .preconditionFailed)
            #expect(reply["error"] == "UnsupportedVersion")
        }
    }

    @Test func g3AnyVersionAtOrAboveTheMinimumIsAccepted() async throws {
        try await OSBFixture.withServer(osb: ["minimum_version": "2.13"]) { osb, _ in
            for version in ["2.13", "2.14", "2.15", "2.17", "2.99"] {
                var client = osb
                client.version = version
                let reply = try await client.send(.get, "catalog")
                #expect(reply.status == .ok, "version \(version)")
            }
            var old = osb
            old.version = "2.12"
            let refused = try await old.send(.get, "catalog")
            #expect(refused.status == .preconditionFailed)
        }
    }

    @Test func c1CatalogMatchesTheFixtureAndSupportsETags() async throws {
        try await OSBFixture.withServer { osb, _ in
            let reply = try await osb.send(.get, "catalog")
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType] == "application/json")
            #expect(reply.json == (try OSBFixture.fixture("catalog")))
            let etag = try #require(reply.headers[.eTag])
            let cached = try await osb.send(.get, "catalog", headers: [.ifNoneMatch: etag])
            #expect(cached.status == .notModified)
        }
    }

    @Test func catalogCompat215LeavesOutNewerFields() async throws {
        try await OSBFixture.withServer(osb: ["catalog_compat": "2.15"]) { osb, _ in
            let reply = try await osb.send(.get, "catalog")
            let plans = reply["services"]?.arrayValue?.flatMap { $0["plans"]?.arrayValue ?? [] } ?? []
            #expect(!plans.isEmpty)
            #expect(plans.allSatisfy { $0["binding_rotatable"] == nil && $0["metadata"] == nil })
        }
    }

    @Test func g6RequestIdentityIsEchoedOnSuccessAndOnGatewayErrors() async throws {
        try await OSBFixture.withServer { osb, _ in
            let ok = try await osb.send(.get, "catalog", headers: [OSBClient.requestIdentity: "rid-ok"])
            #expect(ok.headers[OSBClient.requestIdentity] == "rid-ok")
            let unknown = try await osb.send(.get, "no_such_thing", headers: [OSBClient.requestIdentity: "rid-404"])
            #expect(unknown.status == .notFound)
            #expect(unknown.json == ["description": "no route for GET /cf/v2/no_such_thing"])
            #expect(unknown.headers[OSBClient.requestIdentity] == "rid-404")
            let wrongMethod = try await osb.send(.post, "catalog", headers: [OSBClient.requestIdentity: "rid-405"])
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "GET")
            #expect(wrongMethod.headers[OSBClient.requestIdentity] == "rid-405")
        }
    }

    @Test func g5OriginatingIdentityIsRecordedAndNeverRequired() async throws {
        try await OSBFixture.withServer { osb, handle in
            let identity = "cloudfoundry " + Data(#"{"user_id":"683ea748-3092-4ff4-b656-39cacc4d5360"}"#.utf8).base64EncodedString()
            let reply = try await osb.send(
                .put, "service_instances/oi-1", body: OSBFixture.provision(), headers: [OSBClient.originatingIdentity: identity])
            #expect(reply.status == .created)
            let operation = try #require(try await handle.broker.lastOperation(instance: .id("oi-1"))?.1)
            #expect(operation.origin.identity == ["platform": "cloudfoundry", "value": ["user_id": "683ea748-3092-4ff4-b656-39cacc4d5360"]])
            #expect(operation.origin.protocolName == "cf")
            // A malformed header is recorded as given, not refused (lenient by default)
            let odd = try await osb.send(.put, "service_instances/oi-2", body: OSBFixture.provision(), headers: [OSBClient.originatingIdentity: "???"])
            #expect(odd.status == .created)
        }
    }

    @Test func openAPIDocumentIsServedWithoutAuthentication() async throws {
        try await OSBFixture.withServer { osb, _ in
            let response = try await osb.client.execute(uri: "/cf/openapi.yaml", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/yaml")
            #expect(String(buffer: response.body).hasPrefix("openapi: 3"))
        }
    }

    @Test func g7G16UnknownFieldsAreIgnoredAndPathIDsArePercentDecoded() async throws {
        try await OSBFixture.withServer { osb, handle in
            var body = OSBFixture.provision().objectValue!
            body["x-vendor-extension"] = ["anything": [1, 2]]
            body["context"] = ["platform": "kubernetes", "namespace": "ns-1", "clusterid": "c-1"]
            let reply = try await osb.send(.put, "service_instances/a%20b%3Ac", body: .object(body))
            #expect(reply.status == .created)
            let instance = try #require(try await handle.broker.instance(.id("a b:c"))?.instance)
            #expect(instance.context["context"]?["namespace"] == "ns-1")
            #expect(try await osb.send(.get, "service_instances/a%20b%3Ac").status == .ok)
        }
    }
}

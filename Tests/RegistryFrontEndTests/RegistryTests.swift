import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

@Suite("Registry: tenants, sessions, providers, services, events, pagination")
struct RegistryTests {
    @Test func r1R2R3TokensAndTenants() async throws {
        try await RegistryFixture.withServer { registry, _ in
            var anonymous = registry
            anonymous.token = nil
            let missing = try await anonymous.send(.get, "/sessions")
            #expect(missing.status == .unauthorized)
            #expect(missing["type"] == "unauthorizedError")
            #expect(missing["txnId"]?.stringValue == missing.headers[HTTPField.Name("X-Response-Id")!])
            var unknown = registry
            unknown.token = "nope"
            expectStatus(try await unknown.send(.get, "/sessions"), .unauthorized)
            var crossing = registry
            crossing.token = "beta-token"
            let forbidden = try await crossing.send(.get, "/sessions")
            #expect(forbidden.status == .forbidden)
            #expect(forbidden["type"] == "forbiddenError")
        }
    }

    @Test func r6ToR15SessionLifecycle() async throws {
        try await RegistryFixture.withServer { registry, _ in
            for bad: JSONValue in [["heartbeat_timeout": 2], ["heartbeat_timeout": 31], ["heartbeat_timeout": "10"], ["heartbeat_timeout": 10.5], [:], ["heartbeat_timeout": 10, "metadata": ["k": 1]]] {
                let reply = try await registry.send(.post, "/sessions", body: bad)
                #expect(reply.status == .badRequest, "\(bad)")
                #expect(reply["type"] == "badRequest")
            }
            let created = try await registry.send(.post, "/sessions", body: ["heartbeat_timeout": 10, "metadata": ["region": "dfw"]])
            #expect(created.status == .created)
            let id = try #require(created["id"]?.stringValue)
            let token = try #require(created["token"]?.stringValue)
            #expect(created.location?.hasSuffix("/registry/v1.0/acme/sessions/\(id)") == true)
            #expect(created.location?.hasPrefix("http://") == true)
            let shown = try await registry.send(.get, "/sessions/\(id)")
            #expect(shown["last_seen"] == .null)
            #expect(shown["metadata"] == ["region": "dfw"])
            #expect(!(shown.json?.canonicalText().contains(token) ?? true))
            let beat = try await registry.send(.post, "/sessions/\(id)/heartbeat", body: ["token": .string(token)])
            #expect(beat.status == .ok)
            let next = try #require(beat["token"]?.stringValue)
            #expect(next != token)
            // R10: a reused token is 404 and changes nothing; a malformed one 400
            let stale = try await registry.send(.post, "/sessions/\(id)/heartbeat", body: ["token": .string(token)])
            #expect(stale.status == .notFound)
            #expect(stale["type"] == "notFoundError")
            expectStatus(try await registry.send(.post, "/sessions/\(id)/heartbeat", body: ["token": 5]), .badRequest)
            expectStatus(try await registry.send(.post, "/sessions/\(id)/heartbeat", body: ["token": .string(next)]), .ok)
            #expect(try await registry.send(.get, "/sessions/\(id)")["last_seen"] != .null)
            // R12
            let put = try await registry.send(.put, "/sessions/\(id)", body: ["metadata": ["region": "ord"]])
            #expect(put.status == .noContent)
            #expect(put.location?.hasSuffix("/sessions/\(id)") == true)
            expectStatus(try await registry.send(.put, "/sessions/\(id)", body: ["heartbeat_timeout": 99]), .badRequest)
            #expect(try await registry.send(.get, "/sessions/\(id)")["metadata"] == ["region": "ord"])
            // R15, R11
            expectStatus(try await registry.send(.delete, "/sessions/\(id)"), .noContent)
            expectStatus(try await registry.send(.get, "/sessions/\(id)"), .notFound)
            expectStatus(try await registry.send(.delete, "/sessions/\(id)"), .notFound)
            #expect(try await registry.send(.get, "/sessions").values.isEmpty)
        }
    }

    @Test func sessionExpiryTakesTheProviderOfflineAndProvisioningMovesOn() async throws {
        try await RegistryFixture.withServer { registry, handle in
            let session = try await registry.send(.post, "/sessions", body: ["heartbeat_timeout": 5])
            let sessionID = try #require(session["id"]?.stringValue)
            let provider = try await registry.send(
                .post, "/providers", body: ["id": "dfw1-db", "kind": "sqlite", "type": "sqlite", "session_id": .string(sessionID), "tags": ["db"]])
            #expect(provider.status == .created)
            #expect(provider["status"] == "online")
            #expect(provider["source"] == "registry")
            // Unpinned provisioning prefers the tenant's own live provider
            let first = try await registry.send(.post, "/services", body: ["type": "sqlite", "plan": "small"])
            #expect(first["provider"] == "dfw1-db")
            // No heartbeat: gone at most a second after the deadline
            try await Task.sleep(for: .milliseconds(6300))
            expectStatus(try await registry.send(.get, "/sessions/\(sessionID)"), .notFound)
            #expect(try await registry.send(.get, "/providers/dfw1-db")["status"] == "offline")
            let types = try await registry.send(.get, "/events?limit=1000").values.compactMap { $0["type"]?.stringValue }
            #expect(types.contains("session.timeout") && types.contains("provider.timeout"))
            let timeout = try await registry.send(.get, "/events?type=provider.timeout").values.first
            #expect(timeout?["payload"]?["reason"] == "expired")
            #expect(timeout?["protocol"] == "system")
            // Pinned to the offline provider: 503 with Retry-After; unpinned lands on a live one
            let pinned = try await registry.send(.post, "/services", body: ["type": "sqlite", "plan": "small", "provider": "dfw1-db"])
            #expect(pinned.status == .serviceUnavailable)
            #expect(pinned["type"] == "noLiveProvider")
            #expect(pinned.headers[.retryAfter] == "10")
            let moved = try await registry.send(.post, "/services", body: ["type": "sqlite", "plan": "small"])
            #expect(moved.status == .created)
            #expect(moved["provider"] == "sqlite-local")
            // A new session brings it back
            let again = try await registry.send(.post, "/sessions", body: ["heartbeat_timeout": 30])
            expectStatus(try await registry.send(.put, "/providers/dfw1-db", body: ["session_id": again["id"]!]), .noContent)
            #expect(try await registry.send(.get, "/providers/dfw1-db")["status"] == "online")
            _ = handle
        }
    }

    @Test func seed000FlowProviderAttachesServicesProvisionAndRemovalUnprovisions() async throws {
        try await RegistryFixture.withServer { registry, _ in
            _ = try await registry.send(.post, "/providers", body: ["id": "p-seed", "kind": "sqlite", "type": "sqlite"])
            let service = try await registry.send(.post, "/services", body: ["type": "sqlite", "plan": "small", "provider": "p-seed"])
            #expect(service.status == .created)
            #expect(service["status"] == 201)
            let name = try #require(service["name"]?.stringValue)
            #expect(name.hasPrefix("sqlite-") && name.count == 15)
            let path = try #require(service["creds"]?["path"]?.stringValue)
            #expect(FileManager.default.fileExists(atPath: path))
            #expect(service.location?.hasSuffix("/services/\(name)") == true)
            // Same name again: identical → 200, different → 409
            let named = try await registry.send(.post, "/services", body: ["type": "sqlite", "plan": "small", "name": "orders-db", "user": "alice"])
            #expect(named.status == .created)
            #expect(try await registry.send(.post, "/services", body: ["type": "sqlite", "plan": "small", "name": "orders-db", "user": "alice"])["status"] == 200)
            #expect(try await registry.send(.post, "/services", body: ["type": "sqlite", "plan": "large", "name": "orders-db", "user": "alice"])["type"] == "conflictError")
            // Extra bindings, listed with every front-end's
            let extra = try await registry.send(.post, "/services/orders-db/bindings", body: [:])
            #expect(extra.status == .created)
            let bindingID = try #require(extra["id"]?.stringValue)
            #expect(try await registry.send(.get, "/services/orders-db/bindings").values.count == 2)
            #expect(try await registry.send(.get, "/services/orders-db/bindings/\(bindingID)")["state"] == "bound")
            expectStatus(try await registry.send(.delete, "/services/orders-db/bindings/\(bindingID)"), .noContent)
            expectStatus(try await registry.send(.get, "/services/orders-db/bindings/\(bindingID)"), .notFound)
            // ?provider= filters by the provider a tenant names
            #expect(try await registry.send(.get, "/services?provider=p-seed").values.count == 2)
            #expect(try await registry.send(.get, "/services?provider=sqlite-local").values.isEmpty)
            // DELETE /providers unprovisions what it held
            let removed = try await registry.send(.delete, "/providers/p-seed")
            #expect(removed.status == .ok)
            // The tenant's own live provider was preferred for orders-db too
            #expect(removed.json == ["id": "p-seed", "instances": [["name": "orders-db", "state": "deleted"], ["name": .string(name), "state": "deleted"]]])
            #expect(!FileManager.default.fileExists(atPath: path))
            expectStatus(try await registry.send(.get, "/services/\(name)"), .notFound)
            expectStatus(try await registry.send(.get, "/providers/p-seed"), .notFound)
            // Configured providers are read-only
            expectStatus(try await registry.send(.delete, "/providers/sqlite-local"), .forbidden)
        }
    }

    @Test func paginationWalks250ObjectsWithStableMarkersWhileObjectsAreAdded() async throws {
        try await RegistryFixture.withServer { registry, handle in
            for index in 0..<250 {
                _ = try await handle.broker.provision(
                    ProvisionCommand(
                        name: String(format: "svc-%03d", index * 2), offering: "static-api", tenant: "acme", tags: index < 20 ? ["gold"] : [],
                        user: index.isMultiple(of: 2) ? "alice" : "bob", acceptsIncomplete: false, origin: RequestOrigin(protocolName: "registry")))
            }
            var names: [String] = []
            var marker: String?
            var pages = 0
            repeat {
                let reply = try await registry.send(.get, "/services?limit=100" + (marker.map { "&marker=\($0)" } ?? ""))
                names += reply.values.compactMap { $0["name"]?.stringValue }
                marker = reply["metadata"]?["next_marker"]?.stringValue
                if let marker { #expect(reply["metadata"]?["next_href"]?.stringValue?.hasSuffix("marker=\(marker)") == true) }
                pages += 1
                // Objects added meanwhile (after the marker) show up later, none repeats or goes missing
                if pages == 1 {
                    _ = try await handle.broker.provision(
                        ProvisionCommand(name: "svc-499", offering: "static-api", tenant: "acme", acceptsIncomplete: false, origin: RequestOrigin(protocolName: "registry")))
                }
            } while marker != nil
            #expect(pages == 3)
            #expect(names.count == 251)
            #expect(names == names.sorted() && Set(names).count == 251)
            #expect(try await registry.send(.get, "/services?tag=gold&limit=1000").values.count == 20)
            #expect(try await registry.send(.get, "/services?user=bob&limit=1000").values.count == 125)
            #expect(try await registry.send(.get, "/services?limit=abc")["type"] == "invalidLimit")
            #expect(try await registry.send(.get, "/services?limit=1001")["type"] == "invalidLimit")
            expectStatus(try await registry.send(.get, "/services?tag="), .badRequest)
            #expect(try await registry.send(.get, "/services?limit=1").values.first?["creds"] == nil)
        }
    }

    @Test func r4TenantsSeeOnlyTheirOwnAndOtherFrontEndsShowUpInThePlatformTenant() async throws {
        try await RegistryFixture.withServer { registry, handle in
            var beta = registry
            beta.tenant = "beta"
            beta.token = "beta-token"
            _ = try await registry.send(.post, "/providers", body: ["id": "same-id", "kind": "sqlite", "type": "sqlite"])
            expectStatus(try await beta.send(.post, "/providers", body: ["id": "same-id", "kind": "sqlite", "type": "sqlite"]), .created)
            let mine = try await beta.send(.post, "/services", body: ["type": "sqlite", "plan": "small", "name": "beta-db"])
            #expect(mine.status == .created)
            expectStatus(try await registry.send(.get, "/services/beta-db"), .notFound)
            #expect(try await registry.send(.get, "/services").values.allSatisfy { $0["name"] != "beta-db" })
            #expect(try await registry.send(.get, "/events?limit=1000").values.allSatisfy { $0["payload"]?["instance"]?["name"] != "beta-db" })
            // An instance created through /tsuru (platform tenant "acme") appears here with its protocol
            _ = try await handle.broker.provision(
                ProvisionCommand(name: "from-tsuru", offering: "sqlite", tenant: handle.platformTenant, acceptsIncomplete: false, origin: RequestOrigin(protocolName: "tsuru")))
            let shown = try await registry.send(.get, "/services/from-tsuru")
            #expect(shown["protocol"] == "tsuru")
            let event = try await registry.send(.get, "/events?type=instance.create&limit=1000").values.first { $0["payload"]?["instance"]?["name"] == "from-tsuru" }
            #expect(event?["protocol"] == "tsuru")
            expectStatus(try await registry.send(.get, "/events?type=nonsense"), .badRequest)
            expectStatus(try await registry.send(.get, "/events?marker=abc"), .badRequest)
            let offerings = try await registry.send(.get, "/offerings")
            #expect(offerings.values.compactMap { $0["name"]?.stringValue } == ["sqlite", "static-api"])
        }
    }

    @Test func anAsynchronousPlanAnswers202AndItsCredentialsAppearOnceReady() async throws {
        try await RegistryFixture.withServer { registry, _ in
            let accepted = try await registry.send(.post, "/services", body: ["type": "sqlite", "plan": "large", "name": "slow-db"])
            #expect(accepted.status == .accepted)
            #expect(accepted["state"] == "provisioning")
            #expect(accepted["creds"] == .null)
            var shown = try await registry.send(.get, "/services/slow-db")
            for _ in 0..<100 where shown["state"] != "ready" {
                try await Task.sleep(for: .milliseconds(100))
                shown = try await registry.send(.get, "/services/slow-db")
            }
            #expect(shown["state"] == "ready")
            #expect(shown["creds"]?["uri"] != nil)
            // The default binding is made once, whoever asks
            #expect(try await registry.send(.get, "/services/slow-db")["binding_id"] == shown["binding_id"])
            #expect(try await registry.send(.get, "/services/slow-db/bindings").values.count == 1)
        }
    }
}

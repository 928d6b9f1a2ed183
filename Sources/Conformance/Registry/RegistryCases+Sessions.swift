import BrokerCore
import Foundation
import NIOHTTP1

/// The registry cases, in the order they run.
struct RegistryCases: Sendable {
    let context: RegistryContext

    init(_ context: RegistryContext) { self.context = context }

    var all: [ConformanceCase] { tenancy + sessions + providers + services + feed + lists }

    /// Ids in a list answer.
    static func ids(_ reply: HTTPReply, key: String = "id") -> [String] {
        (reply["values"]?.arrayValue ?? []).compactMap { $0[key]?.stringValue }
    }

    var tenancy: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        let routes: [(HTTPMethod, String)] = [(.GET, "/sessions"), (.POST, "/providers"), (.GET, "/services/conformance-x"), (.GET, "/events"), (.GET, "/offerings")]
        return [
            ConformanceCase("R1", "no X-Auth-Token → 401 unauthorizedError on every route") { _ in
                for (method, path) in routes {
                    try RegistryContext.expectFault(try await client.send(method, path, body: method == .POST ? .json([:]) : nil, auth: .none), 401, "unauthorizedError")
                }
            },
            ConformanceCase("R2", "an unknown token → 401 unauthorizedError") { _ in
                try RegistryContext.expectFault(try await client.get("/sessions", auth: .header("X-Auth-Token", "conformance-unknown-token")), 401, "unauthorizedError")
            },
            ConformanceCase("R3", "another tenant's token on this tenant's path → 403 forbiddenError") { _ in
                guard let token = ctx.options.otherToken, ctx.other != nil else { throw CaseSkip("needs --other-tenant and --other-token") }
                try RegistryContext.expectFault(try await client.get("/sessions", auth: .header("X-Auth-Token", token)), 403, "forbiddenError")
            },
            ConformanceCase("R4", "tenant B sees none of A's objects: lists, feed, reads, writes, heartbeats, binds → 404, pins → 400") { scope in
                let other = try ctx.requireOther()
                let (session, token, _) = try await ctx.session(scope)
                let (provider, _) = try await ctx.provider(scope)
                let (service, _) = try await ctx.service(scope, ["provider": .string(provider)])
                let lists = [try await other.get("/sessions?limit=1000"), try await other.get("/providers?limit=1000"), try await other.get("/services?limit=1000")]
                for list in lists {
                    try ensure(!Set(Self.ids(list) + Self.ids(list, key: "name")).contains(where: { [session, provider, service].contains($0) }), "\(list.request): shows tenant A's objects")
                }
                let feed = try await other.get("/events?limit=1000").text
                try ensure(![session, provider, service].contains(where: feed.contains), "tenant B's feed shows A's objects")
                try await other.get("/sessions/\(session)").expect(404)
                try await other.send(.POST, "/sessions/\(session)/heartbeat", body: .json(["token": .string(token)])).expect(404)
                try await other.send(.PUT, "/providers/\(provider)", body: .json(["tags": ["b"]])).expect(404)
                try await other.get("/services/\(service)").expect(404)
                try await other.send(.DELETE, "/services/\(service)").expect(404)
                try await other.send(.POST, "/services/\(service)/bindings", body: .json([:])).expect(404)
                let (offering, plan) = try ctx.requireOffering()
                try await other.send(.POST, "/services", body: .json(["type": .string(offering), "plan": .string(plan), "provider": .string(provider)])).expect(400)
                try await client.get("/services/\(service)").expect(200, because: "tenant A's service must be untouched")
                try await client.get("/sessions/\(session)").expect(200, because: "tenant A's session must be untouched")
            },
            ConformanceCase("R5", "tenant B registers an id tenant A uses → 201; each sees its own") { scope in
                let other = try ctx.requireOther()
                let id = uniqueName("shared")
                _ = try await ctx.provider(scope, ["tags": ["tenant-a"]], id: id)
                _ = try await ctx.provider(scope, ["tags": ["tenant-b"]], on: other, id: id)
                try ensure(try await client.get("/providers/\(id)").expect(200)["tags"] == ["tenant-a"], "tenant A does not see its own provider")
                try ensure(try await other.get("/providers/\(id)").expect(200)["tags"] == ["tenant-b"], "tenant B does not see its own provider")
            },
        ]
    }

    var sessions: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        @Sendable func sessionIDs() async throws -> Set<String> { Set(Self.ids(try await client.get("/sessions?limit=1000").expect(200))) }
        return [
            ConformanceCase("R6", "POST /sessions → 201, absolute Location …/sessions/<id>, {id, token}") { scope in
                let (id, _, reply) = try await ctx.session(scope)
                let location = try unwrap(reply.header("Location"), "\(reply.request): no Location")
                try ensure((location.hasPrefix("http://") || location.hasPrefix("https://")) && location.hasSuffix("/sessions/\(id)"), "Location '\(location)' is not an absolute …/sessions/\(id)")
            },
            ConformanceCase("R7", "bad heartbeat_timeout or metadata → 400 badRequest, nothing created") { _ in
                let before = try await sessionIDs()
                let bodies: [JSONValue] = [
                    ["heartbeat_timeout": 2], ["heartbeat_timeout": 31], ["heartbeat_timeout": "10"], ["heartbeat_timeout": 10.5], ["heartbeat_timeout": true],
                    ["heartbeat_timeout": nil], [:], ["heartbeat_timeout": 10, "metadata": ["k": 1]],
                    ["heartbeat_timeout": 10, "metadata": .object(Dictionary(uniqueKeysWithValues: (0..<21).map { ("k\($0)", JSONValue.string("v")) }))],
                ]
                for body in bodies { try RegistryContext.expectFault(try await client.send(.POST, "/sessions", body: .json(body)), 400, "badRequest") }
                try ensure(try await sessionIDs().isSubset(of: before), "a refused POST /sessions created a session")
            },
            ConformanceCase("R8", "GET session and list: the representation, last_seen null before a heartbeat, never a token") { scope in
                let (id, token, _) = try await ctx.session(scope)
                let reply = try await client.get("/sessions/\(id)").expect(200)
                let members = try reply.object()
                try ensure(Set(members.keys).isSuperset(of: ["id", "heartbeat_timeout", "metadata", "last_seen", "expires_at"]), "\(reply.request): fields \(members.keys.sorted())")
                try ensure(members["last_seen"] == .null, "\(reply.request): last_seen is \(members["last_seen"]?.canonicalText() ?? "absent") before any heartbeat")
                let list = try await client.get("/sessions?limit=1000").expect(200)
                try ensure(Self.ids(list).contains(id), "\(list.request): the session is not listed")
                try ensure(!reply.text.contains(token) && !list.text.contains(token), "a representation shows the token")
            },
            ConformanceCase("R9", "heartbeat with the current token → 200 with a new token; last_seen set") { scope in
                let (id, token, _) = try await ctx.session(scope)
                let reply = try await client.send(.POST, "/sessions/\(id)/heartbeat", body: .json(["token": .string(token)])).expect(200)
                let next = try unwrap(reply["token"]?.stringValue, "\(reply.request): no token")
                try ensure(next != token, "the heartbeat returned the same token")
                try ensure(try await client.get("/sessions/\(id)")["last_seen"]?.integerValue != nil, "last_seen not set after a heartbeat")
            },
            ConformanceCase("R10", "reused or unknown token → 404, malformed → 400; the session and its current token unaffected") { scope in
                let (id, token, _) = try await ctx.session(scope)
                let path = "/sessions/\(id)/heartbeat"
                let next = try unwrap(try await client.send(.POST, path, body: .json(["token": .string(token)])).expect(200)["token"]?.stringValue, "no token")
                try RegistryContext.expectFault(try await client.send(.POST, path, body: .json(["token": .string(token)])), 404, "notFoundError")
                try RegistryContext.expectFault(try await client.send(.POST, path, body: .json(["token": "conformance-never-issued"])), 404, "notFoundError")
                try RegistryContext.expectFault(try await client.send(.POST, path, body: .json([:])), 400, "badRequest")
                try RegistryContext.expectFault(try await client.send(.POST, path, body: .json(["token": 42])), 400, "badRequest")
                try await client.send(.POST, path, body: .json(["token": .string(next)])).expect(200, because: "the current token must still work")
            },
            ConformanceCase("R11", "an unknown session → 404 notFoundError for GET, PUT, DELETE, heartbeat") { _ in
                let path = "/sessions/seConformance\(UUID().uuidString.prefix(6))"
                try RegistryContext.expectFault(try await client.get(path), 404, "notFoundError")
                try RegistryContext.expectFault(try await client.send(.PUT, path, body: .json(["heartbeat_timeout": 10])), 404, "notFoundError")
                try RegistryContext.expectFault(try await client.send(.DELETE, path), 404, "notFoundError")
                try RegistryContext.expectFault(try await client.send(.POST, path + "/heartbeat", body: .json(["token": "x"])), 404, "notFoundError")
            },
            ConformanceCase("R12", "PUT /sessions/<id> → 204 + Location, visible; invalid → 400, unchanged") { scope in
                let (id, _, _) = try await ctx.session(scope)
                let reply = try await client.send(.PUT, "/sessions/\(id)", body: .json(["heartbeat_timeout": 20, "metadata": ["conformance": "r12"]])).expect(204)
                try ensure(reply.header("Location")?.hasSuffix("/sessions/\(id)") == true, "\(reply.request): Location \(reply.header("Location") ?? "missing")")
                let after = try await client.get("/sessions/\(id)").expect(200)
                try ensure(after["heartbeat_timeout"] == 20 && after["metadata"] == ["conformance": "r12"], "\(after.request): \(after.text)")
                try RegistryContext.expectFault(try await client.send(.PUT, "/sessions/\(id)", body: .json(["heartbeat_timeout": 99, "metadata": ["conformance": "changed"]])), 400, "badRequest")
                try ensure(try await client.get("/sessions/\(id)")["metadata"] == ["conformance": "r12"], "a refused PUT changed the session")
            },
            ConformanceCase("R13", "without heartbeats a session lives until its deadline and is gone (404, unlisted) ≤ 1 s after") { scope in
                let (id, _, _) = try await ctx.session(scope, timeout: 3)
                let created = Date()
                try await pause(max(0, 1.5 - Date().timeIntervalSince(created)))
                try await client.get("/sessions/\(id)").expect(200, because: "1.5 s before the deadline")
                // 1 s after the deadline, plus a little for the request itself.
                try await pause(max(0, 4.2 - Date().timeIntervalSince(created)))
                try RegistryContext.expectFault(try await client.get("/sessions/\(id)"), 404, "notFoundError")
                try ensure(!Self.ids(try await client.get("/sessions?limit=1000")).contains(id), "the expired session is still listed")
            },
            ConformanceCase("R14", "a heartbeat moves the deadline to receipt + heartbeat_timeout") { scope in
                let (id, token, _) = try await ctx.session(scope, timeout: 10)
                try await pause(0.3)
                try await client.send(.POST, "/sessions/\(id)/heartbeat", body: .json(["token": .string(token)])).expect(200)
                let session = try await client.get("/sessions/\(id)").expect(200)
                let seen = try unwrap(session["last_seen"]?.integerValue, "no last_seen")
                let expires = try unwrap(session["expires_at"]?.integerValue, "no expires_at")
                try ensure(abs(expires - seen - 10_000) <= 1000, "expires_at − last_seen = \(expires - seen) ms, expected 10000")
            },
            ConformanceCase("R15", "DELETE /sessions/<id> → 204, then 404; its providers go offline") { scope in
                let (id, _, _) = try await ctx.session(scope)
                let (provider, _) = try await ctx.provider(scope, ["session_id": .string(id)])
                try await client.send(.DELETE, "/sessions/\(id)").expect(204)
                try RegistryContext.expectFault(try await client.get("/sessions/\(id)"), 404, "notFoundError")
                try ensure(try await client.get("/providers/\(provider)")["status"]?.stringValue == "offline", "the provider is not offline")
            },
            ConformanceCase("R16", "expiry writes session.timeout (listing its providers) and provider.timeout (reason expired)") { _ in
                let expired = try await ctx.expiredSession()
                let sessionEvents = try await ctx.allEvents(type: "session.timeout").filter { $0["payload"]?.canonicalText().contains(expired.id) == true }
                try ensure(sessionEvents.count == 1, "\(sessionEvents.count) session.timeout events for session \(expired.id)")
                try ensure(sessionEvents[0]["payload"]?.canonicalText().contains(expired.provider) == true, "session.timeout does not list provider \(expired.provider)")
                let providerEvents = try await ctx.allEvents(type: "provider.timeout").filter { $0["payload"]?.canonicalText().contains(expired.provider) == true }
                try ensure(providerEvents.count == 1, "\(providerEvents.count) provider.timeout events for provider \(expired.provider)")
                try ensure(providerEvents[0]["payload"]?["reason"]?.stringValue == "expired", "provider.timeout reason is \(providerEvents[0]["payload"]?["reason"]?.canonicalText() ?? "absent")")
            },
        ]
    }
}

import BrokerCore
import Foundation
import NIOHTTP1

extension RegistryCases {
    /// The masked params of a configured provider with every `********` replaced by a fresh secret.
    static func unmasked(_ params: JSONValue, secret: String) -> JSONValue {
        switch params {
        case .string("********"): .string(secret)
        case .object(let members): .object(members.mapValues { unmasked($0, secret: secret) })
        case .array(let items): .array(items.map { unmasked($0, secret: secret) })
        default: params
        }
    }

    var providers: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        @Sendable func refused(_ id: String, _ title: String, _ body: @escaping @Sendable (String, String, String) async throws -> JSONValue) -> ConformanceCase {
            ConformanceCase(id, title) { scope in
                let (kind, type) = try ctx.requireKind()
                let providerID = uniqueName(id)
                let reply = try await client.send(.POST, "/providers", body: .json(try await body(providerID, kind, type)))
                scope.cleanup { _ = try? await client.send(.DELETE, "/providers/\(providerID)") }
                try RegistryContext.expectFault(reply, 400, "badRequest")
                try await client.get("/providers/\(providerID)").expect(404, because: "a refused POST /providers creates nothing")
            }
        }
        return [
            ConformanceCase("R17", "POST /providers → 201 + Location + representation, online, source registry") { scope in
                let (id, reply) = try await ctx.provider(scope, ["tags": ["conformance"], "metadata": ["region": "test"]])
                try ensure(reply.header("Location")?.hasSuffix("/providers/\(id)") == true, "\(reply.request): Location \(reply.header("Location") ?? "missing")")
                let members = try reply.object()
                try ensure(members["id"]?.stringValue == id && members["status"]?.stringValue == "online" && members["source"]?.stringValue == "registry", "\(reply.request): \(reply.summary)")
                for key in ["name", "kind", "type", "params", "tags", "metadata", "session_id", "instances"] { try ensure(members[key] != nil, "\(reply.request): no `\(key)`") }
            },
            refused("R18a", "an unknown kind → 400") { id, _, type in ["id": .string(id), "kind": "conformance-kind", "type": .string(type)] },
            refused("R18b", "an unknown type → 400") { id, kind, _ in ["id": .string(id), "kind": .string(kind), "type": "conformance-offering"] },
            refused("R18c", "11 tags → 400") { id, kind, type in ["id": .string(id), "kind": .string(kind), "type": .string(type), "tags": .array((0..<11).map { .string("t\($0)") })] },
            refused("R18d", "metadata with a non-string value → 400") { id, kind, type in ["id": .string(id), "kind": .string(kind), "type": .string(type), "metadata": ["n": 1]] },
            refused("R18e", "params that are not an object → 400") { id, kind, type in ["id": .string(id), "kind": .string(kind), "type": .string(type), "params": "x"] },
            refused("R18f", "an unknown session_id → 400") { id, kind, type in ["id": .string(id), "kind": .string(kind), "type": .string(type), "session_id": "seConformanceUnknown"] },
            ConformanceCase("R18g", "an id outside 3..65 of [A-Za-z0-9_.-] → 400") { _ in
                let (kind, type) = try ctx.requireKind()
                for id in ["ab", "bad id!"] {
                    try RegistryContext.expectFault(try await client.send(.POST, "/providers", body: .json(["id": .string(id), "kind": .string(kind), "type": .string(type)])), 400, "badRequest")
                }
            },
            ConformanceCase("R18h", "another tenant's session_id → 400") { scope in
                let other = try ctx.requireOther()
                let (kind, type) = try ctx.requireKind()
                let (session, _, _) = try await ctx.session(scope, on: other)
                let id = uniqueName("r18")
                try RegistryContext.expectFault(try await client.send(.POST, "/providers", body: .json(["id": .string(id), "kind": .string(kind), "type": .string(type), "session_id": .string(session)])), 400, "badRequest")
            },
            ConformanceCase("R19", "a taken id → 409 conflictError; the original unchanged") { scope in
                let (id, _) = try await ctx.provider(scope, ["tags": ["original"]])
                let (kind, type) = try ctx.requireKind()
                try RegistryContext.expectFault(try await client.send(.POST, "/providers", body: .json(["id": .string(id), "kind": .string(kind), "type": .string(type), "tags": ["other"]])), 409, "conflictError")
                try ensure(try await client.get("/providers/\(id)")["tags"] == ["original"], "the refused POST changed the provider")
            },
            ConformanceCase("R20", "secret params never appear in a response or an event") { scope in
                guard let template = ctx.secretProvider else { throw CaseSkip("no configured provider has secret params to model one on") }
                let secret = "s3cret-\(UUID().uuidString.lowercased().prefix(12))"
                let id = uniqueName("secret")
                let reply = try await client.send(.POST, "/providers", body: .json(["id": .string(id), "kind": .string(template.kind), "type": .string(template.type), "params": Self.unmasked(template.maskedParams, secret: secret)]))
                scope.cleanup { _ = try? await client.send(.DELETE, "/providers/\(id)") }
                try reply.expect(201)
                let read = try await client.get("/providers/\(id)").expect(200)
                let list = try await client.get("/providers?limit=1000").expect(200)
                let events = try await ctx.allEvents().map { $0.canonicalText() }.joined()
                for (label, text) in [("the create answer", reply.text), ("GET", read.text), ("the list", list.text), ("the feed", events)] {
                    try ensure(!text.contains(secret), "\(label) shows a secret param")
                }
            },
            ConformanceCase("R21", "?tag= matches exactly; an empty tag → 400") { scope in
                let tag = "conformance-\(UUID().uuidString.lowercased().prefix(8))"
                let (exact, _) = try await ctx.provider(scope, ["tags": .array([.string(tag)])])
                _ = try await ctx.provider(scope, ["tags": .array([.string(tag + "-more")])])
                let found = Self.ids(try await client.get("/providers?tag=\(tag)").expect(200))
                try ensure(found == [exact], "?tag=\(tag) found \(found)")
                try RegistryContext.expectFault(try await client.get("/providers?tag="), 400, "badRequest")
            },
            ConformanceCase("R22", "PUT /providers/<id> → 204 + Location; a kind or type change → 400") { scope in
                let (id, _) = try await ctx.provider(scope)
                let reply = try await client.send(.PUT, "/providers/\(id)", body: .json(["tags": ["updated"], "metadata": ["k": "v"]])).expect(204)
                try ensure(reply.header("Location")?.hasSuffix("/providers/\(id)") == true, "\(reply.request): Location \(reply.header("Location") ?? "missing")")
                let read = try await client.get("/providers/\(id)").expect(200)
                try ensure(read["tags"] == ["updated"] && read["metadata"] == ["k": "v"], "\(read.request): \(read.text)")
                try RegistryContext.expectFault(try await client.send(.PUT, "/providers/\(id)", body: .json(["kind": "conformance-kind"])), 400, "badRequest")
                try RegistryContext.expectFault(try await client.send(.PUT, "/providers/\(id)", body: .json(["type": "conformance-offering"])), 400, "badRequest")
            },
            ConformanceCase("R23", "a provider goes offline within 1 s of its session's expiry") { _ in
                let expired = try await ctx.expiredSession()
                let reply = try await client.get("/providers/\(expired.provider)").expect(200)
                try ensure(reply["status"]?.stringValue == "offline", "\(reply.request): status \(reply["status"]?.canonicalText() ?? "absent")")
            },
            ConformanceCase("R24", "PUT of a live session_id brings an offline provider back online, with provider.join") { scope in
                let (first, _, _) = try await ctx.session(scope)
                let (provider, _) = try await ctx.provider(scope, ["session_id": .string(first)])
                try await client.send(.DELETE, "/sessions/\(first)").expect(204)
                let joinsBefore = try await ctx.allEvents(type: "provider.join").filter { $0["payload"]?.canonicalText().contains(provider) == true }.count
                let (second, _, _) = try await ctx.session(scope)
                try await client.send(.PUT, "/providers/\(provider)", body: .json(["session_id": .string(second)])).expect(204)
                try ensure(try await client.get("/providers/\(provider)")["status"]?.stringValue == "online", "the provider is not online again")
                let joinsAfter = try await ctx.allEvents(type: "provider.join").filter { $0["payload"]?.canonicalText().contains(provider) == true }.count
                try ensure(joinsAfter == joinsBefore + 1, "provider.join events for the provider: \(joinsBefore) before, \(joinsAfter) after")
            },
            ConformanceCase("R25", "DELETE /providers/<id> → 200 report; provider and instances → 404; instance.delete and provider.remove") { scope in
                let (provider, _) = try await ctx.provider(scope)
                let (service, _) = try await ctx.service(scope, ["provider": .string(provider)])
                let reply = try await client.send(.DELETE, "/providers/\(provider)").expect(200)
                let instances = reply["instances"]?.arrayValue ?? []
                try ensure(reply["id"]?.stringValue == provider && instances.contains { $0["name"]?.stringValue == service && $0["state"]?.stringValue == "deleted" }, "\(reply.request): report \(reply.text)")
                try await client.get("/providers/\(provider)").expect(404)
                try await client.get("/services/\(service)").expect(404)
                let deletes = try await ctx.allEvents(type: "instance.delete").filter { $0["payload"]?.canonicalText().contains(service) == true }
                let removes = try await ctx.allEvents(type: "provider.remove").filter { $0["payload"]?.canonicalText().contains(provider) == true }
                try ensure(deletes.count == 1 && removes.count == 1, "events: \(deletes.count) instance.delete, \(removes.count) provider.remove")
            },
            ConformanceCase("R26", "configured providers are listed with source config; PUT and DELETE → 403") { _ in
                guard let configured = ctx.configured.first, let id = configured["id"]?.stringValue else { throw CaseSkip("no configured provider") }
                try RegistryContext.expectFault(try await client.send(.PUT, "/providers/\(id)", body: .json(["tags": ["x"]])), 403, "forbiddenError")
                try RegistryContext.expectFault(try await client.send(.DELETE, "/providers/\(id)"), 403, "forbiddenError")
                try ensure(try await client.get("/providers/\(id)")["source"]?.stringValue == "config", "source is not config")
            },
        ]
    }
}

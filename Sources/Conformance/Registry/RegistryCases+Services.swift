import BrokerCore
import Foundation
import NIOHTTP1

extension RegistryCases {
    var services: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        @Sendable func refused(_ id: String, _ title: String, _ body: @escaping @Sendable (String, String, String) throws -> JSONValue) -> ConformanceCase {
            ConformanceCase(id, title) { scope in
                let (offering, plan) = try ctx.requireOffering()
                let name = uniqueName(id)
                let reply = try await client.send(.POST, "/services", body: .json(try body(name, offering, plan)))
                scope.cleanup { _ = try? await client.send(.DELETE, "/services/\(name)") }
                try RegistryContext.expectFault(reply, 400, "badRequest")
                try await client.get("/services/\(name)").expect(404, because: "a refused POST /services creates nothing")
            }
        }
        return [
            ConformanceCase("R27", "POST /services {type, plan} → 201 + Location, status 201, name <offering>-<8 hex>, string creds") { scope in
                let (offering, _) = try ctx.requireOffering()
                let (name, reply) = try await ctx.service(scope)
                try ensure(reply.header("Location")?.hasSuffix("/services/\(name)") == true, "\(reply.request): Location \(reply.header("Location") ?? "missing")")
                try ensure(reply["status"] == 201, "\(reply.request): status field \(reply["status"]?.canonicalText() ?? "absent")")
                try ensure(name.hasPrefix(offering + "-") && name.dropFirst(offering.count + 1).wholeMatch(of: /[0-9a-f]{8}/) != nil, "generated name '\(name)' is not \(offering)-<8 hex>")
                try ensure(reply["creds"]?.stringMap != nil, "\(reply.request): creds is not a map of strings")
                try ensure(reply["offering"]?.stringValue == offering && reply["type"]?.stringValue == offering, "offering/type are not '\(offering)'")
            },
            ConformanceCase("R28", "file credentials: uri = sqlite:// + path, and the file exists") { scope in
                let (_, reply) = try await ctx.service(scope)
                guard let path = reply["creds"]?["path"]?.stringValue, let uri = reply["creds"]?["uri"]?.stringValue, uri.hasPrefix("sqlite:") else {
                    throw CaseSkip("the offering's credentials are not a sqlite file")
                }
                try ensure(uri == "sqlite://" + path, "uri \(uri) is not sqlite:// + path")
                if ctx.options.isLoopback { try ensure(FileManager.default.fileExists(atPath: path), "\(path) does not exist") } else { scope.note("remote server: the file was not looked at") }
            },
            ConformanceCase("R29", "GET /services/<name> → the representation, ready, with creds") { scope in
                let (name, _) = try await ctx.service(scope, ["user": "conformance-user"])
                let reply = try await client.get("/services/\(name)").expect(200)
                try ensure(reply["state"]?.stringValue == "ready" && reply["creds"]?.stringMap != nil && reply["name"]?.stringValue == name, "\(reply.request): \(reply.summary)")
                try ensure(reply["user"]?.stringValue == "conformance-user", "\(reply.request): user \(reply["user"]?.canonicalText() ?? "absent")")
            },
            refused("R30a", "no type → 400") { name, _, plan in ["name": .string(name), "plan": .string(plan)] },
            refused("R30b", "an unknown type → 400") { name, _, plan in ["name": .string(name), "type": "conformance-offering", "plan": .string(plan)] },
            refused("R30c", "no plan → 400") { name, offering, _ in ["name": .string(name), "type": .string(offering)] },
            refused("R30d", "an unknown plan → 400") { name, offering, _ in ["name": .string(name), "type": .string(offering), "plan": "conformance-plan"] },
            refused("R30e", "params that are not an object → 400") { name, offering, plan in ["name": .string(name), "type": .string(offering), "plan": .string(plan), "params": [1]] },
            refused("R30f", "a pinned provider that does not exist → 400") { name, offering, plan in ["name": .string(name), "type": .string(offering), "plan": .string(plan), "provider": "conformance-none"] },
            ConformanceCase("R30g", "a name outside ^[a-z][a-z0-9-]*$ (3..63) → 400") { _ in
                let (offering, plan) = try ctx.requireOffering()
                for name in ["Bad_Name", "ab", "1abc"] {
                    try RegistryContext.expectFault(try await client.send(.POST, "/services", body: .json(["name": .string(name), "type": .string(offering), "plan": .string(plan)])), 400, "badRequest")
                }
            },
            ConformanceCase("R31", "the same name: identical → 200 (status 200, same creds); different → 409") { scope in
                let name = uniqueName("r31")
                let (_, first) = try await ctx.service(scope, ["name": .string(name), "user": "conformance-user"])
                let (offering, plan) = try ctx.requireOffering()
                let body: JSONValue = ["name": .string(name), "type": .string(offering), "plan": .string(plan), "user": "conformance-user"]
                let again = try await client.send(.POST, "/services", body: .json(body)).expect(200)
                try ensure(again["status"] == 200 && again["creds"] == first["creds"], "\(again.request): status \(again["status"]?.canonicalText() ?? "absent"), creds equal: \(again["creds"] == first["creds"])")
                try RegistryContext.expectFault(try await client.send(.POST, "/services", body: .json(body.setting("user", "someone-else"))), 409, "conflictError")
            },
            ConformanceCase("R32", "?user=, ?provider=, ?tag= and combinations list exactly the matches") { scope in
                let user = "conformance-\(UUID().uuidString.lowercased().prefix(8))"
                let tag = "tag-\(UUID().uuidString.lowercased().prefix(8))"
                let (provider, _) = try await ctx.provider(scope)
                let (a, _) = try await ctx.service(scope, ["user": .string(user), "tags": .array([.string(tag)]), "provider": .string(provider)])
                let (b, bReply) = try await ctx.service(scope, ["user": .string(user)])
                let (c, cReply) = try await ctx.service(scope, ["user": .string(user + "-x"), "tags": .array([.string(tag)])])
                // Unpinned services may land on the new provider too (the tenant's own providers come first).
                let onProvider = Set([a] + [(b, bReply), (c, cReply)].filter { $0.1["provider"]?.stringValue == provider }.map(\.0))
                let expectations: [(String, Set<String>)] = [
                    ("user=\(user)", [a, b]), ("tag=\(tag)", [a, c]), ("user=\(user)&tag=\(tag)", [a]), ("provider=\(provider)", onProvider),
                ]
                for (query, expected) in expectations {
                    let found = Set(Self.ids(try await client.get("/services?limit=1000&\(query)").expect(200), key: "name"))
                    try ensure(found == expected, "?\(query) listed \(found.sorted()), expected \(expected.sorted())")
                }
            },
            ConformanceCase("R33", "an offline provider: pinned → 503 noLiveProvider + Retry-After; unpinned lands elsewhere") { scope in
                let (session, _, _) = try await ctx.session(scope)
                let (provider, _) = try await ctx.provider(scope, ["session_id": .string(session)])
                try await client.send(.DELETE, "/sessions/\(session)").expect(204)
                let (offering, plan) = try ctx.requireOffering()
                let pinned = try await client.send(.POST, "/services", body: .json(["type": .string(offering), "plan": .string(plan), "provider": .string(provider)]))
                if let name = pinned["name"]?.stringValue { scope.cleanup { _ = try? await client.send(.DELETE, "/services/\(name)") } }
                try RegistryContext.expectFault(pinned, 503, "noLiveProvider")
                try ensure(pinned.header("Retry-After")?.allSatisfy(\.isNumber) == true, "\(pinned.request): Retry-After \(pinned.header("Retry-After") ?? "missing")")
                let (_, unpinned) = try await ctx.service(scope)
                try ensure(unpinned["provider"]?.stringValue != provider, "an unpinned service landed on the offline provider")
            },
            ConformanceCase("R34", "PUT /services/<name> → 204 + Location; tags, metadata and user updated") { scope in
                let (name, _) = try await ctx.service(scope, ["user": "before", "tags": ["before"], "metadata": ["k": "before"]])
                let reply = try await client.send(.PUT, "/services/\(name)", body: .json(["user": "after", "tags": ["after"], "metadata": ["k": "after"]])).expect(204)
                try ensure(reply.header("Location")?.hasSuffix("/services/\(name)") == true, "\(reply.request): Location \(reply.header("Location") ?? "missing")")
                let read = try await client.get("/services/\(name)").expect(200)
                for (key, value) in [("user", JSONValue.string("after")), ("tags", ["after"]), ("metadata", ["k": "after"])] {
                    try ensure(read[key] == value, "\(read.request): \(key) is \(read[key]?.canonicalText() ?? "absent") after PUT, expected \(value.canonicalText())")
                }
            },
            ConformanceCase("R35", "DELETE /services/<name> → 204; then 404; again 404") { scope in
                let (name, _) = try await ctx.service(scope)
                try await client.send(.DELETE, "/services/\(name)").expect(204)
                try RegistryContext.expectFault(try await client.get("/services/\(name)"), 404, "notFoundError")
                try RegistryContext.expectFault(try await client.send(.DELETE, "/services/\(name)"), 404, "notFoundError")
            },
            ConformanceCase("R36", "an asynchronous plan: 201, or 202 (provisioning, status 202) then ready with creds") { scope in
                guard let plan = ctx.asyncPlan, let (offering, _) = try? ctx.requireOffering() else { throw CaseSkip("no offering lists an asynchronous plan") }
                let reply = try await client.send(.POST, "/services", body: .json(["type": .string(offering), "plan": .string(plan)]))
                let name = try unwrap(reply["name"]?.stringValue, "\(reply.request): no name in \(reply.summary)")
                scope.cleanup {
                    for _ in 0..<60 {
                        guard let deleted = try? await client.send(.DELETE, "/services/\(name)"), deleted.status == 409 else { return }
                        try? await pause(0.5)
                    }
                }
                try reply.expect(201, 202)
                if reply.status == 202 {
                    try ensure(reply["status"] == 202 && reply["state"]?.stringValue == "provisioning", "\(reply.request): \(reply.summary)")
                }
                let deadline = Date().addingTimeInterval(60)
                while true {
                    let read = try await client.get("/services/\(name)").expect(200)
                    if read["state"]?.stringValue == "ready" {
                        try ensure(read["creds"]?.stringMap != nil, "\(read.request): ready without creds")
                        return
                    }
                    try ensure(read["state"]?.stringValue == "provisioning", "\(read.request): state \(read["state"]?.canonicalText() ?? "absent")")
                    guard Date() < deadline else { throw CaseFailure("still provisioning after 60 s") }
                    try await pause(0.25)
                }
            },
            ConformanceCase("R37", "extra binding → 201 + Location + {id, creds}; DELETE 204, again 404; unknown instance 404") { scope in
                let (name, _) = try await ctx.service(scope)
                let reply = try await client.send(.POST, "/services/\(name)/bindings", body: .json([:])).expect(201)
                let id = try unwrap(reply["id"]?.stringValue, "\(reply.request): no id")
                try ensure(reply.header("Location")?.hasSuffix("/services/\(name)/bindings/\(id)") == true, "\(reply.request): Location \(reply.header("Location") ?? "missing")")
                try ensure(reply["creds"]?.stringMap != nil, "\(reply.request): creds is not a map of strings")
                try await client.send(.DELETE, "/services/\(name)/bindings/\(id)").expect(204)
                try RegistryContext.expectFault(try await client.send(.DELETE, "/services/\(name)/bindings/\(id)"), 404, "notFoundError")
                try RegistryContext.expectFault(try await client.send(.POST, "/services/\(uniqueName("none"))/bindings", body: .json([:])), 404, "notFoundError")
            },
        ]
    }
}

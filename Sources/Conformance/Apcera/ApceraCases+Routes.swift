import BrokerCore
import Foundation
import NIOHTTP1

/// The Apcera cases, in the order they run.
struct ApceraCases: Sendable {
    let context: ApceraContext

    init(_ context: ApceraContext) { self.context = context }

    var all: [ConformanceCase] { methods + authentication + providers + services + bindings + state + robustness }

    var methods: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        return [
            ConformanceCase("A1", "GET / with and without the trailing slash → 200, the same JSON object") { _ in
                let bare = try await client.get("").expect(200)
                let slash = try await client.get("/").expect(200)
                _ = try bare.object()
                try ensure(bare.json == slash.json, "\(slash.request): a different object than \(bare.request)")
            },
            ConformanceCase("A2", "three-tier methods object: exactly the six routes, POST on collections, DELETE on :id") { _ in
                try ctx.requireThreeTier()
                let routes = try ctx.methodsReply.object()
                let expected: [String: String] = [
                    "/providers": "POST", "/providers/:id": "DELETE", "/services": "POST", "/services/:id": "DELETE", "/bindings": "POST",
                    "/bindings/:id": "DELETE",
                ]
                try ensure(Set(routes.keys) == Set(expected.keys), "routes are \(routes.keys.sorted()), expected \(expected.keys.sorted())")
                for (route, verb) in expected {
                    let verbs = try unwrap(routes[route]?.objectValue, "\(route): the value must be an object")
                    try ensure(Array(verbs.keys) == [verb], "\(route): verbs \(verbs.keys.sorted()), expected [\(verb)]")
                    try ensure(verbs[verb]?.objectValue != nil, "\(route) \(verb): the value must be an object")
                    if let params = verbs[verb]?["params"] { try ensure(params.objectValue != nil, "\(route) \(verb): params must be an object") }
                }
            },
            ConformanceCase("A3", "POST /services advertises params.offering and params.plan (strings)") { _ in
                try ensure(ctx.defaultOffering?.isEmpty == false && ctx.defaultPlan?.isEmpty == false, "the methods object advertises no offering/plan: \(ctx.methodsReply.summary)")
            },
            ConformanceCase("A4", "two-tier: only four routes, /providers → 404, services and bindings work") { scope in
                guard !ctx.threeTier else { throw CaseSkip("the gateway is three-tier (provider registration on)") }
                try ensure(ctx.methodsReply.json?.objectValue?.count == 4, "the methods object has \(ctx.methodsReply.json?.objectValue?.count ?? 0) routes")
                try await client.send(.POST, "/providers", body: .json(["type": "generic", "params": ["url": "https://x.example"]])).expect(404)
                let (service, _) = try await ctx.service(scope)
                _ = try await ctx.binding(scope, service: service)
            },
            ConformanceCase("A5", "unknown route → 404, wrong method → 405, both as JSON errors") { _ in
                let unknown = try await client.get("/conformance-unknown-route").expect(404)
                let wrong = try await client.get("/services").expect(405)
                for reply in [unknown, wrong] { if let problem = ApceraContext.errorProblem(reply) { throw CaseFailure(problem) } }
            },
            ConformanceCase("A6", "GET /openapi.yaml → 200 without credentials, documents the routes and the state headers") { _ in
                let reply = try await client.get("/openapi.yaml", auth: .none).expect(200)
                for needle in ["/services", "/bindings", ApceraContext.providerState, ApceraContext.serviceState, ApceraContext.bindingState] {
                    try ensure(reply.text.contains(needle), "\(reply.request): the document does not mention \(needle)")
                }
            },
        ]
    }

    var authentication: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        let routes: [(HTTPMethod, String)] = [
            (.GET, ""), (.POST, "/providers"), (.DELETE, "/providers/x"), (.POST, "/services"), (.DELETE, "/services/x"), (.POST, "/bindings"),
            (.DELETE, "/bindings/x"),
        ]
        return [
            ConformanceCase("A7a", "no credentials → 401 JSON with WWW-Authenticate on every route") { _ in
                for (method, path) in routes {
                    let reply = try await client.send(method, path, body: method == .POST ? .json([:]) : nil, auth: .none).expect(401)
                    try ensure(reply.header("WWW-Authenticate") != nil, "\(reply.request): 401 without WWW-Authenticate")
                    if let problem = ApceraContext.errorProblem(reply) { throw CaseFailure(problem) }
                }
            },
            ConformanceCase("A7b", "wrong password → 401") { _ in
                try await client.get("", auth: .basic(ctx.options.username ?? "polybroker", "conformance-wrong")).expect(401)
            },
            ConformanceCase("A7c", "unknown user and a made-up bearer token → 401") { _ in
                try await client.get("", auth: .basic("conformance-unknown", ctx.options.password ?? "")).expect(401)
                try await client.get("", auth: .header("Authorization", "Bearer conformance-made-up-token-0123456789")).expect(401)
            },
            ConformanceCase("A7d", "a refused POST creates nothing") { scope in
                let name = uniqueName("a7")
                try await client.send(.POST, "/services", body: .json(["name": .string(name)]), auth: .none).expect(401)
                _ = try await ctx.service(scope, ["name": .string(name)])
            },
            ConformanceCase("A8", "bad credentials with a bad body or forged state → 401 (authentication first)") { _ in
                try await client.send(.POST, "/services", body: .text("{not json"), auth: .none).expect(401)
                try await client.send(.POST, "/bindings", body: .json(["service_id": "x"]), headers: [(ApceraContext.serviceState, "forged!")], auth: .none).expect(401)
            },
        ]
    }

    var providers: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        @Sendable func refused(_ id: String, _ title: String, _ body: JSONValue) -> ConformanceCase {
            ConformanceCase(id, title) { scope in
                try ctx.requireThreeTier()
                let name = uniqueName(id)
                try await client.send(.POST, "/providers", body: .json(body.setting("name", .string(name)))).expect(400)
                _ = try await ctx.provider(scope, name: name)
            }
        }
        return [
            ConformanceCase("A9", "POST /providers → 200 {id (UUID), name, description, type} + X-Provider-State, params not echoed") { scope in
                let password = ApceraContext.secret()
                let apiKey = ApceraContext.secret()
                let (_, reply) = try await ctx.provider(scope, name: uniqueName("a9"), params: ApceraContext.genericParams(password: password, apiKey: apiKey))
                let members = try reply.object()
                try ensure(UUID(uuidString: members["id"]?.stringValue ?? "") != nil, "id \(members["id"]?.canonicalText() ?? "absent") is not a UUID")
                try ensure(members["type"]?.stringValue == "generic", "type is \(members["type"]?.canonicalText() ?? "absent"), not the one sent")
                try ensure(members["name"]?.stringValue != nil && members["description"]?.stringValue != nil, "name and description must be strings")
                try ensure(reply.header(ApceraContext.providerState)?.isEmpty == false, "no X-Provider-State")
                try ensure(!reply.text.contains(password) && !reply.text.contains(apiKey), "the answer echoes a secret param")
            },
            ConformanceCase("A10", "POST /providers without name or description → 200 with a generated name") { scope in
                let (_, reply) = try await ctx.provider(scope)
                try ensure(reply["name"]?.stringValue?.isEmpty == false, "no generated name: \(reply.summary)")
            },
            refused("A11a", "unknown type → 400, nothing created", ["type": "conformance-unknown-type", "params": ["url": "https://x.example"]]),
            refused("A11b", "params that are not an object → 400", ["type": "generic", "params": "url"]),
            refused("A11c", "generic (static) without params.url → 400", ["type": "generic", "params": ["api_key": "k"]]),
            ConformanceCase("A11d", "a name outside ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ → 400") { _ in
                try ctx.requireThreeTier()
                try await client.send(.POST, "/providers", body: .json(["type": "generic", "name": "bad name!", "params": ["url": "https://x.example"]])).expect(400)
            },
            ConformanceCase("A12a", "type generic behaves as static: every binding gets params.url") { scope in
                let url = "https://api-\(UUID().uuidString.prefix(6)).conformance.example/v2"
                let (provider, _) = try await ctx.provider(scope, params: ["url": .string(url)])
                let (service, _) = try await ctx.service(scope, ["provider_id": .string(provider)])
                let (_, binding) = try await ctx.binding(scope, service: service)
                try ensure(binding["url"]?.stringValue == url, "the binding's url is \(binding["url"]?.canonicalText() ?? "absent"), not the provider's \(url)")
            },
            ConformanceCase("A12b", "type postgres behaves as postgresql: an unreachable URL → 502 (not 400 unknown type)") { _ in
                try ctx.requireThreeTier()
                try await client.send(.POST, "/providers", body: .json(["type": "postgres", "params": ["url": "postgresql://u:p@127.0.0.1:1/postgres"]])).expect(502)
            },
            ConformanceCase("A13", "a taken provider name → 409") { scope in
                let name = uniqueName("a13")
                _ = try await ctx.provider(scope, name: name)
                try await client.send(.POST, "/providers", body: .json(["type": "generic", "name": .string(name), "params": ["url": "https://x.example"]])).expect(409)
            },
            ConformanceCase("A14", "backend unreachable → 502 with a message; nothing registered") { scope in
                try ctx.requireThreeTier()
                let name = uniqueName("a14")
                let reply = try await client.send(.POST, "/providers", body: .json(["type": "postgresql", "name": .string(name), "params": ["url": "postgresql://u:p@127.0.0.1:1/postgres"]])).expect(502)
                if let problem = ApceraContext.errorProblem(reply) { throw CaseFailure(problem) }
                _ = try await ctx.provider(scope, name: name)
            },
            ConformanceCase("A15a", "DELETE of a provider with live services → 409; the provider keeps working") { scope in
                let (provider, _) = try await ctx.provider(scope)
                _ = try await ctx.service(scope, ["provider_id": .string(provider)])
                try await client.send(.DELETE, "/providers/\(provider)").expect(409)
                _ = try await ctx.service(scope, ["provider_id": .string(provider)])
            },
            ConformanceCase("A15b", "DELETE of an empty provider → 200; again → 404; unknown → 404") { scope in
                let (provider, _) = try await ctx.provider(scope)
                try await client.send(.DELETE, "/providers/\(provider)").expect(200)
                try await client.send(.DELETE, "/providers/\(provider)").expect(404)
                try await client.send(.DELETE, "/providers/\(UUID().uuidString.lowercased())").expect(404)
            },
        ]
    }

    var services: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        return [
            ConformanceCase("A16", "POST /services → 200 {id, name, description, provider_id, params{offering, plan}} + X-Service-State") { scope in
                let (provider, _) = try await ctx.provider(scope)
                let (_, reply) = try await ctx.service(scope, ["provider_id": .string(provider), "description": "conformance"])
                let members = try reply.object()
                for key in ["id", "name", "description", "provider_id"] { try ensure(members[key]?.stringValue != nil, "`\(key)` must be a string: \(reply.summary)") }
                try ensure(members["provider_id"]?.stringValue == provider, "provider_id is not the one sent")
                try ensure(members["params"]?["offering"]?.stringValue != nil && members["params"]?["plan"]?.stringValue != nil, "params.offering and params.plan missing")
                try ensure(reply.header(ApceraContext.serviceState)?.isEmpty == false, "no X-Service-State")
            },
            ConformanceCase("A17a", "explicit params.offering and params.plan are honoured") { scope in
                let offering = try unwrap(ctx.defaultOffering, "the methods object names no offering")
                let plan = try unwrap(ctx.defaultPlan, "the methods object names no plan")
                let (_, reply) = try await ctx.service(scope, ["params": ["offering": .string(offering), "plan": .string(plan), "conformance": "x"]])
                try ensure(reply["params"]?["offering"]?.stringValue == offering && reply["params"]?["plan"]?.stringValue == plan, "params are \(reply["params"]?.canonicalText() ?? "absent")")
            },
            ConformanceCase("A17b", "unknown offering → 400; unknown plan → 400") { _ in
                try await client.send(.POST, "/services", body: .json(["params": ["offering": "conformance-unknown-offering"]])).expect(400)
                let offering = try unwrap(ctx.defaultOffering, "the methods object names no offering")
                try await client.send(.POST, "/services", body: .json(["params": ["offering": .string(offering), "plan": "conformance-unknown-plan"]])).expect(400)
            },
            ConformanceCase("A17c", "an offering of another kind than the provider → 400") { scope in
                let (provider, _) = try await ctx.provider(scope)
                let (_, chosen) = try await ctx.service(scope, ["provider_id": .string(provider)])
                let offering = try unwrap(ctx.defaultOffering, "the methods object names no offering")
                guard chosen["params"]?["offering"]?.stringValue != offering else {
                    throw CaseSkip("the default offering '\(offering)' is served by generic providers too")
                }
                try await client.send(.POST, "/services", body: .json(["provider_id": .string(provider), "params": ["offering": .string(offering)]])).expect(400)
            },
            ConformanceCase("A18", "no provider_id → the advertised offering and plan") { scope in
                let (_, reply) = try await ctx.service(scope)
                try ensure(reply["params"]?["offering"]?.stringValue == ctx.defaultOffering && reply["params"]?["plan"]?.stringValue == ctx.defaultPlan, "params are \(reply["params"]?.canonicalText() ?? "absent"), the methods object advertises \(ctx.defaultOffering ?? "?")/\(ctx.defaultPlan ?? "?")")
            },
            ConformanceCase("A19", "unknown provider_id without state → 404") { _ in
                try await client.send(.POST, "/services", body: .json(["provider_id": .string(UUID().uuidString.lowercased())])).expect(404)
            },
            ConformanceCase("A20a", "a taken service name → 409; no name → a generated one") { scope in
                let name = uniqueName("a20")
                _ = try await ctx.service(scope, ["name": .string(name)])
                try await client.send(.POST, "/services", body: .json(["name": .string(name)])).expect(409)
                let (_, generated) = try await ctx.service(scope)
                try ensure(generated["name"]?.stringValue?.isEmpty == false, "no generated name")
            },
            ConformanceCase("A20b", "5 creates of one name at once → exactly one 200, the rest 409") { scope in
                let name = uniqueName("a20")
                let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
                    for _ in 0..<5 { group.addTask { try await client.send(.POST, "/services", body: .json(["name": .string(name)])) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                for id in replies.compactMap({ $0["id"]?.stringValue }) {
                    scope.cleanup { _ = try? await client.send(.DELETE, "/services/\(id)", body: .json(["force": true])) }
                }
                let statuses = replies.map(\.status).sorted()
                try ensure(statuses == [200, 409, 409, 409, 409], "statuses \(statuses)")
            },
            ConformanceCase("A21", "explicit id: honoured; identical repeat → 200 same object; other attributes → 409") { scope in
                let id = "conformance-\(UUID().uuidString.lowercased())"
                let body: JSONValue = ["id": .string(id), "name": .string(uniqueName("a21")), "params": ["conformance": "a21"]]
                let (created, first) = try await ctx.service(scope, body)
                try ensure(created == id, "the id \(created) is not the one sent")
                let again = try await client.send(.POST, "/services", body: .json(body)).expect(200)
                for key in ["id", "name", "provider_id", "params"] { try ensure(again[key] == first[key], "the repeat's \(key) differs") }
                try await client.send(.POST, "/services", body: .json(body.setting("params", ["conformance": "other"]))).expect(409)
            },
            ConformanceCase("A22", "an asynchronous plan: 200 only once ready, then a binding works at once") { scope in
                guard let plan = ctx.options.asyncPlan else { throw CaseSkip("pass --async-plan: the methods object does not tell which plan is asynchronous") }
                let offering = try unwrap(ctx.options.offering ?? ctx.defaultOffering, "no offering for the asynchronous plan")
                let (service, _) = try await ctx.service(scope, ["params": ["offering": .string(offering), "plan": .string(plan)]])
                _ = try await ctx.binding(scope, service: service)
            },
            ConformanceCase("A23", "a sqlite service's file exists while it lives and is gone after delete") { scope in
                guard ctx.options.isLoopback else { throw CaseSkip("the server is not on this machine: its files cannot be seen") }
                let (service, _) = try await ctx.service(scope)
                let (binding, reply) = try await ctx.binding(scope, service: service)
                guard let path = reply["credentials"]?["path"]?.stringValue else { throw CaseSkip("the default offering's credentials name no file (`path`)") }
                try ensure(FileManager.default.fileExists(atPath: path), "\(path) does not exist")
                try await client.send(.DELETE, "/bindings/\(binding)").expect(200)
                try await client.send(.DELETE, "/services/\(service)").expect(200)
                try ensure(!FileManager.default.fileExists(atPath: path), "\(path) is still there after the delete")
            },
        ]
    }
}

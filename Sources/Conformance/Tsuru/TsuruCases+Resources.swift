import BrokerCore
import Foundation
import NIOHTTP1

/// The tsuru cases, in the order they run.
struct TsuruCases: Sendable {
    let context: TsuruContext

    init(_ context: TsuruContext) { self.context = context }

    var all: [ConformanceCase] { general + resources + binds + deletes + concurrency + garbage }

    /// A sibling service endpoint (`--other-service`), or a skip.
    func otherService() throws -> WireClient {
        guard let other = context.options.otherService, let parent = context.parent else {
            throw CaseSkip("needs --other-service (a second service of the same server)")
        }
        return context.client.rebased("\(parent)/\(other)", credentials: .basic(other, context.options.password ?? ""))
    }

    /// A tsuru error answer: non-empty `text/plain`, no trailing newline, never the password.
    static func errorBodyProblem(_ reply: HTTPReply, password: String?) -> String? {
        if reply.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return "\(reply.request) → \(reply.status): empty error body" }
        if reply.mediaType != "text/plain" { return "\(reply.request) → \(reply.status): Content-Type \(reply.header("Content-Type") ?? "missing"), not text/plain" }
        if reply.text.hasSuffix("\n") { return "\(reply.request) → \(reply.status): the error text ends with a newline (tsuru shows it verbatim)" }
        if let password, !password.isEmpty, reply.text.contains(password) { return "\(reply.request) → \(reply.status): the error text contains the password" }
        return nil
    }

    var general: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        return [
            ConformanceCase("T1a", "unknown path under the endpoint → 404") { _ in
                try await client.get("/conformance-unknown-path").expect(404)
            },
            ConformanceCase("T1b", "wrong method on a known path → 405") { _ in
                try await client.send(.PATCH, "/resources").expect(405)
            },
            ConformanceCase("T1c", "unknown service next to this one → 404") { _ in
                guard let parent = ctx.parent else { throw CaseSkip("the endpoint has no parent path to put another service in") }
                try await client.send(.GET, url: "\(parent)/conformance-no-such-service/resources/plans").expect(404)
            },
            ConformanceCase("T2a", "no credentials → 401") { _ in
                try await client.get("/resources/plans", auth: .none).expect(401)
            },
            ConformanceCase("T2b", "wrong password → 401") { _ in
                try await client.get("/resources/plans", auth: .basic(ctx.service, "conformance-wrong-password")).expect(401)
            },
            ConformanceCase("T2c", "malformed Authorization → 401") { _ in
                try await client.get("/resources/plans", auth: .header("Authorization", "Basic !!!not-base64")).expect(401)
            },
            ConformanceCase("T2d", "unknown user with the right password → 401") { _ in
                try await client.get("/resources/plans", auth: .basic("conformance-unknown-user", ctx.options.password ?? "")).expect(401)
            },
            ConformanceCase("T2e", "another service's name as the user → 401") { _ in
                guard let other = ctx.options.otherService else { throw CaseSkip("needs --other-service") }
                try await client.get("/resources/plans", auth: .basic(other, ctx.options.password ?? "")).expect(401)
            },
            ConformanceCase("T2f", "bad credentials are refused before any lookup (unknown instance → 401, not 404)") { _ in
                try await client.get("/resources/\(uniqueName("t2"))/status", auth: .basic(ctx.service, "conformance-wrong")).expect(401)
            },
            ConformanceCase("T3a", "create with a JSON body → 201") { scope in
                let name = uniqueName("t3")
                let body: JSONValue = ["name": .string(name), "team": .string(TsuruContext.team), "plan": .string(try ctx.requireSync()), "eventID": "5f0c1e2d3b4a59687a6b5c4d", "user": "conformance@example.com"]
                let reply = try await client.send(.POST, "/resources", body: .json(body))
                scope.cleanup { await ctx.remove(name) }
                try reply.expect(201)
            },
            ConformanceCase("T3b", "form body with a charset parameter → 201") { scope in
                let name = uniqueName("t3")
                let form = FormField.encode([FormField("name", name), FormField("team", TsuruContext.team), FormField("plan", try ctx.requireSync())])
                let reply = try await client.send(.POST, "/resources", body: .text(form, contentType: "application/x-www-form-urlencoded; charset=UTF-8"))
                scope.cleanup { await ctx.remove(name) }
                try reply.expect(201)
            },
            ConformanceCase("T3c", "JSON null lists and unknown fields are tolerated → 201") { scope in
                let name = uniqueName("t3")
                let body: JSONValue = ["name": .string(name), "team": .string(TsuruContext.team), "plan": .string(try ctx.requireSync()), "tags": nil, "conformanceExtra": ["x": 1]]
                let reply = try await client.send(.POST, "/resources", body: .json(body))
                scope.cleanup { await ctx.remove(name) }
                try reply.expect(201)
            },
            ConformanceCase("T3d", "malformed JSON → 400") { _ in
                try await client.send(.POST, "/resources", body: .text("{\"name\": ")).expect(400)
            },
            ConformanceCase("T3e", "JSON that is not an object → 400") { _ in
                try await client.send(.POST, "/resources", body: .text("[\"name\"]")).expect(400)
            },
            ConformanceCase("T3f", "another media type → 400") { _ in
                try await client.send(.POST, "/resources", body: .text("name=x&team=y", contentType: "text/plain")).expect(400)
            },
            ConformanceCase("T3g", "a body over the limit (2 MiB) → 413") { _ in
                let big = "name=conformance-big&team=t&description=" + String(repeating: "x", count: 2 << 20)
                try await client.send(.POST, "/resources", body: .text(big, contentType: "application/x-www-form-urlencoded")).expect(413)
            },
            ConformanceCase("T4", "event headers, request id and pool headers accepted; their absence never fails") { scope in
                let name = uniqueName("t4")
                let headers: [(String, String?)] = [
                    ("X-Tsuru-User", "conformance@example.com"), ("X-Tsuru-Eventid", "5f0c1e2d3b4a59687a6b5c4e"), ("X-Request-ID", UUID().uuidString),
                    ("X-Tsuru-Pool-Name", "conformance-pool"), ("X-Tsuru-Pool-Provisioner", "kubernetes"), ("X-Tsuru-Cluster-Name", "c1"),
                ]
                let reply = try await ctx.create(name, plan: try ctx.requireSync(), headers: headers)
                scope.cleanup { await ctx.remove(name) }
                try reply.expect(201)
                let bare = uniqueName("t4")
                let plain = try await client.send(.POST, "/resources", body: .form([FormField("name", bare), FormField("team", TsuruContext.team), FormField("plan", try ctx.requireSync())]))
                scope.cleanup { await ctx.remove(bare) }
                try plain.expect(201, because: "no user, eventid or request id")
            },
            ConformanceCase("T5", "every error is a non-empty text/plain sentence without trailing newline or secret") { _ in
                let unknown = uniqueName("t5")
                let replies = [
                    try await client.get("/resources/plans", auth: .basic(ctx.service, "conformance-wrong")),
                    try await client.send(.POST, "/resources", body: .form([FormField("team", TsuruContext.team)])),
                    try await client.get("/resources/\(unknown)/status"),
                    try await client.send(.PUT, "/resources/\(unknown)", body: .form([FormField("team", TsuruContext.team)])),
                ]
                for reply in replies {
                    try ensure((400..<600).contains(reply.status), "\(reply.request): expected an error, got \(reply.summary)")
                    if let problem = Self.errorBodyProblem(reply, password: ctx.options.password) { throw CaseFailure(problem) }
                }
            },
            ConformanceCase("T6", "plans → 200 application/json [{name, description}] of strings") { _ in
                let reply = ctx.plansReply
                try reply.expect(200)
                try ensure(reply.mediaType == "application/json", "\(reply.request): Content-Type \(reply.header("Content-Type") ?? "missing")")
                let items = try unwrap(reply.json?.arrayValue, "\(reply.request): not a JSON array: \(reply.summary)")
                try ensure(!items.isEmpty, "\(reply.request): no plan")
                for item in items {
                    try ensure(item["name"]?.stringValue?.isEmpty == false && item["description"]?.stringValue != nil, "\(reply.request): \(item.canonicalText()) is not {name, description} strings")
                }
            },
        ]
    }

    var resources: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        @Sendable func refused(_ id: String, _ title: String, _ fields: @escaping @Sendable (String, String) -> [FormField]) -> ConformanceCase {
            ConformanceCase(id, title) { scope in
                let name = uniqueName(id)
                let reply = try await client.send(.POST, "/resources", body: .form(fields(name, try ctx.requireSync())))
                scope.cleanup { await ctx.remove(name) }
                try reply.expect(400)
                try await client.get("/resources/\(name)/status").expect(404, because: "a refused create leaves nothing")
            }
        }
        let team = FormField("team", TsuruContext.team)
        return [
            ConformanceCase("T7a", "create (form) → 201; a synchronous plan is ready at once (status 204)") { scope in
                let name = try await ctx.instance(scope, tag: "t7")
                try await client.get("/resources/\(name)/status").expect(204)
            },
            ConformanceCase("T7b", "an asynchronous plan: 201 at once, status 202, then 204") { _ in
                let name = try await ctx.provisioningInstance()
                try await ctx.waitUntilSettled(name).expect(204, because: "once provisioned")
            },
            refused("T8a", "create without name → 400, nothing created") { _, plan in [team, FormField("plan", plan)] },
            refused("T8b", "create with an empty name → 400") { _, plan in [FormField("name", ""), team, FormField("plan", plan)] },
            refused("T8c", "name starting with a digit → 400") { name, plan in [FormField("name", "1" + name), team, FormField("plan", plan)] },
            refused("T8d", "name with a space → 400") { name, plan in [FormField("name", "a " + name), team, FormField("plan", plan)] },
            refused("T8e", "name over 128 characters → 400") { name, plan in [FormField("name", "a" + String(repeating: "b", count: 128)), team, FormField("plan", plan)] },
            refused("T8f", "the reserved name `plans` → 400") { _, plan in [FormField("name", "plans"), team, FormField("plan", plan)] },
            refused("T8g", "unknown plan → 400") { name, _ in [FormField("name", name), team, FormField("plan", "conformance-unknown-plan")] },
            refused("T8h", "missing team → 400") { name, plan in [FormField("name", name), FormField("plan", plan)] },
            ConformanceCase("T8i", "any valid tsuru name (mixed case, `_`, 100 characters) is accepted and addressable") { scope in
                for name in ["Conformance_Mixed-\(UUID().uuidString.prefix(6))", "c" + String(repeating: "x", count: 91) + UUID().uuidString.prefix(8)] {
                    let reply = try await ctx.create(name, plan: try ctx.requireSync())
                    scope.cleanup { await ctx.remove(name) }
                    try reply.expect(201)
                    try await client.get("/resources/\(name)/status").expect(204)
                }
            },
            ConformanceCase("T9a", "a taken name → 409, same or other attributes") { scope in
                let name = try await ctx.instance(scope, tag: "t9")
                try await ctx.create(name, plan: try ctx.requireSync()).expect(409)
                try await ctx.create(name, plan: try ctx.requireSync(), team: "conformance-other-team").expect(409)
            },
            ConformanceCase("T9b", "a taken name in the JSON encoding → 409") { scope in
                let name = try await ctx.instance(scope, tag: "t9")
                try await client.send(.POST, "/resources", body: .json(["name": .string(name), "team": .string(TsuruContext.team)])).expect(409)
            },
            ConformanceCase("T9c", "a name taken under another service → 409") { scope in
                let other = try otherService()
                let name = try await ctx.instance(scope, tag: "t9")
                try await other.send(.POST, "/resources", body: .form([FormField("name", name), team])).expect(409)
            },
            ConformanceCase("T10", "no plan → the first plan of GET /resources/plans") { scope in
                let name = uniqueName("t10")
                let reply = try await ctx.create(name, plan: nil)
                scope.cleanup { await ctx.remove(name) }
                try reply.expect(201)
                let info = try await client.get("/resources/\(name)")
                guard let plan = info.json?.arrayValue?.first(where: { $0["label"]?.stringValue == "Plan" })?["value"]?.stringValue else {
                    return scope.note("the info shows no Plan row to compare")
                }
                try ensure(plan == ctx.plans.first, "the instance's plan is '\(plan)', not the first plan '\(ctx.plans.first ?? "")'")
            },
            ConformanceCase("T11a", "status of a ready instance → 204 without a body") { scope in
                let name = try await ctx.instance(scope, tag: "t11")
                let reply = try await client.get("/resources/\(name)/status").expect(204)
                try ensure(reply.body.isEmpty, "\(reply.request): 204 with a body")
            },
            ConformanceCase("T11b", "status of an unknown instance → 404") { _ in
                try await client.get("/resources/\(uniqueName("t11"))/status").expect(404)
            },
            ConformanceCase("T12a", "info → 200 JSON [{label, value}] of strings, without credentials") { scope in
                let name = try await ctx.instance(scope, tag: "t12")
                let environment = try await ctx.bindApp(name).expect(201).json?.objectValue ?? [:]
                let reply = try await client.get("/resources/\(name)").expect(200)
                let rows = try unwrap(reply.json?.arrayValue, "\(reply.request): not a JSON array: \(reply.summary)")
                for row in rows {
                    try ensure(row["label"]?.stringValue != nil && row["value"]?.stringValue != nil, "\(reply.request): \(row.canonicalText()) is not {label, value} strings")
                }
                for value in environment.values.compactMap(\.stringValue) where value.count >= 8 {
                    try ensure(!reply.text.contains(value), "\(reply.request): the info shows a credential value")
                }
            },
            ConformanceCase("T12b", "info of an unknown instance → 404") { _ in
                try await client.get("/resources/\(uniqueName("t12"))").expect(404)
            },
            ConformanceCase("T13a", "update with tsuru's form (empty plan and description) → 200") { scope in
                let name = try await ctx.instance(scope, tag: "t13")
                let fields = [FormField("description", ""), team, FormField("plan", ""), FormField("tags", "a"), FormField("tags", "b"), FormField("user", "u@example.com"), FormField("eventid", "5f0c1e2d3b4a59687a6b5c4f")]
                try await client.send(.PUT, "/resources/\(name)", body: .form(fields)).expect(200)
            },
            ConformanceCase("T13b", "update with JSON → 200") { scope in
                let name = try await ctx.instance(scope, tag: "t13")
                try await client.send(.PUT, "/resources/\(name)", body: .json(["team": .string(TsuruContext.team), "tags": ["x"], "eventID": "5f0c1e2d3b4a59687a6b5c4f", "user": "u@example.com"])).expect(200)
            },
            ConformanceCase("T13c", "update reads the legacy `tag` as well as `tags` → 200") { scope in
                let name = try await ctx.instance(scope, tag: "t13")
                try await client.send(.PUT, "/resources/\(name)", body: .form([team, FormField("tag", "legacy"), FormField("tags", "new")])).expect(200)
            },
            ConformanceCase("T13d", "an empty plan keeps the plan") { scope in
                let plan = try ctx.requireSync()
                let name = try await ctx.instance(scope, tag: "t13")
                try await client.send(.PUT, "/resources/\(name)", body: .form([team, FormField("plan", "")])).expect(200)
                try await client.get("/resources/\(name)/status").expect(204)
                let info = try await client.get("/resources/\(name)")
                if let shown = info.json?.arrayValue?.first(where: { $0["label"]?.stringValue == "Plan" })?["value"]?.stringValue {
                    try ensure(shown == plan, "the plan changed to '\(shown)'")
                }
            },
            ConformanceCase("T13e", "a team change is accepted → 200") { scope in
                let name = try await ctx.instance(scope, tag: "t13")
                try await client.send(.PUT, "/resources/\(name)", body: .form([FormField("team", "conformance-new-owner")])).expect(200)
            },
            ConformanceCase("T13f", "update with an unknown plan → 400 (never 404: tsuru takes it as success)") { scope in
                let name = try await ctx.instance(scope, tag: "t13")
                try await client.send(.PUT, "/resources/\(name)", body: .form([team, FormField("plan", "conformance-unknown-plan")])).expect(400)
            },
            ConformanceCase("T13g", "update of an unknown instance → 404") { _ in
                try await client.send(.PUT, "/resources/\(uniqueName("t13"))", body: .form([team])).expect(404)
            },
            ConformanceCase("T13h", "update while provisioning → 412") { _ in
                try await ctx.whileProvisioning { name in
                    try await client.send(.PUT, "/resources/\(name)", body: .form([team, FormField("description", "busy")])).expect(412)
                }
            },
        ]
    }
}

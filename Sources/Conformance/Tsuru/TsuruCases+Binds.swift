import BrokerCore
import Foundation
import NIOHTTP1

extension TsuruCases {
    /// Fails unless the reply is an environment object: JSON object of strings with valid variable names.
    static func checkEnvironment(_ reply: HTTPReply) throws -> [String: JSONValue] {
        try ensure(reply.mediaType == "application/json", "\(reply.request): Content-Type \(reply.header("Content-Type") ?? "missing"), not application/json")
        let members = try reply.object()
        for (key, value) in members {
            try ensure(key.wholeMatch(of: /[A-Za-z_][A-Za-z0-9_]*/) != nil, "\(reply.request): '\(key)' is not a valid variable name")
            try ensure(value.stringValue != nil, "\(reply.request): \(key) is \(value.typeName), tsuru decodes strings only")
        }
        return members
    }

    var binds: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        @Sendable func bindForm(_ fields: [FormField]) -> RequestBody { .form(fields + [FormField("user", "conformance@example.com")]) }
        return [
            ConformanceCase("T14a", "bind-app → 201 application/json {VARIABLE: \"string\"}") { scope in
                let name = try await ctx.instance(scope, tag: "t14")
                _ = try Self.checkEnvironment(try await ctx.bindApp(name).expect(201))
            },
            ConformanceCase("T14b", "bind-app of a bound app again → 200/201 with the same object") { scope in
                let name = try await ctx.instance(scope, tag: "t14")
                let first = try await ctx.bindApp(name).expect(201)
                let again = try await ctx.bindApp(name).expect(200, 201)
                try ensure(first.json == again.json, "\(again.request): the environment differs from the first answer")
            },
            ConformanceCase("T15a", "bind-app with app-name only (an app without addresses) → 201") { scope in
                let name = try await ctx.instance(scope, tag: "t15")
                try await client.send(.POST, "/resources/\(name)/bind-app", body: bindForm([FormField("app-name", "conformance-app")])).expect(201)
            },
            ConformanceCase("T15b", "bind-app with app-host only (tsuru before 2017-12) → 201") { scope in
                let name = try await ctx.instance(scope, tag: "t15")
                try await client.send(.POST, "/resources/\(name)/bind-app", body: bindForm([FormField("app-host", "old-app.example.com")])).expect(201)
            },
            ConformanceCase("T15c", "bind-app in JSON (appName, appHosts) → 201") { scope in
                let name = try await ctx.instance(scope, tag: "t15")
                let body: JSONValue = ["appName": "conformance-app", "appHosts": ["conformance-app.example.com"], "user": "u@example.com", "eventID": "5f0c1e2d3b4a59687a6b5c50"]
                try await client.send(.POST, "/resources/\(name)/bind-app", body: .json(body)).expect(201)
            },
            ConformanceCase("T15d", "bind-app without app name or host → 400") { scope in
                let name = try await ctx.instance(scope, tag: "t15")
                try await client.send(.POST, "/resources/\(name)/bind-app", body: bindForm([])).expect(400)
            },
            ConformanceCase("T16a", "bind-app on an unknown instance → 404") { _ in
                try await client.send(.POST, "/resources/\(uniqueName("t16"))/bind-app", body: bindForm([FormField("app-name", "conformance-app")])).expect(404)
            },
            ConformanceCase("T16b", "the POST …/bind fallback on an unknown instance → 404") { _ in
                try await client.send(.POST, "/resources/\(uniqueName("t16"))/bind", body: bindForm([FormField("app-name", "conformance-app")])).expect(404)
            },
            ConformanceCase("T16c", "bind-app while provisioning → 412 with text") { _ in
                try await ctx.whileProvisioning { name in
                    let reply = try await client.send(.POST, "/resources/\(name)/bind-app", body: bindForm([FormField("app-name", "conformance-app")])).expect(412)
                    try ensure(!reply.text.isEmpty, "\(reply.request): 412 without a reason")
                }
            },
            ConformanceCase("T17a", "unit bind (POST …/bind with unit-host) → 201, repeatable") { scope in
                let name = try await ctx.instance(scope, tag: "t17")
                let fields = [FormField("app-name", "conformance-app"), FormField("app-host", "conformance-app.example.com"), FormField("unit-host", "10.0.0.5")]
                try await client.send(.POST, "/resources/\(name)/bind", body: .form(fields)).expect(201)
                try await client.send(.POST, "/resources/\(name)/bind", body: .form(fields)).expect(201)
            },
            ConformanceCase("T17b", "POST …/bind without unit-host (the bind-app fallback) → 201 with the environment") { scope in
                let name = try await ctx.instance(scope, tag: "t17")
                _ = try Self.checkEnvironment(try await client.send(.POST, "/resources/\(name)/bind", body: bindForm([FormField("app-name", "conformance-app")])).expect(201))
            },
            ConformanceCase("T18a", "unit unbind without app-name → 200") { scope in
                let name = try await ctx.instance(scope, tag: "t18")
                let host = FormField("app-host", "conformance-app.example.com")
                try await client.send(.POST, "/resources/\(name)/bind", body: .form([FormField("app-name", "conformance-app"), host, FormField("unit-host", "10.0.0.6")])).expect(201)
                try await client.send(.DELETE, "/resources/\(name)/bind", body: .form([FormField("app-hosts", "conformance-app.example.com"), host, FormField("unit-host", "10.0.0.6")])).expect(200)
            },
            ConformanceCase("T18b", "unit unbind of a unit never recorded → 200 (a 404 aborts tsuru's unbind)") { scope in
                let name = try await ctx.instance(scope, tag: "t18")
                try await client.send(.DELETE, "/resources/\(name)/bind", body: .form([FormField("app-host", "never.example.com"), FormField("unit-host", "10.9.9.9")])).expect(200)
            },
            ConformanceCase("T18c", "unit unbind on an unknown instance → 404") { _ in
                try await client.send(.DELETE, "/resources/\(uniqueName("t18"))/bind", body: .form([FormField("app-host", "a.example.com"), FormField("unit-host", "10.0.0.7")])).expect(404)
            },
            ConformanceCase("T19a", "unbind-app (form) → 200") { scope in
                let name = try await ctx.instance(scope, tag: "t19")
                try await ctx.bindApp(name).expect(201)
                try await client.send(.DELETE, "/resources/\(name)/bind-app", body: .form([FormField("app-name", "conformance-app"), FormField("app-hosts", "conformance-app.example.com")])).expect(200)
            },
            ConformanceCase("T19b", "unbind-app in JSON with appHosts null → 200") { scope in
                let name = try await ctx.instance(scope, tag: "t19")
                try await ctx.bindApp(name).expect(201)
                try await client.send(.DELETE, "/resources/\(name)/bind-app", body: .json(["appName": "conformance-app", "appHosts": nil, "user": "u@example.com", "eventID": "5f0c1e2d3b4a59687a6b5c51"])).expect(200)
            },
            ConformanceCase("T19c", "unbind-app of an app that is not bound → 200 (404 tolerated)") { scope in
                let name = try await ctx.instance(scope, tag: "t19")
                let reply = try await client.send(.DELETE, "/resources/\(name)/bind-app", body: .form([FormField("app-name", "conformance-unbound-app")])).expect(200, 404)
                if reply.status == 404 { scope.note("answered 404, which tsuru tolerates") }
            },
            ConformanceCase("T19d", "unbind-app on an unknown instance → 404") { _ in
                try await client.send(.DELETE, "/resources/\(uniqueName("t19"))/bind-app", body: .form([FormField("app-name", "conformance-app")])).expect(404)
            },
        ]
    }

    var deletes: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        let team = FormField("team", TsuruContext.team)
        return [
            ConformanceCase("T20a", "delete with tsuru's form body → 200") { scope in
                let name = try await ctx.instance(scope, tag: "t20")
                try await client.send(.DELETE, "/resources/\(name)", body: .form([FormField("user", "u@example.com"), FormField("eventid", "5f0c1e2d3b4a59687a6b5c52")])).expect(200)
            },
            ConformanceCase("T20b", "delete with a JSON body → 200") { scope in
                let name = try await ctx.instance(scope, tag: "t20")
                try await client.send(.DELETE, "/resources/\(name)", body: .json(["user": "u@example.com", "eventID": "5f0c1e2d3b4a59687a6b5c53"])).expect(200)
            },
            ConformanceCase("T20c", "delete without a body (tsuru before 2018) → 200") { scope in
                let name = try await ctx.instance(scope, tag: "t20")
                try await client.send(.DELETE, "/resources/\(name)").expect(200)
            },
            ConformanceCase("T20d", "after a delete: status, info, bind-app and a second delete → 404") { scope in
                let name = try await ctx.instance(scope, tag: "t20")
                try await client.send(.DELETE, "/resources/\(name)").expect(200)
                try await client.get("/resources/\(name)/status").expect(404)
                try await client.get("/resources/\(name)").expect(404)
                try await ctx.bindApp(name).expect(404)
                try await client.send(.DELETE, "/resources/\(name)").expect(404)
            },
            ConformanceCase("T20e", "delete of an unknown instance → 404") { _ in
                try await client.send(.DELETE, "/resources/\(uniqueName("t20"))").expect(404)
            },
            ConformanceCase("T20f", "a deleted name can be created again → 201") { scope in
                let name = try await ctx.instance(scope, tag: "t20")
                try await client.send(.DELETE, "/resources/\(name)").expect(200)
                try await ctx.create(name, plan: try ctx.requireSync()).expect(201)
            },
            ConformanceCase("T21", "delete with bindings → 200 and the bindings go with it") { scope in
                let name = try await ctx.instance(scope, tag: "t21")
                try await ctx.bindApp(name).expect(201)
                try await client.send(.DELETE, "/resources/\(name)").expect(200)
                try await ctx.create(name, plan: try ctx.requireSync()).expect(201, because: "creating the name again")
                try await ctx.bindApp(name).expect(201, because: "the old binding must be gone")
            },
            ConformanceCase("T22", "an instance is invisible under another service (404), its name still taken there (409)") { scope in
                let other = try otherService()
                let name = try await ctx.instance(scope, tag: "t22")
                try await other.get("/resources/\(name)/status").expect(404)
                try await other.send(.POST, "/resources/\(name)/bind-app", body: .form([FormField("app-name", "conformance-app")])).expect(404)
                try await other.send(.POST, "/resources", body: .form([FormField("name", name), team])).expect(409)
            },
        ]
    }

    var concurrency: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        @Sendable func parallel(_ count: Int, _ request: @escaping @Sendable (Int) async throws -> HTTPReply) async throws -> [HTTPReply] {
            try await withThrowingTaskGroup(of: HTTPReply.self) { group in
                for index in 0..<count { group.addTask { try await request(index) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        return [
            ConformanceCase("T23a", "5 identical creates at once → exactly one 201, the rest 409 or 412") { scope in
                let name = uniqueName("t23")
                let plan = try ctx.requireSync()
                scope.cleanup { await ctx.remove(name) }
                let statuses = try await parallel(5) { _ in try await ctx.create(name, plan: plan) }.map(\.status).sorted()
                try ensure(statuses.filter { $0 == 201 }.count == 1 && statuses.allSatisfy { [201, 409, 412].contains($0) }, "statuses \(statuses)")
            },
            ConformanceCase("T23b", "5 bind-apps of one app at once → one 201, the rest 200, one object") { scope in
                let name = try await ctx.instance(scope, tag: "t23")
                let replies = try await parallel(5) { _ in try await ctx.bindApp(name) }
                let statuses = replies.map(\.status).sorted()
                try ensure(statuses == [200, 200, 200, 200, 201], "statuses \(statuses)")
                try ensure(Set(replies.map { $0.json?.canonicalText() ?? "" }).count == 1, "the answers carry different environments")
            },
            ConformanceCase("T23c", "bind-apps of 3 different apps at once → all 201") { scope in
                let name = try await ctx.instance(scope, tag: "t23")
                let statuses = try await parallel(3) { index in try await ctx.bindApp(name, app: "conformance-app-\(index)") }.map(\.status)
                try ensure(statuses.allSatisfy { $0 == 201 }, "statuses \(statuses)")
            },
            ConformanceCase("T23d", "unit binds then unit unbinds of one app's 4 units at once → all 201, then all 200") { scope in
                let name = try await ctx.instance(scope, tag: "t23")
                let fields = [FormField("app-name", "conformance-app"), FormField("app-host", "conformance-app.example.com")]
                let binds = try await parallel(4) { unit in try await client.send(.POST, "/resources/\(name)/bind", body: .form(fields + [FormField("unit-host", "10.1.0.\(unit)")])) }
                try ensure(binds.allSatisfy { $0.status == 201 }, "unit binds answered \(binds.map(\.status))")
                let unbinds = try await parallel(4) { unit in
                    try await client.send(.DELETE, "/resources/\(name)/bind", body: .form([FormField("app-host", "conformance-app.example.com"), FormField("unit-host", "10.1.0.\(unit)")]))
                }
                try ensure(unbinds.allSatisfy { $0.status == 200 }, "unit unbinds answered \(unbinds.map(\.status))")
            },
        ]
    }

    var garbage: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        return [
            ConformanceCase("T24", "odd names, binary bodies, bad encodings, wrong methods → 4xx, never 5xx or a hang") { scope in
                var replies = [
                    try await client.get("/resources/" + String(repeating: "n", count: 4000) + "/status"),
                    try await client.get("/resources/%00nul/status"),
                    try await client.get("/resources/..%2F..%2Fetc/status"),
                    try await client.send(.POST, "/resources", body: .raw(Data((0..<256).map { UInt8($0) }), contentType: "application/x-www-form-urlencoded")),
                    try await client.send(.POST, "/resources", body: .raw(Data([0xFF, 0xFE, 0x7B]), contentType: "application/json")),
                    try await client.send(.POST, "/resources", body: .text("name=%zz&team=%", contentType: "application/x-www-form-urlencoded")),
                    try await client.send(.PATCH, "/resources/conformance-x"),
                    try await client.send(.PUT, "/resources/plans", body: .form([])),
                ]
                if let bad = try? await client.get("/resources/%zz/status") { replies.append(bad) } else { scope.note("the client cannot send a malformed percent-encoding") }
                for reply in replies {
                    try ensure((400..<500).contains(reply.status), "\(reply.request.prefix(80)): expected a 4xx, got \(reply.summary)")
                }
                try await client.get("/resources/plans").expect(200, because: "the server must still answer")
            },
            ConformanceCase("T25", "GET <prefix>/openapi.yaml → 200 YAML describing /resources, without credentials") { _ in
                guard let parent = ctx.parent else { throw CaseSkip("the endpoint has no parent path") }
                let reply = try await client.send(.GET, url: "\(parent)/openapi.yaml", auth: .none).expect(200)
                try ensure(reply.text.contains("/resources"), "\(reply.request): the document does not mention /resources")
            },
            ConformanceCase.skipped("T26", "polybroker tsuru-manifest prints the service manifest", because: "a command of the server, not its wire"),
        ]
    }
}

import BrokerCore
import Foundation
import NIOHTTP1

/// The OSB cases, in the order they run; the asynchronous flows share one operation each.
struct OSBCases: Sendable {
    let context: OSBContext

    init(_ context: OSBContext) { self.context = context }

    var all: [ConformanceCase] {
        general + catalog + asyncProvisionFlow + provision + lastOperation + fetch + update + bindings + asyncBindingFlow + unbinding
            + deprovision + idempotency + orphanMitigation
    }

    static let canonicalAsyncRequired = "This service plan requires client support for asynchronous service operations."
    static let canonicalConcurrency = "The Service Broker does not support concurrent requests that mutate the same resource."
    static let canonicalRequiresApp = "This service supports generation of credentials through binding an application only."

    /// What is wrong with an OSB error body (G10), or nil.
    static func errorBodyProblem(_ reply: HTTPReply, mayCarryUsable: Bool = false) -> String? {
        guard let members = reply.json?.objectValue else { return "\(reply.request): error body is not a JSON object: \(reply.summary)" }
        if let code = members["error"] {
            guard let text = code.stringValue, text.wholeMatch(of: /[A-Z][A-Za-z0-9]*/) != nil else {
                return "\(reply.request): `error` must be one CamelCase word, got \(code.canonicalText())"
            }
        }
        if let description = members["description"], description.stringValue?.isEmpty != false {
            return "\(reply.request): `description` must be a non-empty string, got \(description.canonicalText())"
        }
        if !mayCarryUsable, members["instance_usable"] != nil || members["update_repeatable"] != nil {
            return "\(reply.request): instance_usable/update_repeatable belong to update and deprovision failures only"
        }
        return nil
    }

    /// Fails unless the reply is 422 with `error` = `code`.
    static func expectError(_ reply: HTTPReply, _ code: String) throws {
        try reply.expect(422)
        try ensure(reply["error"]?.stringValue == code, "\(reply.request): expected error \(code), got \(reply.summary)")
    }

    func requireCredentials() throws {
        guard context.options.username != nil else { throw CaseSkip("no --username given: nothing to refuse") }
    }

    var general: [ConformanceCase] {
        let ctx = context
        let client = ctx.client
        let missing = ctx.options.missingVersionStatus
        let version = "X-Broker-API-Version"
        return [
            ConformanceCase("G1a", "no credentials → 401") { _ in
                try requireCredentials()
                try await client.get("/v2/catalog", auth: .none).expect(401)
            },
            ConformanceCase("G1b", "wrong password → 401") { _ in
                try requireCredentials()
                try await client.get("/v2/catalog", auth: .basic(ctx.options.username ?? "", "conformance-wrong-password")).expect(401)
            },
            ConformanceCase("G1c", "wrong password and a garbage version → 401 (authentication first)") { _ in
                try requireCredentials()
                try await client.get("/v2/catalog", headers: [(version, "garbage")], auth: .basic("conformance", "wrong")).expect(401)
            },
            ConformanceCase("G2a", "missing X-Broker-API-Version → \(missing)") { _ in
                try await client.get("/v2/catalog", headers: [(version, nil)]).expect(missing)
            },
            ConformanceCase("G2b", "empty X-Broker-API-Version → \(missing)") { _ in
                try await client.get("/v2/catalog", headers: [(version, "")]).expect(missing)
            },
            ConformanceCase("G3a", "unsupported version 1.0 → 412") { _ in
                try await client.get("/v2/catalog", headers: [(version, "1.0")]).expect(412)
            },
            ConformanceCase("G3b", "version 2.14 (Kubernetes) accepted") { _ in
                try await client.get("/v2/catalog", headers: [(version, "2.14")]).expect(200)
            },
            ConformanceCase("G4", "header names match case-insensitively (x-broker-api-version)") { _ in
                try await client.get("/v2/catalog", headers: [(version, nil), ("x-broker-api-version", ctx.options.apiVersion)]).expect(200)
            },
            ConformanceCase("G5a", "provision with a Cloud Foundry originating identity → 201") { scope in
                let (service, plan) = try ctx.requireSync()
                let instance = OSBInstance(id: uniqueName("g5"), service: service, plan: plan)
                let identity = "cloudfoundry " + Data(#"{"user_id":"conformance-user"}"#.utf8).base64EncodedString()
                let reply = try await ctx.put(instance.path, OSBBodies.provision(service, plan), headers: [("X-Broker-API-Originating-Identity", identity)])
                scope.cleanup { await ctx.cleanUp(instance) }
                try reply.expect(201)
            },
            ConformanceCase("G5b", "Kubernetes originating identity accepted") { _ in
                let identity = "kubernetes " + Data(#"{"username":"conformance","uid":"1","groups":["a"],"extra":{}}"#.utf8).base64EncodedString()
                try await client.get("/v2/catalog", headers: [("X-Broker-API-Originating-Identity", identity)]).expect(200)
            },
            ConformanceCase("G5c", "malformed originating identity: 200 (lenient) or 400 (strict), never 5xx") { _ in
                try await client.get("/v2/catalog", headers: [("X-Broker-API-Originating-Identity", "cloudfoundry !!not-base64!!")]).expect(200, 400)
            },
            ConformanceCase("G6a", "X-Broker-API-Request-Identity echoed on success") { _ in
                let identity = UUID().uuidString
                let reply = try await client.get("/v2/catalog", headers: [("X-Broker-API-Request-Identity", identity)]).expect(200)
                try ensure(reply.header("X-Broker-API-Request-Identity") == identity, "\(reply.request): request identity not echoed")
            },
            ConformanceCase("G6b", "X-Broker-API-Request-Identity echoed on 401 and 412") { _ in
                let identity = UUID().uuidString
                var replies = [try await client.get("/v2/catalog", headers: [("X-Broker-API-Request-Identity", identity), (version, nil)])]
                if ctx.options.username != nil {
                    replies.append(try await client.get("/v2/catalog", headers: [("X-Broker-API-Request-Identity", identity)], auth: .none))
                }
                for reply in replies {
                    try ensure(reply.header("X-Broker-API-Request-Identity") == identity, "\(reply.request) → \(reply.status): request identity not echoed")
                }
            },
            ConformanceCase("G6c", "X-Broker-API-Request-Identity echoed on 410") { _ in
                let (service, plan) = try ctx.requireSync()
                let identity = UUID().uuidString
                let instance = OSBInstance(id: uniqueName("g6"), service: service, plan: plan)
                let reply = try await client.send(.DELETE, instance.path + instance.query(acceptsIncomplete: true), headers: [("X-Broker-API-Request-Identity", identity)])
                try reply.expect(410)
                try ensure(reply.header("X-Broker-API-Request-Identity") == identity, "\(reply.request): request identity not echoed")
            },
            ConformanceCase("G7", "unknown request fields are ignored (provision → 201)") { scope in
                let (service, plan) = try ctx.requireSync()
                let instance = OSBInstance(id: uniqueName("g7"), service: service, plan: plan)
                let body = OSBBodies.provision(service, plan).setting("conformance_vendor_extension", ["nested": [1, 2]])
                let reply = try await ctx.put(instance.path, body)
                scope.cleanup { await ctx.cleanUp(instance) }
                try reply.expect(201)
            },
            ConformanceCase("G8a", "unparsable JSON body → 400") { _ in
                let (service, plan) = try ctx.requireSync()
                let path = OSBInstance(id: uniqueName("g8"), service: service, plan: plan).path
                try await client.send(.PUT, path, body: .text("{\"service_id\": ")).expect(400)
            },
            ConformanceCase("G8b", "JSON body that is not an object → 400") { _ in
                let (service, plan) = try ctx.requireSync()
                let path = OSBInstance(id: uniqueName("g8"), service: service, plan: plan).path
                try await client.send(.PUT, path, body: .text("[]")).expect(400)
            },
            ConformanceCase("G9", "every answer with a body is application/json holding an object") { scope in
                let (service, plan) = try ctx.requireSync()
                let unknown = OSBInstance(id: uniqueName("g9"), service: service, plan: plan)
                var replies = [try await client.get("/v2/catalog"), try await client.get("/v2/catalog", headers: [(version, nil)])]
                replies.append(try await ctx.delete(unknown))
                replies.append(try await client.get(unknown.path + "/last_operation"))
                replies.append(try await client.send(.PUT, unknown.path, body: .json([:])))
                let (instance, created) = try await ctx.provisionSync(scope, tag: "g9")
                replies += [created, try await ctx.delete(instance)]
                for reply in replies where !reply.body.isEmpty {
                    try ensure(reply.mediaType == "application/json", "\(reply.request) → \(reply.status): Content-Type is \(reply.header("Content-Type") ?? "missing")")
                    try ensure(reply.json?.objectValue != nil, "\(reply.request) → \(reply.summary): body is not a JSON object")
                }
            },
            ConformanceCase("G10", "error bodies: `error` one CamelCase word, `description` non-empty, no instance_usable on provision") { _ in
                let (service, plan) = try ctx.requireSync()
                let instance = OSBInstance(id: uniqueName("g10"), service: service, plan: plan)
                var replies = [
                    try await client.get("/v2/catalog", headers: [(version, nil)]),
                    try await client.send(.PUT, instance.path, body: .json(OSBBodies.provision(service, plan).setting("plan_id", nil))),
                    try await client.get(instance.path + "/last_operation"),
                ]
                if ctx.options.username != nil { replies.append(try await client.get("/v2/catalog", auth: .none)) }
                if let (asyncService, asyncPlan) = try? ctx.requireAsync() {
                    let other = OSBInstance(id: uniqueName("g10"), service: asyncService, plan: asyncPlan)
                    replies.append(try await ctx.put(other.path, OSBBodies.provision(asyncService, asyncPlan)))
                }
                for reply in replies where (400..<600).contains(reply.status) && !reply.body.isEmpty {
                    if let problem = Self.errorBodyProblem(reply) { throw CaseFailure(problem) }
                }
            },
            ConformanceCase("G11a", "async-only plan without accepts_incomplete → 422 error AsyncRequired") { _ in
                let (service, plan) = try ctx.requireAsync()
                let instance = OSBInstance(id: uniqueName("g11"), service: service, plan: plan)
                try Self.expectError(try await ctx.put(instance.path, OSBBodies.provision(service, plan)), "AsyncRequired")
            },
            ConformanceCase("G11b", "maintenance_info conflict → 422 error MaintenanceInfoConflict") { _ in
                let (service, plan) = try ctx.requireSync()
                let instance = OSBInstance(id: uniqueName("g11"), service: service, plan: plan)
                let body = OSBBodies.provision(service, plan).setting("maintenance_info", ["version": "0.0.0-conformance"])
                try Self.expectError(try await ctx.put(instance.path, body), "MaintenanceInfoConflict")
            },
            ConformanceCase("G12", "a 4xx changes nothing: the same id then provisions with 201") { scope in
                let (service, plan) = try ctx.requireSync()
                let instance = OSBInstance(id: uniqueName("g12"), service: service, plan: plan)
                try await ctx.put(instance.path, OSBBodies.provision(service, plan).setting("plan_id", nil)).expect(400)
                try await ctx.put(instance.path, OSBBodies.provision(service, plan).setting("space_guid", nil)).expect(400)
                if service.instancesRetrievable { try await client.get(instance.path).expect(404, because: "after two refused provisions") }
                let reply = try await ctx.put(instance.path, OSBBodies.provision(service, plan))
                scope.cleanup { await ctx.cleanUp(instance) }
                try reply.expect(201, because: "nothing may exist after the refused requests")
            },
            ConformanceCase("G13a", "AsyncRequired carries the canonical description (Kubernetes client)") { _ in
                let (service, plan) = try ctx.requireAsync()
                let instance = OSBInstance(id: uniqueName("g13"), service: service, plan: plan)
                let reply = try await ctx.put(instance.path, OSBBodies.provision(service, plan))
                try Self.expectError(reply, "AsyncRequired")
                try ensure(reply["description"]?.stringValue == Self.canonicalAsyncRequired, "\(reply.request): description is not the canonical text: \(reply.summary)")
            },
            ConformanceCase("G13b", "ConcurrencyError carries the canonical description") { _ in
                let reply = try await concurrentUpdate()
                guard reply.status == 422, reply["error"]?.stringValue == "ConcurrencyError" else {
                    throw CaseSkip("the broker did not refuse an update during provisioning with ConcurrencyError (\(reply.status))")
                }
                try ensure(reply["description"]?.stringValue == Self.canonicalConcurrency, "\(reply.request): description is not the canonical text: \(reply.summary)")
            },
            ConformanceCase("G14", "mandatory data missing (empty object, empty body) → 400") { _ in
                let (service, plan) = try ctx.requireSync()
                let path = OSBInstance(id: uniqueName("g14"), service: service, plan: plan).path
                try await client.send(.PUT, path, body: .json([:])).expect(400)
                try await client.send(.PUT, path, body: .raw(Data(), contentType: "application/json")).expect(400)
            },
            ConformanceCase("G15a", "empty-string service_id → 400") { _ in
                let (service, plan) = try ctx.requireSync()
                let path = OSBInstance(id: uniqueName("g15"), service: service, plan: plan).path
                try await ctx.put(path, OSBBodies.provision(service, plan).setting("service_id", "")).expect(400)
            },
            ConformanceCase("G15b", "null plan_id → 400") { _ in
                let (service, plan) = try ctx.requireSync()
                let path = OSBInstance(id: uniqueName("g15"), service: service, plan: plan).path
                try await ctx.put(path, OSBBodies.provision(service, plan).setting("plan_id", .null)).expect(400)
            },
            ConformanceCase("G15c", "DELETE with ?service_id=&plan_id= (empty) → 400") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "g15")
                try await client.send(.DELETE, instance.path + "?service_id=&plan_id=").expect(400)
            },
            ConformanceCase("G16", "percent-encoded instance ids are decoded") { scope in
                let (service, plan) = try ctx.requireSync()
                let id = uniqueName("g16")
                let instance = OSBInstance(id: id, service: service, plan: plan)
                let encoded = "/v2/service_instances/" + id.replacingOccurrences(of: "-", with: "%2D")
                let reply = try await ctx.put(encoded, OSBBodies.provision(service, plan))
                scope.cleanup { await ctx.cleanUp(instance) }
                try reply.expect(201)
                try await ctx.put(instance.path, OSBBodies.provision(service, plan)).expect(200, because: "the same id, not percent-encoded")
            },
            ConformanceCase("G17", "Content-Type and a body on GET and DELETE are tolerated") { scope in
                try await client.send(.GET, "/v2/catalog", body: .text("{}")).expect(200)
                let (instance, _) = try await ctx.provisionSync(scope, tag: "g17")
                try await client.send(.DELETE, instance.path + instance.query(acceptsIncomplete: false), body: .text("{}")).expect(200)
            },
        ]
    }

    /// The answer to an update sent while an asynchronous provision runs (G13b, I5): sent once.
    func concurrentUpdate() async throws -> HTTPReply {
        if let reply = await context.fixtures.reply("concurrent-update") { return reply }
        var attempt = 0
        while true {
            attempt += 1
            let running = try await context.runningAsyncProvision()
            let body: JSONValue = ["service_id": .string(running.instance.service.id), "parameters": ["conformance": "concurrent"]]
            let reply = try await context.patch(running.instance, body, acceptsIncomplete: true)
            // An update accepted because the provision finished meanwhile (a slow machine) says nothing.
            if attempt < 3, (200..<300).contains(reply.status), !(try await context.inProgress(running)) { continue }
            await context.fixtures.setReply("concurrent-update", reply)
            return reply
        }
    }
}

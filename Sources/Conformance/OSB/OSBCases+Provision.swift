import BrokerCore
import Foundation
import NIOHTTP1

extension OSBCases {
    /// Checks a provision answer body: an object, `dashboard_url` a string or null, `operation` ≤ 10000 characters.
    static func checkProvisionBody(_ reply: HTTPReply) throws {
        let members = try reply.object()
        if let url = members["dashboard_url"] { try ensure(url.isNull || url.stringValue != nil, "\(reply.request): dashboard_url must be a string or null") }
        if let metadata = members["metadata"] { try ensure(metadata.objectValue != nil, "\(reply.request): metadata must be an object") }
        if let operation = members["operation"] {
            try ensure((operation.stringValue?.count ?? 10001) <= 10000, "\(reply.request): operation must be a string of at most 10000 characters")
        }
    }

    /// P5 … F1b: one asynchronous provision observed from start to end.
    var asyncProvisionFlow: [ConformanceCase] {
        let ctx = context
        return [
            ConformanceCase("P5", "async plan with accepts_incomplete=true → 202 {operation?}") { _ in
                var started = await ctx.fixtures.operation("provision")
                if started == nil { started = try await ctx.startAsyncProvision(key: "provision") }
                guard let started else { return }
                try started.reply.expect(202)
                try Self.checkProvisionBody(started.reply)
            },
            ConformanceCase("L11", "last_operation answers right after the 202") { _ in
                let started = try await ctx.startAsyncProvision(key: "provision")
                try await ctx.client.get(started.path + "/last_operation").expect(200)
            },
            ConformanceCase("P9", "identical PUT while provisioning → 202 with the same operation") { _ in
                try await ctx.whileRunning({ try await ctx.runningAsyncProvision() }) { running in
                    let again = try await ctx.put(running.path, OSBBodies.provision(running.instance.service, running.instance.plan), acceptsIncomplete: true)
                    try again.expect(202)
                    try ensure(again["operation"]?.stringValue == running.operation, "\(again.request): operation \(again["operation"]?.canonicalText() ?? "absent") is not the first answer's \(running.operation ?? "(none)")")
                }
            },
            ConformanceCase("L1", "last_operation without any query parameter → 200") { _ in
                let running = try await ctx.runningAsyncProvision()
                try await ctx.client.get(running.path + "/last_operation").expect(200)
            },
            ConformanceCase("L2", "last_operation → 200 {state: in progress|succeeded|failed, description?}") { _ in
                let running = try await ctx.runningAsyncProvision()
                let query = running.instance.query(acceptsIncomplete: false) + (running.operation.map { "&operation=\($0.urlQueryEncoded)" } ?? "")
                let reply = try await ctx.client.get(running.path + "/last_operation" + query).expect(200)
                let state = try reply.object()["state"]?.stringValue ?? ""
                try ensure(["in progress", "succeeded", "failed"].contains(state), "\(reply.request): state '\(state)' is not in progress, succeeded or failed")
                if let description = reply["description"] { try ensure(description.stringValue?.isEmpty == false, "\(reply.request): description must be a non-empty string") }
            },
            ConformanceCase("L8", "Retry-After, when sent, is whole seconds") { scope in
                let running = try await ctx.runningAsyncProvision()
                let reply = try await ctx.client.get(running.path + "/last_operation").expect(200)
                guard let value = reply.header("Retry-After") else { return scope.note("no Retry-After sent") }
                try ensure(!value.isEmpty && value.allSatisfy(\.isNumber), "\(reply.request): Retry-After '\(value)' is not whole seconds")
            },
            ConformanceCase("L10", "unknown or literal `operation` values are tolerated (osb-checker sends `provision`)") { _ in
                let running = try await ctx.runningAsyncProvision()
                try await ctx.client.get(running.path + "/last_operation?operation=provision").expect(200)
                try await ctx.client.get(running.path + "/last_operation?operation=conformance-unknown-operation").expect(200)
            },
            ConformanceCase("F3b", "fetching an instance still being provisioned → 404") { _ in
                let service = try ctx.requireAsync().0
                guard service.instancesRetrievable else { throw CaseSkip("service '\(service.name)' is not instances_retrievable") }
                try await ctx.whileRunning({ try await ctx.runningAsyncProvision() }) { running in
                    try await ctx.client.get(running.path).expect(404)
                }
            },
            ConformanceCase("L6", "never 410 while provisioning; the provision ends succeeded") { _ in
                let started = try await ctx.runningAsyncProvision()
                let final = try await ctx.waitForOperation(started.path) { reply in
                    try ensure(reply.status != 410, "\(reply.request): 410 while the instance is being created")
                    try reply.expect(200)
                }
                try ensure(final["state"]?.stringValue == "succeeded", "\(final.request): the provision ended \(final.summary)")
                await ctx.fixtures.setOperation("completed", started)
            },
            ConformanceCase("L9", "a finished operation keeps answering succeeded") { _ in
                let instance = try await ctx.completedAsyncInstance()
                for _ in 0..<3 {
                    let reply = try await ctx.client.get(instance.path + "/last_operation").expect(200)
                    try ensure(reply["state"]?.stringValue == "succeeded", "\(reply.request): \(reply.summary)")
                }
            },
            ConformanceCase("F1b", "an asynchronous instance can be fetched as soon as it succeeded") { _ in
                let instance = try await ctx.completedAsyncInstance()
                guard instance.service.instancesRetrievable else { throw CaseSkip("service '\(instance.service.name)' is not instances_retrievable") }
                try await ctx.client.get(instance.path).expect(200)
            },
        ]
    }

    var provision: [ConformanceCase] {
        let ctx = context
        @Sendable func refused(_ id: String, _ title: String, _ change: @escaping @Sendable (OSBService, OSBPlan, JSONValue) throws -> JSONValue) -> ConformanceCase {
            ConformanceCase(id, title) { _ in
                let (service, plan) = try ctx.requireSync()
                let instance = OSBInstance(id: uniqueName(id), service: service, plan: plan)
                try await ctx.put(instance.path, try change(service, plan, OSBBodies.provision(service, plan)), acceptsIncomplete: true).expect(400)
            }
        }
        @Sendable func conflict(_ id: String, _ title: String, _ change: @escaping @Sendable (OSBService, OSBPlan, JSONValue) throws -> JSONValue) -> ConformanceCase {
            ConformanceCase(id, title) { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: id)
                let body = try change(instance.service, instance.plan, OSBBodies.provision(instance.service, instance.plan))
                try await ctx.put(instance.path, body, acceptsIncomplete: true).expect(409)
            }
        }
        return [
            refused("P1a", "service_id missing → 400") { _, _, body in body.setting("service_id", nil) },
            refused("P1b", "plan_id missing → 400") { _, _, body in body.setting("plan_id", nil) },
            refused("P1c", "service_id not in the catalog → 400") { _, _, body in body.setting("service_id", "conformance-unknown-service") },
            refused("P1d", "plan_id not in the catalog → 400") { _, _, body in body.setting("plan_id", "conformance-unknown-plan") },
            refused("P1e", "plan_id of another service → 400") { service, _, body in
                guard let other = ctx.services.first(where: { $0.id != service.id && !$0.plans.isEmpty }) else {
                    throw CaseSkip("the catalog has a single service")
                }
                return body.setting("plan_id", .string(other.plans[0].id))
            },
            refused("P2a", "organization_guid missing → 400") { _, _, body in body.setting("organization_guid", nil) },
            refused("P2b", "space_guid missing → 400") { _, _, body in body.setting("space_guid", nil) },
            ConformanceCase("P3", "parameters invalid against the plan's create schema → 400") { _ in
                let service = try ctx.requireService()
                guard let (plan, invalid) = Self.invalidParameters(service, path: ["service_instance", "create"]) else {
                    throw CaseSkip("no plan of service '\(service.name)' has a create schema with required or typed properties")
                }
                let instance = OSBInstance(id: uniqueName("p3"), service: service, plan: plan)
                try await ctx.put(instance.path, OSBBodies.provision(service, plan, parameters: invalid), acceptsIncomplete: true).expect(400)
            },
            ConformanceCase("P4", "synchronous provision → 201 with a JSON object") { scope in
                let (_, reply) = try await ctx.provisionSync(scope, tag: "p4")
                try Self.checkProvisionBody(reply)
            },
            ConformanceCase("P6", "async-only plan without accepts_incomplete → 422 AsyncRequired") { _ in
                let (service, plan) = try ctx.requireAsync()
                let instance = OSBInstance(id: uniqueName("p6"), service: service, plan: plan)
                try Self.expectError(try await ctx.put(instance.path, OSBBodies.provision(service, plan)), "AsyncRequired")
                try await ctx.delete(instance, acceptsIncomplete: true).expect(410, because: "the refused provision must leave nothing")
            },
            ConformanceCase("P7", "synchronous plan with accepts_incomplete=true → 201 (or 202)") { scope in
                let (service, plan) = try ctx.requireSync()
                let instance = OSBInstance(id: uniqueName("p7"), service: service, plan: plan)
                let reply = try await ctx.put(instance.path, OSBBodies.provision(service, plan), acceptsIncomplete: true)
                scope.cleanup { await ctx.cleanUp(instance) }
                try reply.expect(201, 202)
                if reply.status == 202 {
                    scope.note("answered 202")
                    try await ctx.waitForOperation(instance.path)
                }
            },
            ConformanceCase("P8a", "identical PUT of a provisioned instance → 200 with the 201 body") { scope in
                let (instance, created) = try await ctx.provisionSync(scope, tag: "p8")
                let again = try await ctx.put(instance.path, OSBBodies.provision(instance.service, instance.plan)).expect(200)
                try ensure(again.json == created.json, "\(again.request): body \(again.text) differs from the 201 body \(created.text)")
            },
            ConformanceCase("P8b", "identical PUT with accepts_incomplete=true → 200 (both checkers)") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "p8")
                try await ctx.put(instance.path, OSBBodies.provision(instance.service, instance.plan), acceptsIncomplete: true).expect(200)
            },
            conflict("P10a", "same id, another plan → 409") { service, plan, body in
                body.setting("plan_id", .string(try ctx.otherPlan(than: plan, in: service).id))
            },
            conflict("P10b", "same id, other parameters → 409") { _, _, body in body.setting("parameters", ["conformance": "different"]) },
            conflict("P10c", "same id, another space_guid → 409") { _, _, body in body.setting("space_guid", "conformance-other-space") },
            conflict("P10d", "same id, another organization_guid → 409") { _, _, body in body.setting("organization_guid", "conformance-other-org") },
            ConformanceCase("P11a", "maintenance_info.version that is not the plan's → 422 MaintenanceInfoConflict") { _ in
                let (service, plan) = try ctx.requireSync()
                let instance = OSBInstance(id: uniqueName("p11"), service: service, plan: plan)
                let body = OSBBodies.provision(service, plan).setting("maintenance_info", ["version": "99.99.99-conformance"])
                try Self.expectError(try await ctx.put(instance.path, body), "MaintenanceInfoConflict")
            },
            ConformanceCase("P11b", "an empty maintenance_info {} counts as absent (osb-checker) → 201") { scope in
                let (service, plan) = try ctx.requireSync()
                let instance = OSBInstance(id: uniqueName("p11"), service: service, plan: plan)
                let reply = try await ctx.put(instance.path, OSBBodies.provision(service, plan).setting("maintenance_info", [:]))
                scope.cleanup { await ctx.cleanUp(instance) }
                try reply.expect(201)
            },
            ConformanceCase("P12", "dashboard_url, when present, is a string or null (201 and 200)") { scope in
                let (instance, created) = try await ctx.provisionSync(scope, tag: "p12")
                let again = try await ctx.put(instance.path, OSBBodies.provision(instance.service, instance.plan))
                for reply in [created, again] {
                    if let url = reply["dashboard_url"] { try ensure(url.isNull || url.stringValue != nil, "\(reply.request): dashboard_url is \(url.canonicalText())") }
                }
            },
            ConformanceCase.skipped("P13", "other statuses make the platform fail and mitigate", because: "describes the platform's reaction, not a broker answer"),
        ]
    }

    /// A plan with a schema at `path` and parameters that break it (a required property left out,
    /// or a typed property given the wrong type).
    static func invalidParameters(_ service: OSBService, path: [String]) -> (OSBPlan, JSONValue)? {
        for plan in service.plans {
            guard let schema = plan.raw["schemas"]?[path[0]]?[path[1]]?["parameters"] else { continue }
            if let required = schema["required"]?.arrayValue, !required.isEmpty { return (plan, [:]) }
            if let (name, property) = schema["properties"]?.objectValue?.first(where: { $0.value["type"]?.stringValue != nil }) {
                let wrong: JSONValue = property["type"]?.stringValue == "string" ? ["not": "a string"] : .string("not-a-\(property["type"]?.stringValue ?? "value")")
                return (plan, .object([name: wrong]))
            }
        }
        return nil
    }
}

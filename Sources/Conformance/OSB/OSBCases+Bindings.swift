import BrokerCore
import Foundation
import NIOHTTP1

extension OSBCases {
    /// An asynchronous binding whose bind succeeded.
    func boundAsyncBinding() async throws -> OSBAsyncOperation {
        if let bound = await context.fixtures.operation("bound") { return bound }
        let running = try await context.runningAsyncBind()
        let final = try await context.waitForOperation(running.path)
        try final.expect(200, because: "polling the asynchronous bind")
        try ensure(final["state"]?.stringValue == "succeeded", "\(final.request): the asynchronous bind ended \(final.summary)")
        await context.fixtures.setOperation("bound", running)
        return running
    }

    var bindings: [ConformanceCase] {
        let ctx = context
        @Sendable func bindRefused(_ id: String, _ title: String, _ change: @escaping @Sendable (JSONValue) -> JSONValue) -> ConformanceCase {
            ConformanceCase(id, title) { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: id)
                let body = change(OSBBodies.bind(instance.service, instance.plan))
                try await ctx.put(ctx.bindingPath(instance, uniqueName("binding")), body).expect(400)
            }
        }
        @Sendable func bindConflict(_ id: String, _ title: String, _ change: @escaping @Sendable (OSBService, OSBPlan, JSONValue) throws -> JSONValue) -> ConformanceCase {
            ConformanceCase(id, title) { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: id)
                let (bindingID, _) = try await ctx.bindSync(scope, instance)
                let body = try change(instance.service, instance.plan, OSBBodies.bind(instance.service, instance.plan))
                try await ctx.put(ctx.bindingPath(instance, bindingID), body).expect(409)
            }
        }
        return [
            ConformanceCase("B1", "a bindable plan can be bound → 201") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "b1")
                _ = try await ctx.bindSync(scope, instance)
            },
            bindRefused("B2a", "bind without service_id → 400") { $0.setting("service_id", nil) },
            bindRefused("B2b", "bind without plan_id → 400") { $0.setting("plan_id", nil) },
            ConformanceCase("B2c", "bind parameters invalid against the plan's binding schema → 400") { scope in
                let service = try ctx.requireService()
                guard let (plan, invalid) = Self.invalidParameters(service, path: ["service_binding", "create"]),
                    plan.id == ctx.syncPlan?.id
                else { throw CaseSkip("the synchronous plan has no binding schema with required or typed properties") }
                let (instance, _) = try await ctx.provisionSync(scope, tag: "b2")
                try await ctx.put(ctx.bindingPath(instance, uniqueName("binding")), OSBBodies.bind(service, plan, parameters: invalid)).expect(400)
            },
            ConformanceCase("B3", "bind with context, app_guid, bind_resource and parameters → 201") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "b3")
                let bindingID = uniqueName("binding")
                let body = OSBBodies.bind(instance.service, instance.plan, parameters: [:])
                    .setting("context", ["platform": "cloudfoundry", "organization_guid": "conformance-org", "space_guid": "conformance-space"])
                let reply = try await ctx.put(ctx.bindingPath(instance, bindingID), body)
                scope.cleanup { _ = try? await ctx.client.send(.DELETE, ctx.bindingPath(instance, bindingID) + instance.query(acceptsIncomplete: true)) }
                try reply.expect(201)
            },
            ConformanceCase("B4", "bind → 201 {credentials: object}") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "b4")
                let (_, reply) = try await ctx.bindSync(scope, instance)
                try ensure(try reply.object()["credentials"]?.objectValue != nil, "\(reply.request): credentials must be a JSON object")
            },
            ConformanceCase("B5", "identical bind again → 200 with the same body") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "b5")
                let (bindingID, created) = try await ctx.bindSync(scope, instance)
                let again = try await ctx.put(ctx.bindingPath(instance, bindingID), OSBBodies.bind(instance.service, instance.plan)).expect(200)
                try ensure(again.json == created.json, "\(again.request): the body differs from the 201 body")
            },
            bindConflict("B7a", "same binding id, other parameters → 409") { _, _, body in body.setting("parameters", ["conformance": "other"]) },
            bindConflict("B7b", "same binding id, another app_guid → 409") { _, _, body in
                body.setting("app_guid", "conformance-other-app").setting("bind_resource", ["app_guid": "conformance-other-app"])
            },
            bindConflict("B7c", "same binding id, another valid plan → 409 (not 400)") { service, plan, body in
                body.setting("plan_id", .string(try ctx.otherPlan(than: plan, in: service).id))
            },
            ConformanceCase("B8", "bind without app_guid (a service key) → 201, or 422 RequiresApp with the canonical text") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "b8")
                let bindingID = uniqueName("key")
                let body = OSBBodies.bind(instance.service, instance.plan).setting("app_guid", nil).setting("bind_resource", [:])
                let reply = try await ctx.put(ctx.bindingPath(instance, bindingID), body)
                scope.cleanup { _ = try? await ctx.client.send(.DELETE, ctx.bindingPath(instance, bindingID) + instance.query(acceptsIncomplete: true)) }
                try reply.expect(201, 422)
                if reply.status == 422 {
                    try Self.expectError(reply, "RequiresApp")
                    try ensure(reply["description"]?.stringValue == Self.canonicalRequiresApp, "\(reply.request): description is not the canonical text")
                }
            },
            ConformanceCase("B10", "parallel binds of one instance: each 201/202, or 422 ConcurrencyError") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "b10")
                let ids = (0..<3).map { _ in uniqueName("binding") }
                for id in ids {
                    scope.cleanup { _ = try? await ctx.client.send(.DELETE, ctx.bindingPath(instance, id) + instance.query(acceptsIncomplete: true)) }
                }
                let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
                    for (index, id) in ids.enumerated() {
                        group.addTask { try await ctx.put(ctx.bindingPath(instance, id), OSBBodies.bind(instance.service, instance.plan, app: "conformance-app-\(index)")) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                for reply in replies {
                    if reply.status == 422 { try Self.expectError(reply, "ConcurrencyError") } else { try reply.expect(201, 202) }
                }
            },
            ConformanceCase("B11", "syslog_drain_url, route_service_url, volume_mounts only when the service requires them") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "b11")
                let (_, reply) = try await ctx.bindSync(scope, instance)
                let requires = Set(instance.service.raw["requires"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                let members = try reply.object()
                for (field, requirement) in [("syslog_drain_url", "syslog_drain"), ("route_service_url", "route_forwarding"), ("volume_mounts", "volume_mount")] {
                    try ensure(members[field] == nil || requires.contains(requirement), "\(reply.request): \(field) returned but the service does not require \(requirement)")
                }
            },
            ConformanceCase("B12", "endpoints, when returned: [{host, ports: [non-empty strings], protocol tcp|udp|all}]") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "b12")
                let (_, reply) = try await ctx.bindSync(scope, instance)
                guard let endpoints = reply["endpoints"] else { return scope.note("no endpoints returned") }
                for endpoint in try unwrap(endpoints.arrayValue, "endpoints must be an array") {
                    try ensure(Self.nonEmptyString(endpoint["host"]), "an endpoint has no host")
                    let ports = endpoint["ports"]?.arrayValue ?? []
                    try ensure(!ports.isEmpty && ports.allSatisfy { $0.stringValue?.isEmpty == false }, "an endpoint's ports must be non-empty strings")
                    if let proto = endpoint["protocol"] { try ensure(["tcp", "udp", "all"].contains(proto.stringValue ?? ""), "protocol \(proto.canonicalText()) is not tcp, udp or all") }
                }
            },
            ConformanceCase("B13", "binding metadata expires_at / renew_before, when returned, are ISO 8601 instants") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "b13")
                let (_, reply) = try await ctx.bindSync(scope, instance)
                guard let metadata = reply["metadata"] else { return scope.note("no metadata returned") }
                for key in ["expires_at", "renew_before"] {
                    if let value = metadata[key] {
                        try ensure(value.stringValue?.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/) != nil, "metadata.\(key) \(value.canonicalText()) is not yyyy-mm-ddThh:mm:ss.sZ")
                    }
                }
            },
            ConformanceCase("B14", "binding information is returned at least once (the 201 or the first fetch)") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "b14")
                let (bindingID, reply) = try await ctx.bindSync(scope, instance)
                if reply["credentials"]?.objectValue != nil { return }
                try ensure(instance.service.bindingsRetrievable, "the 201 has no credentials and the service is not bindings_retrievable")
                let fetched = try await ctx.client.get(ctx.bindingPath(instance, bindingID)).expect(200)
                try ensure(fetched["credentials"]?.objectValue != nil, "\(fetched.request): no credentials")
            },
            ConformanceCase("B15", "bind to an instance that does not exist → 4xx") { _ in
                let (service, plan) = try ctx.requireBindable()
                let instance = OSBInstance(id: uniqueName("b15"), service: service, plan: plan)
                let reply = try await ctx.put(ctx.bindingPath(instance, uniqueName("binding")), OSBBodies.bind(service, plan))
                try ensure((400..<500).contains(reply.status), "\(reply.request): expected a 4xx, got \(reply.summary)")
            },
            ConformanceCase("FB1", "bindings_retrievable: GET binding → 200 {credentials}") { scope in
                let (service, _) = try ctx.requireBindable()
                guard service.bindingsRetrievable else { throw CaseSkip("service '\(service.name)' is not bindings_retrievable") }
                let (instance, _) = try await ctx.provisionSync(scope, tag: "fb1")
                let (bindingID, _) = try await ctx.bindSync(scope, instance)
                let reply = try await ctx.client.get(ctx.bindingPath(instance, bindingID)).expect(200)
                try ensure(reply["credentials"]?.objectValue != nil, "\(reply.request): credentials must be an object")
            },
            ConformanceCase("FB2a", "GET of a binding that does not exist → 404") { scope in
                let (service, _) = try ctx.requireBindable()
                guard service.bindingsRetrievable else { throw CaseSkip("service '\(service.name)' is not bindings_retrievable") }
                let (instance, _) = try await ctx.provisionSync(scope, tag: "fb2")
                try await ctx.client.get(ctx.bindingPath(instance, uniqueName("binding"))).expect(404)
            },
            ConformanceCase("BL2a", "binding last_operation of an unknown binding → 404") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "bl2")
                try await ctx.client.get(ctx.bindingPath(instance, uniqueName("binding")) + "/last_operation").expect(404)
            },
        ]
    }

    var asyncBindingFlow: [ConformanceCase] {
        let ctx = context
        return [
            ConformanceCase("B9", "bind on an async-only plan without accepts_incomplete → 422 AsyncRequired (or a synchronous 201)") { scope in
                let instance = try await ctx.completedAsyncInstance()
                guard instance.service.isBindable(instance.plan) else { throw CaseSkip("asynchronous plan '\(instance.plan.name)' is not bindable") }
                let bindingID = uniqueName("binding")
                let reply = try await ctx.put(ctx.bindingPath(instance, bindingID), OSBBodies.bind(instance.service, instance.plan))
                if reply.status == 201 {
                    scope.note("bound synchronously")
                    scope.cleanup { _ = try? await ctx.client.send(.DELETE, ctx.bindingPath(instance, bindingID) + instance.query(acceptsIncomplete: true)) }
                    return
                }
                try Self.expectError(reply, "AsyncRequired")
            },
            ConformanceCase("B6", "identical bind while binding → 202 with the same operation, no credentials") { _ in
                try await ctx.whileRunning({ try await ctx.runningAsyncBind() }) { running in
                    let again = try await ctx.put(running.path, OSBBodies.bind(running.instance.service, running.instance.plan), acceptsIncomplete: true).expect(202)
                    try ensure(again["operation"]?.stringValue == running.operation, "\(again.request): operation \(again["operation"]?.canonicalText() ?? "absent") is not \(running.operation ?? "(none)")")
                    for reply in [running.reply, again] {
                        try ensure(reply["credentials"] == nil, "\(reply.request): a 202 must not carry credentials")
                    }
                }
            },
            ConformanceCase("FB2b", "GET of a binding still being created → 404") { _ in
                guard try ctx.requireAsync().0.bindingsRetrievable else { throw CaseSkip("service is not bindings_retrievable") }
                try await ctx.whileRunning({ try await ctx.runningAsyncBind() }) { running in
                    try await ctx.client.get(running.path).expect(404)
                }
            },
            ConformanceCase("BL1", "binding last_operation → 200 {state}") { _ in
                let running = try await ctx.runningAsyncBind()
                let reply = try await ctx.client.get(running.path + "/last_operation" + running.instance.query(acceptsIncomplete: false)).expect(200)
                try ensure(["in progress", "succeeded"].contains(reply["state"]?.stringValue ?? ""), "\(reply.request): \(reply.summary)")
            },
            ConformanceCase("BL3", "Retry-After whole seconds; once succeeded the binding can be fetched at once") { _ in
                let running = try await ctx.runningAsyncBind()
                let final = try await ctx.waitForOperation(running.path) { reply in
                    if let value = reply.header("Retry-After") {
                        try ensure(!value.isEmpty && value.allSatisfy(\.isNumber), "\(reply.request): Retry-After '\(value)' is not whole seconds")
                    }
                }
                try ensure(final.status == 200 && final["state"]?.stringValue == "succeeded", "\(final.request): the bind ended \(final.summary)")
                await ctx.fixtures.setOperation("bound", running)
                guard running.instance.service.bindingsRetrievable else { return }
                let fetched = try await ctx.client.get(running.path).expect(200)
                try ensure(fetched["credentials"]?.objectValue != nil, "\(fetched.request): an asynchronous binding must return credentials on fetch")
            },
        ]
    }

    var unbinding: [ConformanceCase] {
        let ctx = context
        return [
            ConformanceCase("UB1a", "unbind without service_id → 400") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "ub1")
                let (bindingID, _) = try await ctx.bindSync(scope, instance)
                try await ctx.client.send(.DELETE, ctx.bindingPath(instance, bindingID) + "?plan_id=\(instance.plan.id.urlQueryEncoded)").expect(400)
            },
            ConformanceCase("UB1b", "unbind without plan_id → 400") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "ub1")
                let (bindingID, _) = try await ctx.bindSync(scope, instance)
                try await ctx.client.send(.DELETE, ctx.bindingPath(instance, bindingID) + "?service_id=\(instance.service.id.urlQueryEncoded)").expect(400)
            },
            ConformanceCase("UB2a", "unbind → 200 {}") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "ub2")
                let (bindingID, _) = try await ctx.bindSync(scope, instance)
                let reply = try await ctx.client.send(.DELETE, ctx.bindingPath(instance, bindingID) + instance.query(acceptsIncomplete: false)).expect(200)
                try ensure(reply.json?.objectValue != nil, "\(reply.request): body must be a JSON object")
            },
            ConformanceCase("UB3", "unbind of a binding that does not exist → 410") { scope in
                _ = try ctx.requireBindable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "ub3")
                try await ctx.client.send(.DELETE, ctx.bindingPath(instance, uniqueName("binding")) + instance.query(acceptsIncomplete: false)).expect(410)
            },
            ConformanceCase("UB4", "unbind on an async-only plan without accepts_incomplete → 422 AsyncRequired") { _ in
                let bound = try await boundAsyncBinding()
                try Self.expectError(try await ctx.client.send(.DELETE, bound.path + bound.instance.query(acceptsIncomplete: false)), "AsyncRequired")
            },
            ConformanceCase("UB2b", "asynchronous unbind → 202; again while it runs → 202") { _ in
                let bound = try await boundAsyncBinding()
                let path = bound.path + bound.instance.query(acceptsIncomplete: true)
                let reply = try await ctx.client.send(.DELETE, path).expect(202)
                await ctx.fixtures.setOperation("unbind", OSBAsyncOperation(instance: bound.instance, bindingID: bound.bindingID, reply: reply))
                await ctx.fixtures.removeOperations(["bound", "bind"])
                try await ctx.client.send(.DELETE, path).expect(202, because: "a repeated unbind while it runs")
            },
            ConformanceCase("BL2b", "binding last_operation after the asynchronous unbind → \(ctx.options.lastOperationAfterDelete == .gone ? "410 Gone" : "200 succeeded")") { _ in
                guard let started = await ctx.fixtures.operation("unbind") else { throw CaseSkip("UB2b did not start an asynchronous unbind") }
                let final = try await ctx.waitForOperation(started.path)
                switch ctx.options.lastOperationAfterDelete {
                case .gone: try final.expect(410)
                case .succeeded:
                    try final.expect(200)
                    try ensure(final["state"]?.stringValue == "succeeded", "\(final.request): \(final.summary)")
                }
            },
        ]
    }
}

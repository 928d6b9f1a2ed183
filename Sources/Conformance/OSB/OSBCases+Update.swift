import BrokerCore
import Foundation
import NIOHTTP1

extension OSBCases {
    var lastOperation: [ConformanceCase] {
        let ctx = context
        return [
            ConformanceCase.skipped("L3", "a failed update or deprovision MAY add instance_usable", because: "needs a backend that fails on purpose"),
            ConformanceCase("L4", "last_operation of an instance that never existed → 404") { _ in
                let (service, plan) = try ctx.requireSync()
                try await ctx.client.get(OSBInstance(id: uniqueName("l4"), service: service, plan: plan).path + "/last_operation").expect(404)
            },
            ConformanceCase.skipped("L7", "a malformed last_operation request → 400", because: "every query parameter is optional (L1, L10): no request is malformed over the wire"),
            ConformanceCase.skipped("L12", "the platform stops polling after maximum_polling_duration", because: "platform behaviour"),
        ]
    }

    var fetch: [ConformanceCase] {
        let ctx = context
        @Sendable func retrievable() throws -> OSBService {
            let service = try ctx.requireService()
            guard service.instancesRetrievable else { throw CaseSkip("service '\(service.name)' is not instances_retrievable") }
            return service
        }
        return [
            ConformanceCase("F1a", "instances_retrievable: a provisioned instance can be fetched → 200") { scope in
                _ = try retrievable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "f1")
                try await ctx.client.get(instance.path).expect(200)
            },
            ConformanceCase("F2", "fetch → {service_id, plan_id, …} of the instance") { scope in
                _ = try retrievable()
                let (instance, _) = try await ctx.provisionSync(scope, tag: "f2")
                let members = try await ctx.client.get(instance.path).expect(200).object()
                try ensure(members["service_id"]?.stringValue == instance.service.id, "service_id is \(members["service_id"]?.canonicalText() ?? "absent")")
                try ensure(members["plan_id"]?.stringValue == instance.plan.id, "plan_id is \(members["plan_id"]?.canonicalText() ?? "absent")")
            },
            ConformanceCase("F3a", "fetching an unknown instance → 404") { _ in
                let service = try retrievable()
                try await ctx.client.get("/v2/service_instances/\(uniqueName("f3"))?service_id=\(service.id.urlQueryEncoded)").expect(404)
            },
        ]
    }

    /// An asynchronous plan change that is still running (started now when the last one finished).
    func runningAsyncUpdate() async throws -> OSBAsyncOperation {
        if let current = await context.fixtures.operation("update"), try await context.inProgress(current) { return current }
        let (service, syncPlan) = try context.requireSync()
        let (_, asyncPlan) = try context.requireAsync()
        guard service.planUpdateable || syncPlan.raw["plan_updateable"]?.boolValue == true else {
            throw CaseSkip("plan '\(syncPlan.name)' is not plan_updateable: no asynchronous plan change to check")
        }
        let instance = OSBInstance(id: uniqueName("update"), service: service, plan: syncPlan)
        try await context.put(instance.path, OSBBodies.provision(service, syncPlan)).expect(201)
        await context.fixtures.addPending(instance)
        let reply = try await context.patch(instance, ["service_id": .string(service.id), "plan_id": .string(asyncPlan.id)], acceptsIncomplete: true)
        if reply.status == 200 { throw CaseSkip("the change to plan '\(asyncPlan.name)' was synchronous (200)") }
        try reply.expect(202, because: "changing to asynchronous plan '\(asyncPlan.name)' with accepts_incomplete=true")
        let started = OSBAsyncOperation(instance: instance, bindingID: nil, reply: reply)
        await context.fixtures.setOperation("update", started)
        return started
    }

    var update: [ConformanceCase] {
        let ctx = context
        @Sendable func serviceField(_ instance: OSBInstance) -> JSONValue { ["service_id": .string(instance.service.id)] }
        return [
            ConformanceCase("U1a", "PATCH without service_id → 400") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "u1")
                try await ctx.patch(instance, ["parameters": ["conformance": "u1"]], acceptsIncomplete: true).expect(400)
            },
            ConformanceCase("U1b", "PATCH with a service_id not in the catalog → 400") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "u1")
                try await ctx.patch(instance, ["service_id": "conformance-unknown-service"], acceptsIncomplete: true).expect(400)
            },
            ConformanceCase("U1c", "PATCH without plan_id keeps the plan") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "u1")
                guard instance.service.instancesRetrievable else { throw CaseSkip("service is not instances_retrievable: the plan cannot be read back") }
                let reply = try await ctx.patch(instance, serviceField(instance).setting("parameters", ["conformance": "u1c"]), acceptsIncomplete: true)
                try reply.expect(200, 202)
                if reply.status == 202 { try await ctx.waitForOperation(instance.path) }
                let fetched = try await ctx.client.get(instance.path).expect(200)
                try ensure(fetched["plan_id"]?.stringValue == instance.plan.id, "\(fetched.request): plan_id changed to \(fetched["plan_id"]?.canonicalText() ?? "absent")")
            },
            ConformanceCase("U2", "PATCH with context and previous_values (maintenance_info {}) → 200") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "u2")
                let body = serviceField(instance)
                    .setting("context", ["platform": "cloudfoundry", "instance_name": "conformance-renamed"])
                    .setting("previous_values", ["plan_id": .string(instance.plan.id), "service_id": .string(instance.service.id), "maintenance_info": [:]])
                    .setting("maintenance_info", [:])
                try await ctx.patch(instance, body, acceptsIncomplete: true).expect(200, 202)
            },
            ConformanceCase("U3", "a plan change the service does not allow → 422") { scope in
                let (service, plan) = try ctx.requireSync()
                guard !service.planUpdateable, plan.raw["plan_updateable"]?.boolValue != true else {
                    throw CaseSkip("service '\(service.name)' allows plan changes")
                }
                let other = try ctx.otherPlan(than: plan, in: service)
                let (instance, _) = try await ctx.provisionSync(scope, tag: "u3")
                try await ctx.patch(instance, serviceField(instance).setting("plan_id", .string(other.id)), acceptsIncomplete: true).expect(422)
            },
            ConformanceCase("U4", "a PATCH that changes nothing → 200 with a JSON object") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "u4")
                _ = try await ctx.patch(instance, serviceField(instance)).expect(200).object()
            },
            ConformanceCase("U6", "changing to an async-only plan without accepts_incomplete → 422 AsyncRequired") { scope in
                let (service, plan) = try ctx.requireSync()
                let (_, asyncPlan) = try ctx.requireAsync()
                guard service.planUpdateable || plan.raw["plan_updateable"]?.boolValue == true else { throw CaseSkip("plan '\(plan.name)' is not plan_updateable") }
                let (instance, _) = try await ctx.provisionSync(scope, tag: "u6")
                try Self.expectError(try await ctx.patch(instance, serviceField(instance).setting("plan_id", .string(asyncPlan.id))), "AsyncRequired")
            },
            ConformanceCase("U5", "asynchronous update → 202; the same PATCH again → 202 with the same operation") { _ in
                try await ctx.whileRunning({ try await runningAsyncUpdate() }) { running in
                    let body: JSONValue = ["service_id": .string(running.instance.service.id), "plan_id": .string(try ctx.requireAsync().1.id)]
                    let again = try await ctx.patch(running.instance, body, acceptsIncomplete: true).expect(202)
                    try ensure(again["operation"]?.stringValue == running.operation, "\(again.request): operation \(again["operation"]?.canonicalText() ?? "absent") is not \(running.operation ?? "(none)")")
                }
            },
            ConformanceCase("F4", "fetching an instance being updated → 422 ConcurrencyError") { _ in
                guard try ctx.requireService().instancesRetrievable else { throw CaseSkip("service is not instances_retrievable") }
                try await ctx.whileRunning({ try await runningAsyncUpdate() }) { running in
                    try Self.expectError(try await ctx.client.get(running.path), "ConcurrencyError")
                }
            },
            ConformanceCase("D6", "DELETE while an update runs → 422 ConcurrencyError") { _ in
                try await ctx.whileRunning({ try await runningAsyncUpdate() }) { running in
                    try Self.expectError(try await ctx.delete(running.instance, acceptsIncomplete: true), "ConcurrencyError")
                }
            },
            ConformanceCase("U7a", "PATCH with a maintenance_info.version that is not the plan's → 422 MaintenanceInfoConflict") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "u7")
                try Self.expectError(try await ctx.patch(instance, serviceField(instance).setting("maintenance_info", ["version": "99.99.99-conformance"])), "MaintenanceInfoConflict")
            },
            ConformanceCase("U7b", "maintenance_info {} and previous_values.maintenance_info {} count as absent → 200") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "u7")
                let body = serviceField(instance).setting("maintenance_info", [:]).setting("previous_values", ["maintenance_info": [:]])
                try await ctx.patch(instance, body).expect(200)
            },
            ConformanceCase("U8", "context-only update with allow_context_updates → 200/202") { scope in
                let service = try ctx.requireService()
                guard service.allowContextUpdates else { throw CaseSkip("service '\(service.name)' does not declare allow_context_updates") }
                let (instance, _) = try await ctx.provisionSync(scope, tag: "u8")
                try await ctx.patch(instance, serviceField(instance).setting("context", ["platform": "cloudfoundry", "instance_name": "renamed"]), acceptsIncomplete: true).expect(200, 202)
            },
            ConformanceCase("U9", "a refused PATCH applies none of its changes") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "u9", parameters: ["conformance": "before"])
                guard instance.service.instancesRetrievable else { throw CaseSkip("service is not instances_retrievable: nothing to read back") }
                let before = try await ctx.client.get(instance.path).expect(200)
                let body = serviceField(instance).setting("parameters", ["conformance": "after"]).setting("maintenance_info", ["version": "99.99.99-conformance"])
                try await ctx.patch(instance, body, acceptsIncomplete: true).expect(422)
                let after = try await ctx.client.get(instance.path).expect(200)
                try ensure(after["parameters"] == before["parameters"] && after["plan_id"] == before["plan_id"], "\(after.request): the instance changed from \(before.text) to \(after.text)")
            },
            ConformanceCase.skipped("U10", "an absent dashboard_url keeps the old one", because: "platform behaviour"),
        ]
    }

    var deprovision: [ConformanceCase] {
        let ctx = context
        return [
            ConformanceCase("D1a", "DELETE without service_id → 400") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "d1")
                try await ctx.client.send(.DELETE, instance.path + "?plan_id=\(instance.plan.id.urlQueryEncoded)").expect(400)
            },
            ConformanceCase("D1b", "DELETE without plan_id → 400") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "d1")
                try await ctx.client.send(.DELETE, instance.path + "?service_id=\(instance.service.id.urlQueryEncoded)").expect(400)
            },
            ConformanceCase("D2", "synchronous DELETE → 200 {}") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "d2")
                let reply = try await ctx.delete(instance).expect(200)
                try ensure(reply.json?.objectValue != nil, "\(reply.request): body must be a JSON object, got \(reply.summary)")
            },
            ConformanceCase("D4a", "DELETE of an instance that never existed → 410") { _ in
                let (service, plan) = try ctx.requireSync()
                try await ctx.delete(OSBInstance(id: uniqueName("d4"), service: service, plan: plan)).expect(410)
            },
            ConformanceCase("D4b", "DELETE of a deleted instance → 410") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "d4")
                try await ctx.delete(instance).expect(200)
                try await ctx.delete(instance).expect(410)
            },
            ConformanceCase("D5", "DELETE of an async-only instance without accepts_incomplete → 422 AsyncRequired") { _ in
                let instance = try await ctx.completedAsyncInstance()
                try Self.expectError(try await ctx.delete(instance), "AsyncRequired")
            },
            ConformanceCase("D3", "asynchronous DELETE → 202; again while it runs → 202") { _ in
                let instance = try await ctx.completedAsyncInstance()
                let reply = try await ctx.delete(instance, acceptsIncomplete: true).expect(202)
                await ctx.fixtures.setOperation("deprovision", OSBAsyncOperation(instance: instance, bindingID: nil, reply: reply))
                await ctx.fixtures.removeOperations(["completed", "provision"])
                try await ctx.delete(instance, acceptsIncomplete: true).expect(202, because: "a repeated DELETE while deprovisioning")
            },
            ConformanceCase("L5", "last_operation after the asynchronous delete → \(ctx.options.lastOperationAfterDelete == .gone ? "410 Gone" : "200 succeeded")") { _ in
                guard let started = await ctx.fixtures.operation("deprovision") else { throw CaseSkip("D3 did not start an asynchronous delete") }
                let final = try await ctx.waitForOperation(started.path)
                switch ctx.options.lastOperationAfterDelete {
                case .gone: try final.expect(410)
                case .succeeded:
                    try final.expect(200)
                    try ensure(final["state"]?.stringValue == "succeeded", "\(final.request): \(final.summary)")
                }
            },
            ConformanceCase("D7", "DELETE during provisioning is carried out: the instance ends deleted") { _ in
                let (instance, accepted) = try await orphanMitigation()
                guard accepted.status != 410 else { return }
                let deadline = Date().addingTimeInterval(30)
                while true {
                    let reply = try await ctx.delete(instance, acceptsIncomplete: true)
                    if reply.status == 410 { return }
                    try reply.expect(200, 202, because: "repeating the DELETE until the instance is gone")
                    guard Date() < deadline else { throw CaseFailure("\(reply.request): still not gone after 30 s (\(reply.summary))") }
                    try await pause(0.5)
                }
            },
            ConformanceCase.skipped("D8", "deleting an instance that still has bindings", because: "unspecified by the spec (platforms unbind first)"),
            ConformanceCase.skipped("D9", "a failed deprovision MAY carry instance_usable", because: "needs a backend that fails on purpose"),
        ]
    }

    /// A DELETE sent while an asynchronous provision runs (O1, D7): sent once.
    func orphanMitigation() async throws -> (OSBInstance, HTTPReply) {
        if let done = await context.fixtures.operation("orphan") { return (done.instance, done.reply) }
        let started = try await context.startAsyncProvision(key: "orphan-provision")
        let reply = try await context.delete(started.instance, acceptsIncomplete: true)
        await context.fixtures.setOperation("orphan", OSBAsyncOperation(instance: started.instance, bindingID: nil, reply: reply))
        return (started.instance, reply)
    }
}

import BrokerCore
import Foundation
import NIOHTTP1

extension OSBCases {
    var idempotency: [ConformanceCase] {
        let ctx = context
        return [
            ConformanceCase("I1", "repeating a completed PUT (provision and bind) → 200 every time") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "i1")
                for _ in 0..<3 { try await ctx.put(instance.path, OSBBodies.provision(instance.service, instance.plan)).expect(200) }
                guard instance.service.isBindable(instance.plan) else { return }
                let (bindingID, _) = try await ctx.bindSync(scope, instance)
                for _ in 0..<2 { try await ctx.put(ctx.bindingPath(instance, bindingID), OSBBodies.bind(instance.service, instance.plan)).expect(200) }
            },
            ConformanceCase("I2", "the identity of a PUT includes the context: another context → 409") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "i2")
                let body = OSBBodies.provision(instance.service, instance.plan)
                    .setting("context", ["platform": "cloudfoundry", "organization_guid": "conformance-org", "space_guid": "conformance-space", "instance_name": "another"])
                try await ctx.put(instance.path, body).expect(409)
            },
            ConformanceCase("I3", "repeated DELETE: 200, then 410") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "i3")
                try await ctx.delete(instance, acceptsIncomplete: true).expect(200)
                try await ctx.delete(instance, acceptsIncomplete: true).expect(410)
                try await ctx.delete(instance, acceptsIncomplete: true).expect(410)
            },
            ConformanceCase("I4", "5 identical PUTs at once: exactly one 201, the rest 200/202 (or 422 ConcurrencyError), one instance") { scope in
                let (service, plan) = try ctx.requireSync()
                let instance = OSBInstance(id: uniqueName("i4"), service: service, plan: plan)
                scope.cleanup { await ctx.cleanUp(instance) }
                let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
                    for _ in 0..<5 { group.addTask { try await ctx.put(instance.path, OSBBodies.provision(service, plan)) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                for reply in replies where reply.status == 422 { try Self.expectError(reply, "ConcurrencyError") }
                let statuses = replies.map(\.status).sorted()
                try ensure(statuses.filter { $0 == 201 }.count == 1, "expected exactly one 201, got \(statuses)")
                try ensure(statuses.allSatisfy { [200, 201, 202, 422].contains($0) }, "unexpected statuses \(statuses)")
                try await ctx.waitForOperation(instance.path)
                let deleted = try await ctx.delete(instance, acceptsIncomplete: true).expect(200, 202)
                if deleted.status == 202 { try await ctx.waitForOperation(instance.path) }
                try await ctx.delete(instance, acceptsIncomplete: true).expect(410, because: "one DELETE must remove the one instance")
            },
            ConformanceCase("I5", "a refused concurrent mutation is 422 ConcurrencyError") { scope in
                let reply = try await concurrentUpdate()
                if (200..<300).contains(reply.status) { return scope.note("the update during provisioning was accepted (\(reply.status))") }
                try Self.expectError(reply, "ConcurrencyError")
            },
            ConformanceCase("I6", "re-using a deleted instance id → 201 (or 409: MAY refuse)") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "i6")
                try await ctx.delete(instance).expect(200)
                let reply = try await ctx.put(instance.path, OSBBodies.provision(instance.service, instance.plan)).expect(201, 409)
                if reply.status == 409 { scope.note("re-use refused") }
            },
        ]
    }

    var orphanMitigation: [ConformanceCase] {
        let ctx = context
        return [
            ConformanceCase("O1", "DELETE (accepts_incomplete) while a provision runs → 202, 200 or 410") { _ in
                let (_, reply) = try await orphanMitigation()
                try reply.expect(200, 202, 410)
            },
            ConformanceCase.skipped("O2", "5xx or malformed provision answers start orphan mitigation", because: "platform behaviour"),
            ConformanceCase.skipped("O3", "a failed last_operation starts orphan mitigation", because: "platform behaviour (needs a failing backend)"),
            ConformanceCase.skipped("O4", "failed updates start no orphan mitigation", because: "platform behaviour"),
            ConformanceCase("O5", "mitigation DELETEs (no originating identity, accepts_incomplete) are idempotent: 200, then 410") { scope in
                let (instance, _) = try await ctx.provisionSync(scope, tag: "o5")
                let path = instance.path + instance.query(acceptsIncomplete: true)
                try await ctx.client.send(.DELETE, path, headers: [("X-Broker-API-Originating-Identity", nil)]).expect(200, 202)
                try await ctx.waitForOperation(instance.path)
                try await ctx.client.send(.DELETE, path).expect(410)
                try await ctx.client.send(.DELETE, path).expect(410)
            },
            ConformanceCase.skipped("O6", "the broker MAY delete resources it thinks orphaned", because: "not observable over the wire"),
        ]
    }
}

import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import Testing
import TestSupport

@Suite("OSB: bind, fetch binding, unbind, binding last_operation, rotation")
struct OSBBindingTests {
    typealias F = OSBFixture

    @Test func b4B5B7BindIsIdempotentAndConflictsOnDifferences() async throws {
        try await F.withServer { osb, handle in
            let instance = "service_instances/bind-1"
            #expect(try await osb.send(.put, instance, body: F.provision()).status == .created)
            let path = instance + "/service_bindings/b-1"
            let created = try await osb.send(.put, path, body: F.bind(parameters: ["role": "reader"]))
            #expect(created.status == .created)
            let file = handle.configuration.dataDirectory.appendingPathComponent("providers/sqlite-local/bind-1.sqlite").path
            #expect(created.json == ["credentials": ["uri": .string("sqlite://" + file), "path": .string(file)]])
            #expect(try await osb.send(.put, path, body: F.bind(parameters: ["role": "reader"])).json == created.json)
            #expect(try await osb.send(.put, path, body: F.bind(parameters: ["role": "reader"])).status == .ok)
            // kot swaps in another valid plan, another app or other parameters and expects 409
            for different in [F.bind(plan: F.rotating, parameters: ["role": "reader"]), F.bind(app: "app-2", parameters: ["role": "reader"]), F.bind(parameters: ["role": "writer"])] {
                #expect(try await osb.send(.put, path, body: different).status == .conflict)
            }
            let invalid = try await osb.send(.put, instance + "/service_bindings/b-2", body: F.bind(parameters: ["role": "owner"]))
            #expect(invalid.status == .badRequest)
            #expect(invalid["error"] == "InvalidParameters")
            #expect(try await osb.send(.put, "service_instances/none/service_bindings/b-3", body: F.bind()).status == .notFound)
            let fetched = try await osb.send(.get, path)
            #expect(fetched.json == ["credentials": created["credentials"]!, "parameters": ["role": "reader"]])
            #expect(try await osb.send(.get, instance + "/service_bindings/unknown").status == .notFound)
        }
    }

    @Test func asyncBindAndUnbindArePolledToTheEnd() async throws {
        try await F.withServer { osb, _ in
            let instance = "service_instances/abind-1"
            _ = try await osb.send(.put, instance + "?accepts_incomplete=true", body: F.provision(plan: F.large))
            // B10: binding while the instance is being provisioned is a ConcurrencyError
            let early = try await osb.send(.put, instance + "/service_bindings/b-1?accepts_incomplete=true", body: F.bind(plan: F.large))
            #expect(early.json == (try F.fixture("concurrency-error")))
            _ = try await osb.poll(instance)
            let path = instance + "/service_bindings/b-1"
            #expect(try await osb.send(.put, path, body: F.bind(plan: F.large)).json == (try F.fixture("async-required")))
            let accepted = try await osb.send(.put, path + "?accepts_incomplete=true", body: F.bind(plan: F.large))
            #expect(accepted.status == .accepted)
            #expect(accepted["credentials"] == nil)
            // FB2: not fetchable until it is done
            #expect(try await osb.send(.get, path).status == .notFound)
            #expect(try await osb.poll(path).json == ["state": "succeeded"])
            #expect(try await osb.send(.get, path)["credentials"]?["uri"] != nil)
            let query = "?service_id=\(F.sqlite)&plan_id=\(F.large)"
            #expect(try await osb.send(.delete, path + query).json == (try F.fixture("async-required")))
            let unbinding = try await osb.send(.delete, path + query + "&accepts_incomplete=true")
            #expect(unbinding.status == .accepted)
            let done = try await osb.poll(path, operation: unbinding["operation"]?.stringValue)
            #expect(done.status == .gone)
            #expect(try await osb.send(.delete, path + query + "&accepts_incomplete=true").status == .gone)
        }
    }

    @Test func ubUnbindOrderOfChecksAndCascadingDeprovision() async throws {
        try await F.withServer { osb, _ in
            let instance = "service_instances/unb-1"
            _ = try await osb.send(.put, instance, body: F.provision())
            let path = instance + "/service_bindings/b-1"
            _ = try await osb.send(.put, path, body: F.bind())
            // An unknown binding is 410 before the query is checked; a known one needs both ids
            #expect(try await osb.send(.delete, instance + "/service_bindings/ghost").status == .gone)
            #expect(try await osb.send(.delete, path + "?service_id=\(F.sqlite)").status == .badRequest)
            _ = try await osb.send(.put, instance + "/service_bindings/b-2", body: F.bind(app: "app-2"))
            let unbound = try await osb.send(.delete, path + "?service_id=\(F.sqlite)&plan_id=\(F.small)")
            #expect(unbound.status == .ok)
            #expect(unbound.json == .emptyObject)
            #expect(try await osb.send(.get, path).status == .notFound)
            // Deprovisioning removes the bindings that are left
            #expect(try await osb.send(.delete, instance + "?service_id=\(F.sqlite)&plan_id=\(F.small)").status == .ok)
            #expect(try await osb.send(.get, instance + "/service_bindings/b-2").status == .notFound)
            #expect(try await osb.send(.delete, instance + "/service_bindings/b-2?service_id=\(F.sqlite)&plan_id=\(F.small)").status == .gone)
        }
    }

    @Test func rotationInheritsFromThePredecessorOnlyOnRotatablePlans() async throws {
        try await F.withServer { osb, handle in
            let instance = "service_instances/rot-1"
            _ = try await osb.send(.put, instance, body: F.provision(plan: F.rotating))
            let first = try await osb.send(.put, instance + "/service_bindings/b-1", body: F.bind(plan: F.rotating, app: "app-9"))
            #expect(first.status == .created)
            let rotated = try await osb.send(.put, instance + "/service_bindings/b-2", body: ["predecessor_binding_id": "b-1"])
            #expect(rotated.status == .created)
            #expect(rotated["credentials"] == first["credentials"])
            let binding = try #require(try await handle.broker.binding(id: "b-2"))
            #expect(binding.context["app_guid"] == "app-9")
            #expect(binding.context["predecessor_binding_id"] == "b-1")
            // Not on a plan without binding_rotatable
            _ = try await osb.send(.put, "service_instances/rot-2", body: F.provision())
            _ = try await osb.send(.put, "service_instances/rot-2/service_bindings/c-1", body: F.bind())
            let refused = try await osb.send(.put, "service_instances/rot-2/service_bindings/c-2", body: ["predecessor_binding_id": "c-1"])
            #expect(refused.status == .badRequest)
            #expect(refused.json == ["error": "BadRequest", "description": "plan of service instance rot-2 does not allow binding rotation (binding_rotatable is false)"])
        }
    }
}

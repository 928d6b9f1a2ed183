import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import Testing
import TestSupport

@Suite("OSB: provision, update, fetch, deprovision, last_operation, orphan mitigation")
struct OSBInstanceTests {
    typealias F = OSBFixture

    @Test func p1NegativesOnOneIDChangeNothingAndADeleteThenAnswers410() async throws {
        try await F.withServer { osb, handle in
            let path = "service_instances/neg-1"
            let asyncRequired = try F.fixture("async-required")
            var missingService = F.provision().objectValue!
            missingService["service_id"] = nil
            var emptyPlan = F.provision().objectValue!
            emptyPlan["plan_id"] = ""
            var nullOrg = F.provision().objectValue!
            nullOrg["organization_guid"] = .null
            var noSpace = F.provision().objectValue!
            noSpace["space_guid"] = nil
            var badParameters = F.provision().objectValue!
            badParameters["parameters"] = "size=3"
            let cases: [(JSONValue?, String?, HTTPResponse.Status, JSONValue)] = [
                (.object(missingService), nil, .badRequest, ["error": "BadRequest", "description": "service_id is required"]),
                (.object(emptyPlan), nil, .badRequest, ["error": "BadRequest", "description": "plan_id is required"]),
                (F.provision(plan: "no-such-plan"), nil, .badRequest,
                 ["error": "BadRequest", "description": "plan_id 'no-such-plan' is not a plan of service 'sqlite'"]),
                (F.provision(plan: F.standard), nil, .badRequest,
                 ["error": "BadRequest", "description": .string("plan_id '\(F.standard)' is not a plan of service 'sqlite'")]),
                (F.provision(service: "nope"), nil, .badRequest, ["error": "BadRequest", "description": "service_id 'nope' is not in the catalog"]),
                (.object(nullOrg), nil, .badRequest, ["error": "BadRequest", "description": "organization_guid is required"]),
                (.object(noSpace), nil, .badRequest, ["error": "BadRequest", "description": "space_guid is required"]),
                (.object(badParameters), nil, .badRequest, ["error": "BadRequest", "description": "parameters must be a JSON object"]),
                (nil, "{not json", .badRequest, ["error": "BadRequest", "description": "the request body is not valid JSON"]),
                (nil, "[1,2]", .badRequest, ["error": "BadRequest", "description": "the request body must be a JSON object"]),
                (F.provision(parameters: ["size": 500]), nil, .badRequest,
                 ["error": "InvalidParameters", "description": "invalid parameters: parameter 'size' must be at most 100"]),
                (F.provision(parameters: ["colour": "red"]), nil, .badRequest,
                 ["error": "InvalidParameters", "description": "invalid parameters: parameter 'colour' is not allowed"]),
                (F.provision(plan: F.large), nil, .unprocessableContent, asyncRequired),
            ]
            for (body, raw, status, expected) in cases {
                let reply = try await osb.send(.put, path, body: body, raw: raw)
                #expect(reply.status == status, "\(expected)")
                #expect(reply.json == expected)
            }
            var wrongMaintenance = F.provision().objectValue!
            wrongMaintenance["maintenance_info"] = ["version": "2.0.0"]
            let conflict = try await osb.send(.put, path, body: .object(wrongMaintenance))
            #expect(conflict.status == .unprocessableContent)
            #expect(conflict["error"] == "MaintenanceInfoConflict")
            var noMaintenancePlan = F.provision(plan: F.rotating).objectValue!
            noMaintenancePlan["maintenance_info"] = ["version": "1.0.0"]
            #expect(try await osb.send(.put, path, body: .object(noMaintenancePlan))["error"] == "MaintenanceInfoConflict")
            // Nothing was created: the delete is 410, every read 404
            let delete = try await osb.send(.delete, path + "?service_id=\(F.sqlite)&plan_id=\(F.small)")
            #expect(delete.status == .gone)
            #expect(delete.json == .emptyObject)
            #expect(try await osb.send(.delete, path + "?service_id=\(F.sqlite)&plan_id=\(F.small)").status == .gone)
            #expect(try await osb.send(.get, path + "/last_operation").status == .notFound)
            #expect(try await osb.send(.get, path).status == .notFound)
            #expect(try await handle.broker.instances().items.isEmpty)
        }
    }

    @Test func p4P8P10SynchronousProvisionIsIdempotentAndConflictsOnDifferences() async throws {
        try await F.withServer { osb, _ in
            let path = "service_instances/sync-1"
            let created = try await osb.send(.put, path, body: F.provision(parameters: ["size": 5]))
            #expect(created.status == .created)
            #expect(created.json == .emptyObject)
            // Identical again, with or without accepts_incomplete, and with osb-checker's empty maintenance_info
            #expect(try await osb.send(.put, path, body: F.provision(parameters: ["size": 5])).status == .ok)
            #expect(try await osb.send(.put, path + "?accepts_incomplete=true", body: F.provision(parameters: ["size": 5])).status == .ok)
            var emptyMaintenance = F.provision(parameters: ["size": 5]).objectValue!
            emptyMaintenance["maintenance_info"] = .emptyObject
            #expect(try await osb.send(.put, path, body: .object(emptyMaintenance)).status == .ok)
            // Anything different is 409
            for different in [
                F.provision(plan: F.rotating, parameters: ["size": 5]), F.provision(parameters: ["size": 6]),
                F.provision(space: "space-2", parameters: ["size": 5]), F.provision(org: "org-2", parameters: ["size": 5]),
            ] {
                let reply = try await osb.send(.put, path, body: different)
                #expect(reply.status == .conflict)
                #expect(reply.json == ["description": "service instance 'sync-1' already exists with different attributes"])
            }
            let fetched = try await osb.send(.get, path + "?service_id=\(F.sqlite)&plan_id=\(F.small)")
            #expect(fetched.status == .ok)
            #expect(fetched.json == ["service_id": .string(F.sqlite), "plan_id": .string(F.small), "parameters": ["size": 5], "maintenance_info": ["version": "1.1.0"]])
            let lastOperation = try await osb.send(.get, path + "/last_operation")
            #expect(lastOperation.json == ["state": "succeeded"])
            #expect(lastOperation.headers[.retryAfter] == nil)
        }
    }

    @Test func p5P9L2AsynchronousProvisionIsPolledToTheEnd() async throws {
        try await F.withServer { osb, _ in
            let path = "service_instances/async-1"
            let accepted = try await osb.send(.put, path + "?accepts_incomplete=true", body: F.provision(plan: F.large))
            #expect(accepted.status == .accepted)
            let operation = try #require(accepted["operation"]?.stringValue)
            // Identical while running: 202 with the same operation; reads say not found yet
            let again = try await osb.send(.put, path + "?accepts_incomplete=true", body: F.provision(plan: F.large))
            #expect(again.status == .accepted)
            #expect(again.json == ["operation": .string(operation)])
            #expect(try await osb.send(.get, path).status == .notFound)
            let running = try await osb.send(.get, path + "/last_operation?operation=\(operation)&service_id=\(F.sqlite)&plan_id=\(F.large)")
            #expect(running.status == .ok)
            #expect(running.json == ["state": "in progress"])
            #expect(running.headers[.retryAfter] == "5")
            let done = try await osb.poll(path, operation: operation)
            #expect(done.json == ["state": "succeeded"])
            // Completed operations keep answering (L9), also without the operation param (L10)
            #expect(try await osb.send(.get, path + "/last_operation").json == ["state": "succeeded"])
            #expect(try await osb.send(.get, path + "/last_operation?operation=provision").json == ["state": "succeeded"])
            #expect(try await osb.send(.put, path + "?accepts_incomplete=true", body: F.provision(plan: F.large)).status == .ok)
        }
    }

    @Test func uUpdateChangesPlanAsynchronouslyAndRefusesConcurrentChanges() async throws {
        try await F.withServer { osb, _ in
            let path = "service_instances/upd-1"
            #expect(try await osb.send(.put, path, body: F.provision()).status == .created)
            // U1: service_id is required; an unknown plan is 400; an unknown instance 404
            #expect(try await osb.send(.patch, path, body: ["plan_id": .string(F.large)]).status == .badRequest)
            #expect(try await osb.send(.patch, path, body: ["service_id": .string(F.sqlite), "plan_id": "nope"]).status == .badRequest)
            let unknown = try await osb.send(.patch, "service_instances/nobody", body: ["service_id": .string(F.sqlite)])
            #expect(unknown.status == .notFound)
            // U6: moving to the asynchronous plan needs accepts_incomplete
            let change: JSONValue = ["service_id": .string(F.sqlite), "plan_id": .string(F.large), "previous_values": ["plan_id": .string(F.small)]]
            let refused = try await osb.send(.patch, path, body: change)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.json == (try F.fixture("async-required")))
            let accepted = try await osb.send(.patch, path + "?accepts_incomplete=true", body: change)
            #expect(accepted.status == .accepted)
            let operation = try #require(accepted["operation"]?.stringValue)
            // U5: the same PATCH again returns the running operation; another change is a ConcurrencyError (I5)
            #expect(try await osb.send(.patch, path + "?accepts_incomplete=true", body: change).json == ["operation": .string(operation)])
            let other = try await osb.send(.patch, path + "?accepts_incomplete=true", body: ["service_id": .string(F.sqlite), "parameters": ["size": 2]])
            #expect(other.status == .unprocessableContent)
            #expect(other.json == (try F.fixture("concurrency-error")))
            // F4: fetching an instance being updated is a ConcurrencyError too
            #expect(try await osb.send(.get, path).json == (try F.fixture("concurrency-error")))
            #expect(try await osb.poll(path, operation: operation).json == ["state": "succeeded"])
            #expect(try await osb.send(.get, path)["plan_id"] == .string(F.large))
        }
    }

    @Test func u3APlanThatCannotChangeIsRefusedWithUpdateRepeatableFalse() async throws {
        try await F.withServer { osb, _ in
            let path = "service_instances/static-1"
            #expect(try await osb.send(.put, path, body: F.provision(service: F.staticAPI, plan: F.standard)).status == .created)
            let reply = try await osb.send(.patch, path, body: ["service_id": .string(F.staticAPI), "plan_id": .string(F.premium)])
            #expect(reply.status == .unprocessableContent)
            #expect(
                reply.json == [
                    "description": "the plan of offering 'static-api' cannot be changed from 'standard' to 'premium'", "update_repeatable": false,
                ])
            // A no-op update answers 200 {}
            #expect(try await osb.send(.patch, path, body: ["service_id": .string(F.staticAPI)]).json == .emptyObject)
        }
    }

    @Test func dSynchronousDeprovisionThenGone() async throws {
        try await F.withServer { osb, _ in
            let path = "service_instances/del-1"
            #expect(try await osb.send(.put, path, body: F.provision()).status == .created)
            #expect(try await osb.send(.delete, path + "?service_id=\(F.sqlite)").status == .badRequest)
            #expect(try await osb.send(.delete, path + "?plan_id=\(F.small)&service_id=").status == .badRequest)
            let deleted = try await osb.send(.delete, path + "?service_id=\(F.sqlite)&plan_id=\(F.small)")
            #expect(deleted.status == .ok)
            #expect(deleted.json == .emptyObject)
            #expect(try await osb.send(.delete, path + "?service_id=\(F.sqlite)&plan_id=\(F.small)").status == .gone)
            #expect(try await osb.send(.get, path).status == .notFound)
        }
    }

    @Test(arguments: [true, false])
    func l5AsynchronousDeprovisionEndsIn410OrSucceededAsConfigured(gone: Bool) async throws {
        try await F.withServer(osb: ["last_operation_after_delete": gone ? "gone" : "succeeded"]) { osb, _ in
            let path = "service_instances/adel-1"
            _ = try await osb.send(.put, path + "?accepts_incomplete=true", body: F.provision(plan: F.large))
            _ = try await osb.poll(path)
            let query = "?service_id=\(F.sqlite)&plan_id=\(F.large)"
            #expect(try await osb.send(.delete, path + query).json == (try F.fixture("async-required")))
            let accepted = try await osb.send(.delete, path + query + "&accepts_incomplete=true")
            #expect(accepted.status == .accepted)
            let operation = try #require(accepted["operation"]?.stringValue)
            // D3: a re-sent DELETE while running is 202, never 200
            #expect(try await osb.send(.delete, path + query + "&accepts_incomplete=true").status == .accepted)
            let done = try await osb.poll(path, operation: operation)
            if gone {
                #expect(done.status == .gone)
                #expect(done.json == .emptyObject)
            } else {
                #expect(done.status == .ok)
                #expect(done.json == ["state": "succeeded"])
            }
            #expect(try await osb.send(.delete, path + query + "&accepts_incomplete=true").status == .gone)
        }
    }

    @Test func oDeleteDuringAnAsynchronousProvisionWinsAndLeavesNothingBehind() async throws {
        try await F.withServer { osb, handle in
            let path = "service_instances/orphan-1"
            let accepted = try await osb.send(.put, path + "?accepts_incomplete=true", body: F.provision(plan: F.large))
            let provision = try #require(accepted["operation"]?.stringValue)
            // The platform timed out: its orphan-mitigation DELETE carries no originating identity
            let delete = try await osb.send(.delete, path + "?service_id=\(F.sqlite)&plan_id=\(F.large)&accepts_incomplete=true")
            #expect(delete.status == .accepted)
            let deprovision = try #require(delete["operation"]?.stringValue)
            #expect(deprovision != provision)
            #expect(try await osb.poll(path, operation: deprovision).status == .gone)
            // D7: the provision reports failed; nothing is left on the backend
            let provisionState = try await osb.send(.get, path + "/last_operation?operation=\(provision)")
            #expect(provisionState.json == ["state": "failed", "description": "superseded by a deprovision request"])
            let file = handle.configuration.dataDirectory.appendingPathComponent("providers/sqlite-local/orphan-1.sqlite").path
            #expect(!FileManager.default.fileExists(atPath: file))
            #expect(try await handle.broker.instance(.id("orphan-1"))?.instance.state == .deleted)
        }
    }

    @Test func instancesOfOtherTenantsAreInvisibleHere() async throws {
        try await F.withServer { osb, handle in
            _ = try await handle.broker.provision(
                ProvisionCommand(
                    instanceID: "foreign-1", offering: "sqlite", plan: "small", tenant: "beta", acceptsIncomplete: false,
                    origin: RequestOrigin(protocolName: "registry")))
            #expect(try await osb.send(.get, "service_instances/foreign-1").status == .notFound)
            #expect(try await osb.send(.get, "service_instances/foreign-1/last_operation").status == .notFound)
            #expect(try await osb.send(.delete, "service_instances/foreign-1?service_id=\(F.sqlite)&plan_id=\(F.small)").status == .gone)
            #expect(try await handle.broker.instance(.id("foreign-1"))?.instance.state == .ready)
        }
    }
}

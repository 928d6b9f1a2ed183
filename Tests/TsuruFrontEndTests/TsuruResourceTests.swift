import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport
import TsuruFrontEnd

@Suite("tsuru: routing, auth, plans, create, status, info, update, delete")
struct TsuruResourceTests {
    @Test func t1T2RoutingAndAuthenticationComeFirst() async throws {
        try await TsuruFixture.withServer { tsuru, _ in
            var unknown = tsuru
            unknown.offering = "mysql"
            let missing = try await unknown.send(.get, "/plans")
            #expect(missing.status == .notFound)
            #expect(missing.text == "no service named 'mysql' here")
            for (user, password) in [("sqlite", "wrong"), ("static-api", GatewayFixture.password), ("someone", GatewayFixture.password)] {
                var client = tsuru
                client.username = user
                client.password = password
                let denied = try await client.send(.get, "/nobody/status")
                #expect(denied.status == .unauthorized)
                #expect(denied.headers[.wwwAuthenticate] == "Basic realm=\"polybroker\"")
                #expect(denied.contentType == "text/plain; charset=utf-8")
                #expect(denied.text == "authentication failed for service 'sqlite'")
            }
            var operator_ = tsuru
            operator_.username = "polybroker"
            #expect(try await operator_.send(.get, "/plans").status == .ok)
            let wrongMethod = try await tsuru.send(.patch, "/plans")
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.contentType == "text/plain; charset=utf-8")
            let unknownPath = try await tsuru.send(.get, "/x/y/z/w")
            #expect(unknownPath.status == .notFound)
            #expect(!unknownPath.text.isEmpty && !unknownPath.text.hasSuffix("\n"))
        }
    }

    @Test func t6PlansAreTheOfferingsPlans() async throws {
        try await TsuruFixture.withServer { tsuru, _ in
            let reply = try await tsuru.send(.get, "/plans")
            #expect(reply.status == .ok)
            #expect(reply.contentType == "application/json")
            #expect(
                reply.json == [
                    ["name": "small", "description": "created at once"], ["name": "large", "description": "provisioned asynchronously"],
                    ["name": "sized", "description": "with a size"],
                ])
        }
    }

    @Test func t7T10T11T12SynchronousCreateIsReadyAtOnce() async throws {
        try await TsuruFixture.withServer { tsuru, handle in
            let created = try await tsuru.create("mydb", extra: [("tags", "a"), ("tags", "b"), ("tag", "legacy"), ("description", "my database")])
            #expect(created.status == .created)
            #expect(created.text.isEmpty)
            let status = try await tsuru.send(.get, "/mydb/status")
            #expect(status.status == .noContent)
            #expect(status.text.isEmpty)
            let instance = try #require(try await handle.broker.instance(.name("mydb"))?.instance)
            #expect(instance.planID == ConfigLoader.stableID("plan:sqlite/small"))  // T10: the first plan
            #expect(instance.tags == ["a", "b", "legacy"])
            #expect(instance.tenant == handle.platformTenant)
            #expect(instance.context["team"] == "myteam")
            #expect(instance.createdBy == "tsuru")
            let info = try await tsuru.send(.get, "/mydb")
            #expect(info.status == .ok)
            #expect(
                info.json == [
                    ["label": "ID", "value": .string(instance.id)], ["label": "Plan", "value": "small"], ["label": "State", "value": "ready"],
                    ["label": "Team", "value": "myteam"], ["label": "Description", "value": "my database"],
                ])
            #expect(try await tsuru.send(.get, "/nobody").status == .notFound)
            #expect(try await tsuru.send(.get, "/nobody/status").status == .notFound)
        }
    }

    @Test func t7T11AsynchronousPlanAnswers201ThenStatusGoes202To204() async throws {
        try await TsuruFixture.withServer { tsuru, _ in
            #expect(try await tsuru.create("bigdb", plan: "large").status == .created)
            let pending = try await tsuru.send(.get, "/bigdb/status")
            #expect(pending.status == .accepted)
            #expect(try await tsuru.waitReady("bigdb").status == .noContent)
        }
    }

    @Test func t8BadCreateInputIs400AndCreatesNothing() async throws {
        try await TsuruFixture.withServer { tsuru, handle in
            let cases: [([(String, String)], String)] = [
                ([("team", "t")], "name is required"),
                ([("name", ""), ("team", "t")], "name is required"),
                ([("name", "1abc"), ("team", "t")], "invalid name '1abc': use 2 to 128 letters, digits, '-' and '_', starting with a letter"),
                ([("name", "a"), ("team", "t")], "invalid name 'a': use 2 to 128 letters, digits, '-' and '_', starting with a letter"),
                ([("name", "has.dot"), ("team", "t")], "invalid name 'has.dot': use 2 to 128 letters, digits, '-' and '_', starting with a letter"),
                ([("name", "x" + String(repeating: "y", count: 128)), ("team", "t")], "invalid name '\("x" + String(repeating: "y", count: 128))': use 2 to 128 letters, digits, '-' and '_', starting with a letter"),
                ([("name", "plans"), ("team", "t")], "the name 'plans' is reserved"),
                ([("name", "okname"), ("team", "t"), ("plan", "huge")], "unknown plan 'huge' for service 'sqlite'"),
                ([("name", "okname")], "team is required"),
                ([("name", "okname"), ("team", "t"), ("plan", "sized"), ("parameters.size", "11")], "invalid parameters: parameter 'size' must be at most 10"),
            ]
            for (fields, message) in cases {
                let reply = try await tsuru.send(.post, "", form: fields)
                #expect(reply.status == .badRequest, "\(fields)")
                #expect(reply.text == message)
                #expect(reply.contentType == "text/plain; charset=utf-8")
            }
            #expect(try await handle.broker.instances().items.isEmpty)
            // Any valid tsuru name works, and form values are read by the plan schema's types
            let odd = "My_DB-" + String(repeating: "x", count: 100)
            #expect(try await tsuru.create(odd, plan: "sized", extra: [("parameters.size", "3"), ("parameters.ha", "true")]).status == .created)
            #expect(try await tsuru.send(.get, "/\(odd)/status").status == .noContent)
            #expect(try await handle.broker.instance(.name(odd))?.instance.parameters == ["size": 3, "ha": true])
        }
    }

    @Test func t9T22ANameIsTakenWhateverTheAttributesAndOfferingsSeeOnlyTheirOwn() async throws {
        try await TsuruFixture.withServer { tsuru, _ in
            #expect(try await tsuru.create("shared").status == .created)
            let again = try await tsuru.create("shared")
            #expect(again.status == .conflict)
            #expect(again.text == "service instance 'shared' already exists")
            #expect(try await tsuru.create("shared", plan: "large", team: "other").status == .conflict)
            var other = tsuru
            other.offering = "static-api"
            #expect(try await other.create("shared").status == .conflict)
            #expect(try await other.send(.get, "/shared/status").status == .notFound)
            #expect(try await other.send(.post, "/shared/bind-app", form: [("app-name", "web")]).status == .notFound)
        }
    }

    @Test func t13UpdateReadsTagsKeepsAnEmptyPlanAndNeverSays404ForABadPlan() async throws {
        try await TsuruFixture.withServer { tsuru, handle in
            _ = try await tsuru.create("upd")
            let fields: [(String, String)] = [("description", ""), ("plan", ""), ("team", "newteam"), ("tag", "x"), ("user", "u"), ("eventid", "e")]
            #expect(try await tsuru.send(.put, "/upd", form: fields).status == .ok)
            var instance = try #require(try await handle.broker.instance(.name("upd"))?.instance)
            #expect(instance.planID == ConfigLoader.stableID("plan:sqlite/small"))
            #expect(instance.context["team"] == "newteam")
            #expect(instance.tags == ["x"])
            let badPlan = try await tsuru.send(.put, "/upd", form: [("plan", "huge"), ("team", "newteam")])
            #expect(badPlan.status == .badRequest)
            #expect(badPlan.text == "unknown plan 'huge' for service 'sqlite'")
            #expect(try await tsuru.send(.put, "/ghost", form: [("plan", "small"), ("team", "t")]).status == .notFound)
            #expect(try await tsuru.send(.put, "/upd", json: ["plan": "large", "team": "newteam", "eventID": "e"]).status == .ok)
            #expect(try await tsuru.waitReady("upd").status == .noContent)
            instance = try #require(try await handle.broker.instance(.name("upd"))?.instance)
            #expect(instance.planID == ConfigLoader.stableID("plan:sqlite/large"))
        }
    }

    @Test func t20T21DeleteRemovesBindingsAndFreesTheNameAgain() async throws {
        try await TsuruFixture.withServer { tsuru, handle in
            _ = try await tsuru.create("gone")
            _ = try await tsuru.send(.post, "/gone/bind-app", form: [("app-name", "web")])
            let id = try #require(try await handle.broker.instance(.name("gone"))?.instance.id)
            // Old tsuru sends no body at all
            let deleted = try await tsuru.send(.delete, "/gone", raw: "", contentType: "application/x-www-form-urlencoded")
            #expect(deleted.status == .ok)
            for path in ["/gone/status", "/gone"] { #expect(try await tsuru.send(.get, path).status == .notFound) }
            #expect(try await tsuru.send(.post, "/gone/bind-app", form: [("app-name", "web")]).status == .notFound)
            #expect(try await tsuru.send(.delete, "/gone", form: [("user", "u")]).status == .notFound)
            #expect(try await handle.broker.bindings(BindingFilter(instanceID: id)).items.isEmpty)
            #expect(try await tsuru.create("gone").status == .created)
        }
    }

    @Test func t3BodiesInBothEncodingsAndGarbageIsA400() async throws {
        try await TsuruFixture.withServer { tsuru, handle in
            let json: JSONValue = [
                "name": "jsondb", "team": "t", "plan": "sized", "eventID": "e1", "user": "u", "tags": nil,
                "parameters": ["size": 2, "nested": ["dot.key": true]],
            ]
            #expect(try await tsuru.send(.post, "", json: json).status == .created)
            #expect(try await handle.broker.instance(.name("jsondb"))?.instance.parameters == ["size": 2, "nested": ["dot.key": true]])
            let flattened: [(String, String)] = [("name", "formdb"), ("team", "t"), ("parameters.a\\.b", "1"), ("parameters.list.0", "x"), ("parameters.list.1", "y"), ("parameters.p.q", "z")]
            #expect(try await tsuru.send(.post, "", form: flattened).status == .created)
            #expect(try await handle.broker.instance(.name("formdb"))?.instance.parameters == ["a.b": "1", "list": ["x", "y"], "p": ["q": "z"]])
            let garbage: [(String?, String, String)] = [
                ("application/json", "{not json", "the request body is not valid JSON"),
                ("application/json", "[1]", "the request body must be a JSON object"),
                ("text/plain", "name=x", "unsupported Content-Type 'text/plain': send application/x-www-form-urlencoded or application/json"),
                ("application/x-www-form-urlencoded", "name=%zz&team=t", "the request body is not a valid form"),
                ("application/x-www-form-urlencoded; charset=utf-8", "name=a1&parameters.x=1&parameters.x.y=2&team=t", "parameter 'x.y' is given both as a value and as an object"),
            ]
            for (type, body, message) in garbage {
                let reply = try await tsuru.send(.post, "", raw: body, contentType: type)
                #expect(reply.status == .badRequest)
                #expect(reply.text == message)
            }
            let huge = try await tsuru.send(.get, "/" + String(repeating: "n", count: 4000) + "/status")
            #expect(huge.status == .notFound)
        }
    }

    @Test func t4EventDataIsRecordedFromHeadersOrBody() async throws {
        try await TsuruFixture.withServer { tsuru, handle in
            let headers: HTTPFields = [
                HTTPField.Name("X-Tsuru-User")!: "alice@example.com", HTTPField.Name("X-Tsuru-Eventid")!: "abc123",
                HTTPField.Name("X-Request-Id")!: "req-77",
            ]
            #expect(try await tsuru.send(.post, "", form: [("name", "evdb"), ("team", "t")], headers: headers).status == .created)
            let instance = try #require(try await handle.broker.instance(.name("evdb"))?.instance)
            let operation = try #require(try await handle.broker.lastOperation(instance: .id(instance.id))?.1)
            #expect(operation.origin == RequestOrigin(protocolName: "tsuru", requestID: "req-77", identity: ["user": "alice@example.com"], platformEventID: "abc123"))
            #expect(instance.user == "alice@example.com")
            let event = try #require(try await handle.broker.events(EventFilter(subject: instance.id)).items.first)
            #expect(event.protocolName == "tsuru")
        }
    }

    @Test func t25OpenAPIAndT26Manifest() async throws {
        try await TsuruFixture.withServer { tsuru, _ in
            let response = try await tsuru.client.execute(uri: "/tsuru/openapi.yaml", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body).hasPrefix("openapi: 3"))
        }
        #expect(
            TsuruFrontEnd.manifest(service: "sqlite", password: "p\"w", endpoint: "http://h:8080/tsuru/sqlite", team: "ops") == """
                id: sqlite
                password: "p\\"w"
                team: "ops"
                endpoint:
                  production: "http://h:8080/tsuru/sqlite"
                """)
    }
}

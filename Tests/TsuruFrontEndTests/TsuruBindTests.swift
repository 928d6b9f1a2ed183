import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

@Suite("tsuru: bind-app, unit binds, unbinds, concurrency, interop")
struct TsuruBindTests {
    @Test func t14T15BindAppReturnsTheEnvironmentAndARepeatReturnsTheSameObject() async throws {
        try await TsuruFixture.withServer { tsuru, handle in
            _ = try await tsuru.create("mydb")
            let id = try #require(try await handle.broker.instance(.name("mydb"))?.instance.id)
            let file = handle.configuration.dataDirectory.appendingPathComponent("providers/sqlite-local/\(id).sqlite").path
            let bound = try await tsuru.send(.post, "/mydb/bind-app", form: [("app-name", "web"), ("app-host", "web.example.com"), ("app-hosts", "web.example.com")])
            #expect(bound.status == .created)
            #expect(bound.contentType == "application/json")
            #expect(bound.json == ["POLYBROKER_SQLITE_URI": .string("sqlite://" + file), "POLYBROKER_SQLITE_PATH": .string(file)])
            let again = try await tsuru.send(.post, "/mydb/bind-app", form: [("app-name", "web")])
            #expect(again.status == .ok)
            #expect(again.json == bound.json)
            // JSON-encoded services: appName, no appHost
            let json = try await tsuru.send(.post, "/mydb/bind-app", json: ["appName": "api", "appHosts": ["api.example.com"], "eventID": "e", "user": "u"])
            #expect(json.status == .created)
            #expect(json.json == bound.json)
            // tsuru before 2017-12 names the app by its host only
            let hostOnly = try await tsuru.send(.post, "/mydb/bind-app", form: [("app-host", "legacy.example.com")])
            #expect(hostOnly.status == .created)
            let neither = try await tsuru.send(.post, "/mydb/bind-app", form: [("user", "u")])
            #expect(neither.status == .badRequest)
            #expect(neither.text == "app-name or app-host is required")
            #expect(try await handle.broker.bindings(BindingFilter(instanceID: id)).items.compactMap(\.appKey).sorted() == ["api", "legacy.example.com", "web"])
        }
    }

    @Test func t14CredentialNamesCanBeRenamedAndValuesAreStrings() async throws {
        try await TsuruFixture.withServer { tsuru, _ in
            var api = tsuru
            api.offering = "static-api"
            _ = try await api.create("remote")
            let bound = try await api.send(.post, "/remote/bind-app", form: [("app-name", "web")])
            #expect(bound.json == ["POLYBROKER_STATIC_API_URI": "https://api.example.com/v1", "MY_API_KEY": "k-1"])
        }
    }

    @Test func t16UnknownOrBusyInstancesAreRefused() async throws {
        try await TsuruFixture.withServer { tsuru, _ in
            for path in ["/ghost/bind-app", "/ghost/bind"] {
                let reply = try await tsuru.send(.post, path, form: [("app-name", "web")])
                #expect(reply.status == .notFound)
                #expect(reply.text == "service instance 'ghost' not found")
            }
            _ = try await tsuru.create("slow", plan: "large")
            let busy = try await tsuru.send(.post, "/slow/bind-app", form: [("app-name", "web")])
            #expect(busy.status == .preconditionFailed)
            #expect(busy.text == "service instance 'slow' is being provisioned; try again when it is done")
            #expect(try await tsuru.send(.put, "/slow", form: [("plan", "small"), ("team", "t")]).status == .preconditionFailed)
            _ = try await tsuru.waitReady("slow")
            #expect(try await tsuru.send(.post, "/slow/bind-app", form: [("app-name", "web")]).status == .created)
        }
    }

    @Test func t17T18UnitBindsAreRecordedAndUnitUnbindsNeverFail() async throws {
        try await TsuruFixture.withServer { tsuru, handle in
            _ = try await tsuru.create("units")
            let unit = [("app-name", "web"), ("app-hosts", "web.example.com"), ("app-host", "web.example.com")]
            for host in ["10.0.0.1", "10.0.0.2", "10.0.0.1"] {
                let reply = try await tsuru.send(.post, "/units/bind", form: unit + [("unit-host", host)])
                #expect(reply.status == .created)
                #expect(reply.json?["POLYBROKER_SQLITE_URI"] != nil)
            }
            let id = try #require(try await handle.broker.instance(.name("units"))?.instance.id)
            var binding = try #require(try await handle.broker.bindings(BindingFilter(instanceID: id)).items.first)
            #expect(binding.units == ["10.0.0.1", "10.0.0.2"])
            // The unit unbind carries no app-name: found by host; a unit never seen is still 200
            #expect(try await tsuru.send(.delete, "/units/bind", form: [("app-host", "web.example.com"), ("unit-host", "10.0.0.1")]).status == .ok)
            #expect(try await tsuru.send(.delete, "/units/bind", form: [("app-host", "web.example.com"), ("unit-host", "10.9.9.9")]).status == .ok)
            #expect(try await tsuru.send(.delete, "/units/bind", form: [("unit-host", "10.0.0.2")]).status == .ok)
            binding = try #require(try await handle.broker.binding(id: binding.id))
            #expect(binding.units.isEmpty)
            #expect(binding.state == .bound)
            let noUnit = try await tsuru.send(.delete, "/units/bind", form: [("app-host", "web.example.com")])
            #expect(noUnit.status == .badRequest)
            #expect(noUnit.text == "unit-host is required")
            #expect(try await tsuru.send(.delete, "/ghost/bind", form: [("unit-host", "10.0.0.1")]).status == .notFound)
        }
    }

    @Test func t19UnbindAppIsIdempotent() async throws {
        try await TsuruFixture.withServer { tsuru, handle in
            _ = try await tsuru.create("unb")
            _ = try await tsuru.send(.post, "/unb/bind-app", form: [("app-name", "web")])
            #expect(try await tsuru.send(.delete, "/unb/bind-app", json: ["appName": "web", "appHosts": nil, "eventID": "e"]).status == .ok)
            #expect(try await tsuru.send(.delete, "/unb/bind-app", form: [("app-name", "web")]).status == .ok)
            #expect(try await tsuru.send(.delete, "/unb/bind-app", form: [("app-name", "never-bound")]).status == .ok)
            #expect(try await tsuru.send(.delete, "/ghost/bind-app", form: [("app-name", "web")]).status == .notFound)
            let id = try #require(try await handle.broker.instance(.name("unb"))?.instance.id)
            #expect(try await handle.broker.bindings(BindingFilter(instanceID: id)).items.isEmpty)
        }
    }

    @Test func t23ParallelCallsBehaveAsTsuruNeeds() async throws {
        try await TsuruFixture.withServer { tsuru, handle in
            // Identical creates in parallel: one 201, the rest 409, one instance
            let creates = await withTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<6 { group.addTask { (try? await tsuru.create("race").status) ?? .internalServerError } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(creates.filter { $0 == .created }.count == 1)
            #expect(creates.allSatisfy { $0 == .created || $0 == .conflict || $0 == .preconditionFailed })
            // Bind-apps of one app in parallel: one 201, the rest 200, one object
            let binds = await withTaskGroup(of: TsuruReply?.self) { group in
                for _ in 0..<6 { group.addTask { try? await tsuru.send(.post, "/race/bind-app", form: [("app-name", "web")]) } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(binds.compactMap { $0 }.filter { $0.status == .created }.count == 1)
            #expect(binds.compactMap { $0 }.filter { $0.status == .ok }.count == 5)
            #expect(Set(binds.compactMap { $0?.json }).count == 1)
            // Unit binds of all units of an app at once (older tsuru): all 201
            let units = await withTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        (try? await tsuru.send(.post, "/race/bind", form: [("app-name", "api"), ("unit-host", "10.1.0.\(index)")]).status) ?? .internalServerError
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(units.allSatisfy { $0 == .created })
            let id = try #require(try await handle.broker.instance(.name("race"))?.instance.id)
            let api = try #require(try await handle.broker.bindings(BindingFilter(instanceID: id)).items.first { $0.appKey == "api" })
            #expect(api.units.count == 8)
        }
    }

    @Test func anInstanceCreatedHereIsBoundThroughCFByItsCanonicalID() async throws {
        try await TsuruFixture.withServer { tsuru, handle in
            _ = try await tsuru.create("shared-db")
            let tsuruVariables = try await tsuru.send(.post, "/shared-db/bind-app", form: [("app-name", "web")]).json
            let id = try #require(try await handle.broker.instance(.name("shared-db"))?.instance.id)
            var headers = HTTPFields()
            headers[.authorization] = "Basic " + Data("polybroker:\(GatewayFixture.password)".utf8).base64EncodedString()
            headers[HTTPField.Name("X-Broker-API-Version")!] = "2.17"
            let body: JSONValue = [
                "service_id": .string(ConfigLoader.stableID("offering:sqlite")), "plan_id": .string(ConfigLoader.stableID("plan:sqlite/small")),
                "app_guid": "cf-app",
            ]
            let response = try await tsuru.client.execute(
                uri: "/cf/v2/service_instances/\(id)/service_bindings/cf-binding", method: .put, headers: headers,
                body: ByteBuffer(string: body.canonicalText()))
            #expect(response.status == .created)
            let credentials = JSONValue.parse(Data(response.body.readableBytesView))?["credentials"]
            #expect(credentials?["uri"] == tsuruVariables?["POLYBROKER_SQLITE_URI"])
        }
    }
}

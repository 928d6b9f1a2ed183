import BrokerCore
import Foundation
import GRDB
import Gateway
import HTTPTypes
import LedgerSQLite
import Operator
import Testing
import TestSupport

/// A tsuru team's instances move to Cloud Foundry: listed with their canonical ids and the calls
/// that adopt them, bound through /cf, unbound from tsuru, and never provisioned again.
@Suite("Moving between platforms") struct MigrationScenarioTests {
    @Test func aTsuruTeamsInstancesMoveToCloudFoundryWithoutBeingProvisionedAgain() async throws {
        let directory = TemporaryDirectory("move")
        let configuration = try OperatorFixture.configuration(in: directory)
        try await GatewayFixture.withLiveGateway(configuration) { client, handle in
            let platforms = Platforms(client: client)
            // Given team T's instances on tsuru, bound to its apps, with data written through tsuru's credentials
            var files: [String: (path: String, inode: UInt64)] = [:]
            for name in ["orders-db", "users-db"] {
                #expect(try await platforms.tsuru(.post, "", form: ["name": name, "team": "T", "plan": "small"]).status == .created)
                let environment = try await platforms.tsuru(.post, "/\(name)/bind-app", form: ["app-name": "shop"])
                #expect(environment.status == .created)
                let path = try #require(environment["POLYBROKER_SQLITE_PATH"]?.stringValue)
                let queue = try DatabaseQueue(path: path)
                try await queue.write { db in
                    try db.execute(sql: "CREATE TABLE note (text TEXT NOT NULL)")
                    try db.execute(sql: "INSERT INTO note VALUES (?)", arguments: ["written through tsuru into \(name)"])
                }
                try queue.close()
                files[name] = (path, try Self.inode(path))
            }
            #expect(try await platforms.tsuru(.post, "/orders-db/bind-app", form: ["app-name": "admin"]).status == .created)
            #expect(try await platforms.tsuru(.post, "", form: ["name": "other-team-db", "team": "U"]).status == .created)
            #expect(try await platforms.apcera(.post, "/services", ["name": "team.cache", "params": ["offering": "sqlite"]]).status == .ok)

            // When the operator lists team T's instances (reading the running server's ledger) and plans the move
            let ledger = try LedgerAccess.openRedacted(configuration)
            let entries = try await OperatorViews.instances(ledger, catalog: configuration.catalog, .init(team: "T"))
            #expect(entries.map(\.instance.name) == ["orders-db", "users-db"])
            let table = OperatorViews.table(entries)
            for entry in entries { #expect(table.contains(entry.instance.id)) }
            let plan = MovePlanner.plan(entries, to: .cf, configuration: configuration, baseURL: "http://polybroker.example:8080")
            let text = plan.text(username: configuration.username)
            #expect(text.contains("cf create-service-broker polybroker polybroker \"$POLYBROKER_PASSWORD\" http://polybroker.example:8080/cf"))
            #expect(text.contains("tsuru service-instance-unbind sqlite orders-db -a admin"))
            #expect(!text.contains(GatewayFixture.password))
            #expect(plan.instances.allSatisfy { $0.nameProblem == nil })
            let json = try #require(JSONValue.parse(plan.json.canonicalText()))
            #expect(json["instances"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == entries.map(\.instance.id))

            // And carries it out: adopt through /cf, then remove the tsuru bindings
            var boundPaths: [String: String] = [:]
            for move in plan.instances {
                #expect(move.adopt.first?.path == "/cf/v2/service_instances/\(move.id)")
                #expect(move.release.count == (move.name == "orders-db" ? 2 : 1))
                for (index, call) in move.adopt.enumerated() {
                    let answer = try await Self.perform(call, platforms, ["$BINDING_ID": "cf-\(move.name)-\(index)", "$CF_APP_GUID": "guid-\(index)"])
                    #expect(answer.status.code == call.expect, "\(call.method) \(call.path): \(answer.text)")
                    if call.method == "PUT" { boundPaths[move.name] = answer["credentials"]?["path"]?.stringValue }
                }
                for call in move.release {
                    let answer = try await Self.perform(call, platforms, [:])
                    #expect(answer.status.code == call.expect, "\(call.method) \(call.path): \(answer.text)")
                }
            }

            // Then CF's credentials reach the very files tsuru's did, data included, and tsuru holds no binding
            for (name, file) in files {
                #expect(boundPaths[name] == file.path)
                #expect(try Self.inode(file.path) == file.inode)
                let queue = try DatabaseQueue(path: file.path)
                let notes = try await queue.read { db in try String.fetchAll(db, sql: "SELECT text FROM note") }
                try queue.close()
                #expect(notes == ["written through tsuru into \(name)"])
            }
            for entry in entries {
                let bindings = try await OperatorViews.bindings(ledger, .init(instance: entry.instance.id))
                #expect(!bindings.isEmpty && bindings.allSatisfy { $0.binding.createdBy == "cf" })
                #expect(try await platforms.tsuru(.get, "/\(entry.instance.name)/status").status == .noContent)
            }
            // Nothing was provisioned twice: one instance.create and one provision operation each
            let records = try await OperatorFixture.export(configuration).split(separator: "\n").compactMap { JSONValue.parse(String($0)) }
            for entry in entries {
                let creates = records.filter { $0["record"] == "event" && $0["type"] == "instance.create" && $0["subject"]?.stringValue == entry.instance.id }
                #expect(creates.count == 1 && creates.first?["protocol"] == "tsuru")
                let provisions = records.filter { $0["record"] == "operation" && $0["kind"] == "provision" && $0["instanceID"]?.stringValue == entry.instance.id }
                #expect(provisions.count == 1)
                let unbinds = records.filter { $0["record"] == "event" && $0["type"] == "binding.delete" && $0["protocol"] == "tsuru" && $0["payload"]?["instance_id"]?.stringValue == entry.instance.id }
                #expect(unbinds.count == (entry.instance.name == "orders-db" ? 2 : 1))
            }

            // An instance whose name tsuru cannot carry is reported with the command that renames it
            let platform = try await OperatorViews.instances(ledger, catalog: configuration.catalog, .init(tenant: handle.platformTenant))
            let toTsuru = MovePlanner.plan(platform, to: .tsuru, configuration: configuration)
            let cache = try #require(toTsuru.instances.first { $0.name == "team.cache" })
            #expect(cache.nameProblem?.contains("'team.cache' has '.'") == true)
            #expect(cache.rename == "polybroker rename-instance 'team.cache' 'team-cache'" && cache.adopt.isEmpty)
            #expect(toTsuru.text(username: "polybroker").contains("# NOT CARRYABLE: tsuru names are"))
            let reported = toTsuru.json["instances"]?.arrayValue?.first { $0["name"] == "team.cache" }
            #expect(reported?["carryable"] == false && reported?["rename_note"]?.stringValue == MovePlanner.renameNote)
            // Renamed, it can move: the same id, and tsuru reaches it by the new name
            try await handle.broker.rename(.name("team.cache"), to: "team-cache", origin: .system)
            let renamed = try await OperatorViews.instances(ledger, catalog: configuration.catalog, .init(tenant: handle.platformTenant))
            let moved = try #require(MovePlanner.plan(renamed, to: .tsuru, configuration: configuration).instances.first { $0.name == "team-cache" })
            #expect(moved.id == cache.id && moved.nameProblem == nil)
            #expect(toTsuru.instances.first { $0.name == "orders-db" }?.nameProblem == nil)
            #expect(MovePlanner.plan(platform, to: .cf, configuration: configuration).instances.allSatisfy { $0.nameProblem == nil })
            try await ledger.close()
        }
    }

    /// Runs a plan call, filling in its placeholders, with the credentials of its front-end.
    static func perform(_ call: MoveCall, _ platforms: Platforms, _ values: [String: String]) async throws -> Answer {
        func fill(_ text: String) -> String { values.reduce(text) { $0.replacingOccurrences(of: $1.key, with: $1.value) } }
        let body = call.body.flatMap { JSONValue.parse(fill($0.canonicalText())) }
        let method = HTTPRequest.Method(call.method)!
        switch call.frontEnd {
        case "osb":
            return try await platforms.send(method, fill(call.path), json: body, headers: ["X-Broker-API-Version": "2.17"])
        case "tsuru":
            let offering = String(call.path.split(separator: "/")[1])
            return try await platforms.send(
                method, fill(call.path), form: call.form?.mapValues(fill),
                authorization: "Basic " + Data("\(offering):\(GatewayFixture.password)".utf8).base64EncodedString())
        default:
            return try await platforms.send(method, fill(call.path), json: body)
        }
    }

    static func inode(_ path: String) throws -> UInt64 {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require((attributes[.systemFileNumber] as? NSNumber)?.uint64Value)
    }
}

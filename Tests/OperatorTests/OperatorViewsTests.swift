import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import LedgerSQLite
import Operator
import Testing
import TestSupport

@Suite("Operator views: instances, bindings, providers, events") struct OperatorViewsTests {
    /// Values that must never show in a view.
    static let secrets = ["s3cr3t-key", "api.example.com", "sqlite://", ".sqlite\"", GatewayFixture.password, "acme-token", "beta-token"]

    static func expectNoSecrets(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in secrets {
            #expect(!text.contains(secret), "a view shows \(secret)", sourceLocation: sourceLocation)
        }
    }

    @Test func viewsListWhatEveryFrontEndMadeWhileTheServerRuns() async throws {
        let directory = TemporaryDirectory("views")
        let configuration = try OperatorFixture.configuration(in: directory)
        try await GatewayFixture.withLiveGateway(configuration) { client, handle in
            try await Platforms(client: client).populate()
            await handle.broker.drain(timeout: .seconds(10))
            // The operator reads the ledger of the running server, without its key
            let ledger = try LedgerAccess.openRedacted(configuration)
            let catalog = configuration.catalog

            let all = try await OperatorViews.instances(ledger, catalog: catalog, .init())
            #expect(Set(all.map(\.instance.createdBy)) == ["cf", "tsuru", "apcera", "registry"])
            #expect(all.map(\.instance.name) == all.map(\.instance.name).sorted())
            #expect(!all.contains { $0.instance.id == "cf-gone" })
            let table = OperatorViews.table(all)
            #expect(table.hasPrefix("ID") && table.contains("PROTOCOL") && table.contains("tsuru-db") && table.contains("team=red"))
            #expect(table.contains("org=org-1 space=space-1"))
            Self.expectNoSecrets(table)
            let json = OperatorViews.json(all).prettyText()
            Self.expectNoSecrets(json)
            #expect(JSONValue.parse(json)?.arrayValue?.count == all.count)

            let withDeleted = try await OperatorViews.instances(ledger, catalog: catalog, .init(includeDeleted: true))
            #expect(withDeleted.contains { $0.instance.id == "cf-gone" && $0.instance.state == .deleted })
            let tsuru = try await OperatorViews.instances(ledger, catalog: catalog, .init(protocolName: "tsuru"))
            #expect(tsuru.map(\.instance.name) == ["tsuru-db"] && tsuru.first?.bindings.count == 1)
            #expect(try await OperatorViews.instances(ledger, catalog: catalog, .init(team: "red")).map(\.instance.name) == ["tsuru-db"])
            #expect(try await OperatorViews.instances(ledger, catalog: catalog, .init(tenant: "beta")).map(\.instance.name) == ["beta-db"])
            let staticInstances = try await OperatorViews.instances(ledger, catalog: catalog, .init(offering: "static-api"))
            #expect(staticInstances.map(\.instance.id) == ["cf-api"] && staticInstances.first?.plan == "standard")

            let bindings = try await OperatorViews.bindings(ledger, .init())
            #expect(Set(bindings.map(\.binding.createdBy)) == ["cf", "tsuru", "apcera", "registry"])
            let bindingTable = OperatorViews.table(bindings)
            #expect(bindingTable.contains("shop") && bindingTable.contains("cf-app") && bindingTable.contains("tsuru-db"))
            Self.expectNoSecrets(bindingTable)
            let bindingJSON = OperatorViews.json(bindings).prettyText()
            Self.expectNoSecrets(bindingJSON)
            #expect(!bindingJSON.contains("\"credentials\""))
            let ofTsuruDB = try await OperatorViews.bindings(ledger, .init(instance: "tsuru-db"))
            #expect(ofTsuruDB.map { OperatorViewsTests.app($0) } == ["shop"])
            #expect(try await OperatorViews.bindings(ledger, .init(protocolName: "apcera")).count == 1)
            await #expect(throws: OperatorError.self) { try await OperatorViews.bindings(ledger, .init(instance: "nowhere")) }

            let providers = try await OperatorViews.providers(ledger, .init())
            #expect(Set(providers.map(\.provider.source)) == [.config, .apcera, .registry])
            #expect(providers.first { $0.provider.id == "sqlite-local" }?.instances == 4)
            let providerTable = OperatorViews.table(providers)
            #expect(providerTable.contains("weather") && providerTable.contains("registry"))
            Self.expectNoSecrets(providerTable)
            Self.expectNoSecrets(OperatorViews.json(providers).prettyText())
            #expect(try await OperatorViews.providers(ledger, .init(kind: "static")).map(\.provider.name).contains("weather"))

            let events = try await OperatorViews.events(ledger, .init())
            #expect(Set(events.map(\.protocolName)).isSuperset(of: ["cf", "tsuru", "apcera", "registry"]))
            let tsuruEvents = try await OperatorViews.events(ledger, .init(protocolName: "tsuru"))
            #expect(tsuruEvents.map(\.type) == ["instance.create", "binding.create"])
            let later = try await OperatorViews.events(ledger, .init(after: events[1].sequence, limit: 2))
            #expect(later.map(\.sequence) == Array(events[2...3].map(\.sequence)))
            #expect(try await OperatorViews.events(ledger, .init(type: "instance.delete")).map(\.subject) == ["cf-gone"])
            Self.expectNoSecrets(OperatorViews.table(events))
            Self.expectNoSecrets(OperatorViews.json(events).prettyText())
            try await ledger.close()
        }
    }

    @Test func viewsOfADataFolderWithoutLedgerSayWhere() async throws {
        let directory = TemporaryDirectory("views-none")
        let configuration = try OperatorFixture.configuration(in: directory)
        let error = #expect(throws: OperatorError.self) { try LedgerAccess.openRedacted(configuration) }
        #expect(error?.description.contains("no ledger at \(LedgerAccess.path(configuration))") == true)
        #expect(OperatorViews.table([OperatorViews.InstanceEntry]()) == "no instances")
    }

    static func app(_ entry: OperatorViews.BindingEntry) -> String {
        entry.binding.appKey ?? "-"
    }
}

import BrokerCore
import Foundation
import Logging
import SQLiteProvider
import StaticProvider
import Testing
import TestSupport

/// The plugin contract, one body over every plugin: idempotent provision and deprovision,
/// per-binding credentials, unbind that revokes.
@Suite("Provider contract")
struct ProviderContractTests {
    static let plan = PlanReference(id: "plan-id", name: "small")

    static func provision(_ id: String) -> ProvisionRequest {
        ProvisionRequest(instanceID: id, name: "n-\(id)", offering: "o", plan: plan, parameters: .emptyObject)
    }

    @Test(arguments: ProviderUnderTest.all)
    func provisionTwiceMakesOneResourceAndDeprovisionTwiceLeavesNothing(provider: ProviderUnderTest) async throws {
        try await provider.withPlugin(in: TemporaryDirectory("provider")) { plugin, probe in
            let id = "c-\(UUID().uuidString.lowercased())"
            let first = try await plugin.provision(Self.provision(id))
            let second = try await plugin.provision(Self.provision(id))
            #expect(first == second)
            #expect(await plugin.health() == .healthy)
            try await plugin.deprovision(DeprovisionRequest(instanceID: id, plan: Self.plan, state: first.state))
            let left = try await probe.leftovers(id)
            #expect(left.isEmpty, "left on the backend: \(left)")
            // Already gone is success
            try await plugin.deprovision(DeprovisionRequest(instanceID: id, plan: Self.plan, state: first.state))
            try await plugin.deprovision(DeprovisionRequest(instanceID: "never-made-\(id)", plan: Self.plan, state: first.state))
        }
    }

    @Test(arguments: ProviderUnderTest.all)
    func bindReturnsAFlatCredentialMapWithAURIAndUnbindIsIdempotent(provider: ProviderUnderTest) async throws {
        try await provider.withPlugin(in: TemporaryDirectory("provider")) { plugin, probe in
            let id = "c-\(UUID().uuidString.lowercased())"
            let state = try await plugin.provision(Self.provision(id)).state
            let one = try await plugin.bind(BindRequest(instanceID: id, bindingID: "b-1", plan: Self.plan, parameters: .emptyObject, state: state))
            let two = try await plugin.bind(BindRequest(instanceID: id, bindingID: "b-2", plan: Self.plan, parameters: .emptyObject, state: state))
            let uri = try #require(one["uri"])
            #expect(!uri.isEmpty)
            #expect("\(one)".contains("redacted"))
            #expect(!"\(one)".contains(uri))
            if provider.revokesPerBinding { #expect(one != two, "each binding gets credentials of its own") }
            let unbind = UnbindRequest(instanceID: id, bindingID: "b-1", credentials: one, state: state)
            try await plugin.unbind(unbind)
            try await plugin.unbind(unbind)
            try await plugin.unbind(UnbindRequest(instanceID: id, bindingID: "never-bound", credentials: nil, state: state))
            // Deprovision with a binding still live removes that too
            try await plugin.deprovision(DeprovisionRequest(instanceID: id, plan: Self.plan, state: state))
            let left = try await probe.leftovers(id)
            #expect(left.isEmpty, "left on the backend: \(left)")
        }
    }

    @Test(arguments: ProviderUnderTest.all.filter { $0.name != "sqlite" && $0.name != "static" })
    func anUnreachableBackendIsReportedWithoutItsSecrets(provider: ProviderUnderTest) async throws {
        try await provider.withPlugin(in: TemporaryDirectory("provider")) { _, probe in
            let params = try #require(probe.unreachableParams)
            #expect(provider.factory.validate(params).isEmpty)
            let plugin = try provider.factory.make(
                params, PluginEnvironment(providerID: "p-down", dataDirectory: URL(fileURLWithPath: "/tmp"), logger: Logger(label: "test")))
            guard case .unhealthy(let reason) = await plugin.health() else {
                Issue.record("a closed port reports healthy")
                return
            }
            #expect(reason.contains("127.0.0.1"))
            let error = await #expect(throws: ProviderError.self) { try await plugin.provision(Self.provision("down-1")) }
            if let secret = probe.secret {
                #expect(!reason.contains(secret))
                #expect(!"\(String(describing: error))".contains(secret))
            }
        }
    }

    @Test func sqliteBindingsPointAtARealDatabaseFileThatDeprovisionRemoves() async throws {
        let directory = TemporaryDirectory("provider")
        let plugin = try #require(
            try SQLiteProvider.factory.make(.emptyObject, PluginEnvironment(providerID: "p-test", dataDirectory: directory.url, logger: Logger(label: "test")))
                as? SQLiteProvider)
        let state = try await plugin.provision(Self.provision("weird/../id"))
        let credentials = try await plugin.bind(
            BindRequest(instanceID: "weird/../id", bindingID: "b", plan: Self.plan, parameters: .emptyObject, state: state.state))
        let path = try #require(credentials["path"])
        #expect(credentials["uri"] == "sqlite://" + path)
        #expect(path.hasPrefix(directory.url.appendingPathComponent("providers/p-test").path))
        #expect(FileManager.default.fileExists(atPath: path))
        let header = FileManager.default.contents(atPath: path)?.prefix(15)
        #expect(header == Data("SQLite format 3".utf8))
        try await plugin.deprovision(DeprovisionRequest(instanceID: "weird/../id", plan: Self.plan, state: state.state))
        #expect(!FileManager.default.fileExists(atPath: path))
        await #expect(throws: ProviderError.failed("the database file of instance 'weird/../id' is missing")) {
            try await plugin.bind(BindRequest(instanceID: "weird/../id", bindingID: "b", plan: Self.plan, parameters: .emptyObject, state: [:]))
        }
    }

    @Test func staticCredentialsAreHandedToEveryBinding() async throws {
        let plugin = StaticProvider(credentials: ["uri": "https://api.example.com", "api_key": "k"])
        let one = try await plugin.bind(BindRequest(instanceID: "i", bindingID: "1", plan: Self.plan, parameters: .emptyObject, state: [:]))
        let two = try await plugin.bind(BindRequest(instanceID: "i", bindingID: "2", plan: Self.plan, parameters: .emptyObject, state: [:]))
        #expect(one == two)
        #expect(one.values == ["uri": "https://api.example.com", "api_key": "k"])
    }

    @Test(arguments: [
        (JSONValue.emptyObject, ["'credentials' is required: an object of string values"]),
        (["credentials": [:]] as JSONValue, ["'credentials' must be a non-empty object of string values"]),
        (["credentials": ["port": 5432], "url": "x"] as JSONValue, ["unknown parameter 'url': the static provider takes only 'credentials'", "'credentials.port' must be a string"]),
    ])
    func staticParamsAreCheckedKeyByKey(params: JSONValue, problems: [String]) {
        #expect(StaticProvider.factory.validate(params) == problems)
    }

    @Test func sqliteTakesNoParams() {
        #expect(SQLiteProvider.factory.validate(["path": "/tmp"]) == ["unknown parameter 'path': the sqlite provider takes no parameters"])
        #expect(SQLiteProvider.factory.validate(.emptyObject).isEmpty)
    }
}

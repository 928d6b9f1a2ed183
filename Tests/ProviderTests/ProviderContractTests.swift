import BrokerCore
import Foundation
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

    @Test(arguments: ProviderUnderTest.embedded)
    func provisionTwiceMakesOneResourceAndDeprovisionTwiceSucceeds(provider: ProviderUnderTest) async throws {
        let directory = TemporaryDirectory("provider")
        let plugin = try provider.make(in: directory)
        let first = try await plugin.provision(Self.provision("i-1"))
        let second = try await plugin.provision(Self.provision("i-1"))
        #expect(first == second)
        if let exists = provider.resourceExists(plugin, "i-1") { #expect(exists) }
        try await plugin.deprovision(DeprovisionRequest(instanceID: "i-1", plan: Self.plan, state: first.state))
        if let exists = provider.resourceExists(plugin, "i-1") { #expect(!exists) }
        // Already gone is success
        try await plugin.deprovision(DeprovisionRequest(instanceID: "i-1", plan: Self.plan, state: first.state))
        try await plugin.deprovision(DeprovisionRequest(instanceID: "never-made", plan: Self.plan, state: [:]))
        #expect(await plugin.health() == .healthy)
    }

    @Test(arguments: ProviderUnderTest.embedded)
    func bindReturnsAFlatCredentialMapWithAURIAndUnbindIsIdempotent(provider: ProviderUnderTest) async throws {
        let directory = TemporaryDirectory("provider")
        let plugin = try provider.make(in: directory)
        let state = try await plugin.provision(Self.provision("i-1")).state
        let credentials = try await plugin.bind(
            BindRequest(instanceID: "i-1", bindingID: "b-1", plan: Self.plan, parameters: .emptyObject, state: state))
        #expect(credentials["uri"]?.isEmpty == false)
        #expect("\(credentials)".contains("redacted"))
        #expect(!"\(credentials)".contains(credentials["uri"]!))
        let unbind = UnbindRequest(instanceID: "i-1", bindingID: "b-1", credentials: credentials, state: state)
        try await plugin.unbind(unbind)
        try await plugin.unbind(unbind)
        try await plugin.unbind(UnbindRequest(instanceID: "i-1", bindingID: "never-bound", credentials: nil, state: state))
    }

    @Test func sqliteBindingsPointAtARealDatabaseFileThatDeprovisionRemoves() async throws {
        let directory = TemporaryDirectory("provider")
        let plugin = try #require(try ProviderUnderTest.embedded[0].make(in: directory) as? SQLiteProvider)
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

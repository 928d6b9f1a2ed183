import BrokerCore
import Foundation
import Testing
import TestSupport

@Suite("Rename: a new name, the same instance")
struct RenameTests {
    @Test func renameKeepsIdAndBindingsAndRecordsTheOldName() async throws {
        let harness = try await BrokerHarness()
        _ = try await harness.provision(id: "i-1", name: "team.cache")
        _ = try await harness.provision(id: "i-2", name: "other")
        _ = try await harness.bind("i-1", binding: "b-1")
        let renamed = try await harness.broker.rename(.name("team.cache"), to: "team-cache", origin: BrokerHarness.origin("operator"))
        #expect(renamed.id == "i-1" && renamed.name == "team-cache")
        let found = try #require(try await harness.broker.instance(.name("team-cache")))
        #expect(found.instance.id == "i-1")
        #expect(found.bindings.map(\.id) == ["b-1"])
        #expect(try await harness.broker.instance(.name("team.cache")) == nil)
        let event = try await harness.broker.events(EventFilter(type: EventType.instanceUpdate), page: .all).items.last
        #expect(event?.payload["renamed_from"] == "team.cache")
        #expect(event?.protocolName == "operator")
        // The same name again changes nothing; taken, bad or unknown names are refused
        #expect(try await harness.broker.rename(.id("i-1"), to: "team-cache", origin: .system).name == "team-cache")
        await #expect(throws: BrokerError.self) { try await harness.broker.rename(.id("i-1"), to: "other", origin: .system) }
        await #expect(throws: BrokerError.self) { try await harness.broker.rename(.id("i-1"), to: "bad name/", origin: .system) }
        await #expect(throws: BrokerError.instanceNotFound("nowhere")) { try await harness.broker.rename(.name("nowhere"), to: "x1", origin: .system) }
        #expect(try await harness.broker.instance(.id("i-1"))?.instance.name == "team-cache")
    }
}

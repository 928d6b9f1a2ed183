import BrokerCore
import Foundation
import LedgerSQLite
import Testing
import TestSupport

@Suite("Restart, recovery and sealed credentials")
struct ReliabilityTests {
    @Test func instancesBindingsOperationsAndEventsSurviveARestart() async throws {
        let harness = try await BrokerHarness()
        _ = try await harness.provision(id: "i-1", name: "kept")
        _ = try await harness.bind("i-1", binding: "b-1")
        let before = try await harness.broker.events().items
        let credentials = try await harness.broker.binding(id: "b-1")?.credentials
        try await harness.ledger.close()
        // When the process starts again on the same files
        let restarted = try await harness.restarted()
        let aggregate = try #require(try await restarted.broker.instance(.name("kept")))
        #expect(aggregate.instance.id == "i-1")
        #expect(aggregate.instance.state == .ready)
        #expect(aggregate.bindings.map(\.id) == ["b-1"])
        #expect(try await restarted.broker.binding(id: "b-1")?.credentials == credentials)
        #expect(try await restarted.broker.events().items == before)
        let provision = try await restarted.broker.lastOperation(instance: .id("i-1"))?.1
        #expect(provision?.kind == .provision)
        #expect(provision?.state == .succeeded)
        #expect(try await restarted.broker.lastBindingOperation(bindingID: "b-1")?.1?.state == .succeeded)
    }

    @Test func operationsInterruptedByACrashAreResumedOnStart() async throws {
        let harness = try await BrokerHarness(configuration: BrokerConfiguration(asyncBudget: .milliseconds(20), syncTimeout: .seconds(5)))
        harness.backend.close("provision")
        guard case .accepted(_, let operation) = try await harness.provision(id: "i-1") else { Issue.record("not accepted"); return }
        // The process dies while the provider works: the intent is in the ledger, the outcome is not
        let restarted = try await harness.restarted()
        #expect(try await restarted.broker.resumeOpenOperations() == 1)
        harness.backend.open("provision")
        #expect(try await restarted.broker.awaitOperation(operation.id, timeout: .seconds(10))?.state == .succeeded)
        #expect(try await restarted.state("i-1") == .ready)
        // The provider saw the call twice (idempotent), the backend holds one resource
        #expect(harness.backend.instances == ["i-1"])
    }

    @Test func boundCredentialsAreNotReadableInTheLedgerFile() async throws {
        let harness = try await BrokerHarness()
        _ = try await harness.provision(id: "i-1", acceptsIncomplete: false)
        guard case .created(let binding) = try await harness.bind("i-1", binding: "b-1") else { Issue.record("not bound"); return }
        let password = try #require(binding.credentials?["password"])
        for suffix in ["", "-wal"] {
            let path = harness.ledger.path + suffix
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            #expect(data.range(of: Data(password.utf8)) == nil, "password found in \(path)")
        }
        // And it is still there for the platform when read back
        #expect(try await harness.broker.binding(id: "b-1")?.credentials?["password"] == password)
    }

    @Test func listsFilterAndPageWithInclusiveMarkers() async throws {
        let harness = try await BrokerHarness()
        for index in 0..<5 { _ = try await harness.provision(name: "n-\(index)", tenant: index.isMultiple(of: 2) ? "even" : "odd") }
        let first = try await harness.broker.instances(InstanceFilter(), page: PageRequest(limit: 2))
        #expect(first.items.map(\.name) == ["n-0", "n-1"])
        #expect(first.nextMarker == "n-2")
        let second = try await harness.broker.instances(InstanceFilter(), page: PageRequest(marker: first.nextMarker, limit: 2))
        #expect(second.items.map(\.name) == ["n-2", "n-3"])
        let last = try await harness.broker.instances(InstanceFilter(), page: PageRequest(marker: second.nextMarker, limit: 2))
        #expect(last.items.map(\.name) == ["n-4"])
        #expect(last.nextMarker == nil)
        #expect(try await harness.broker.instances(InstanceFilter(tenant: "odd")).items.map(\.name) == ["n-1", "n-3"])
    }
}

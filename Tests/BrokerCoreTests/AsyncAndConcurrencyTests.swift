import BrokerCore
import Foundation
import Testing
import TestSupport

@Suite("Asynchronous operations and one operation at a time")
struct AsyncAndConcurrencyTests {
    @Test func asynchronousPlanNeedsACallerThatCanPoll() async throws {
        let harness = try await BrokerHarness()
        await #expect(throws: BrokerError.asyncRequired) { try await harness.provision(id: "i-1", plan: "async", acceptsIncomplete: false) }
        #expect(try await harness.broker.instance(.id("i-1")) == nil)
    }

    @Test func asynchronousProvisionIsAcceptedThenPolledToReady() async throws {
        let harness = try await BrokerHarness()
        let outcome = try await harness.provision(id: "i-1", plan: "async")
        guard case .accepted(let instance, let operation) = outcome else { Issue.record("got \(outcome)"); return }
        #expect(instance.state == .provisioning)
        #expect(operation.state == .inProgress)
        // While it runs, an identical request returns the same operation
        guard case .alreadyExists(_, let running) = try await harness.provision(id: "i-1", plan: "async") else {
            Issue.record("expected alreadyExists"); return
        }
        #expect(running?.id == operation.id)
        let finished = try await harness.finish(operation)
        #expect(finished?.state == .succeeded)
        #expect(try await harness.state("i-1") == .ready)
    }

    @Test func providerCallOutlivingTheBudgetContinuesInTheBackground() async throws {
        let harness = try await BrokerHarness(configuration: BrokerConfiguration(asyncBudget: .milliseconds(100), syncTimeout: .seconds(10)))
        harness.backend.close("provision")
        // When the provider is slower than the budget
        let outcome = try await harness.provision(id: "i-1")
        guard case .accepted(_, let operation) = outcome else { Issue.record("got \(outcome)"); return }
        #expect(try await harness.state("i-1") == .provisioning)
        // Then the work goes on and finishes after the caller was answered
        harness.backend.open("provision")
        #expect(try await harness.finish(operation)?.state == .succeeded)
        #expect(try await harness.state("i-1") == .ready)
    }

    @Test func callerThatCannotPollWaitsForTheResult() async throws {
        let harness = try await BrokerHarness(configuration: BrokerConfiguration(asyncBudget: .milliseconds(10), syncTimeout: .seconds(10)))
        harness.backend.delay("provision", by: .milliseconds(300))
        guard case .created(let instance) = try await harness.provision(id: "i-1", acceptsIncomplete: false) else {
            Issue.record("expected created"); return
        }
        #expect(instance.state == .ready)
    }

    @Test func secondMutationWhileAnOperationRunsIsAConcurrencyError() async throws {
        let harness = try await BrokerHarness(configuration: BrokerConfiguration(asyncBudget: .milliseconds(50), syncTimeout: .seconds(10)))
        _ = try await harness.provision(id: "i-1", acceptsIncomplete: false)
        harness.backend.close("update")
        let update = try await harness.broker.update(
            UpdateCommand(instance: .id("i-1"), plan: "large", acceptsIncomplete: true, origin: BrokerHarness.origin()))
        guard case .accepted(let updating, let operation) = update else { Issue.record("got \(update)"); return }
        #expect(updating.state == .updating)
        // A different update, a deprovision and a bind are refused while it runs
        await #expect(throws: BrokerError.concurrentOperation("service instance '\(updating.name)' is being updated")) {
            try await harness.broker.update(
                UpdateCommand(instance: .id("i-1"), parameters: ["x": 1], acceptsIncomplete: true, origin: BrokerHarness.origin()))
        }
        await #expect(throws: BrokerError.self) {
            try await harness.broker.deprovision(DeprovisionCommand(instance: .id("i-1"), acceptsIncomplete: true, origin: BrokerHarness.origin()))
        }
        await #expect(throws: BrokerError.concurrentOperation("service instance '\(updating.name)' is being updated")) {
            try await harness.bind("i-1", binding: "b-1")
        }
        // The same update again returns the running operation
        guard case .accepted(_, let same) = try await harness.broker.update(
            UpdateCommand(instance: .id("i-1"), plan: "large", acceptsIncomplete: true, origin: BrokerHarness.origin()))
        else { Issue.record("expected accepted"); return }
        #expect(same.id == operation.id)
        harness.backend.open("update")
        #expect(try await harness.finish(operation)?.state == .succeeded)
        let instance = try #require(try await harness.broker.instance(.id("i-1"))).instance
        #expect(instance.planID == "large-id")
        #expect(instance.state == .ready)
    }

    @Test func bindsOfDifferentBindingsRunConcurrentlyOnAReadyInstance() async throws {
        let harness = try await BrokerHarness(configuration: BrokerConfiguration(asyncBudget: .milliseconds(50), syncTimeout: .seconds(10)))
        _ = try await harness.provision(id: "i-1", acceptsIncomplete: false)
        harness.backend.close("bind")
        // When three binds arrive while the backend is still busy with the first
        var operations: [BrokerOperation] = []
        for id in ["b-1", "b-2", "b-3"] {
            guard case .accepted(_, let operation) = try await harness.bind("i-1", binding: id) else {
                Issue.record("bind \(id) was not accepted"); return
            }
            operations.append(operation)
        }
        // Then none is refused: all three reach the backend at once, and all finish once it answers
        for _ in 0..<200 where harness.backend.count("bind") < 3 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(harness.backend.count("bind") == 3)
        harness.backend.open("bind")
        for operation in operations { #expect(try await harness.finish(operation)?.state == .succeeded) }
        #expect(Set(harness.backend.bindings.keys) == ["b-1", "b-2", "b-3"])
    }

    @Test func parallelIdenticalProvisionsCreateOneBackendResource() async throws {
        let harness = try await BrokerHarness()
        harness.backend.delay("provision", by: .milliseconds(100))
        let outcomes = await withTaskGroup(of: ProvisionOutcome?.self) { group in
            for _ in 0..<8 { group.addTask { try? await harness.provision(id: "i-1") } }
            var all: [ProvisionOutcome?] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.compactMap { $0 }.count == 8)
        #expect(harness.backend.count("provision") == 1)
    }

    @Test func updateOfAPlanThatCannotChangeIsRefusedAndAFailedUpdateKeepsTheInstanceUsable() async throws {
        let harness = try await BrokerHarness()
        _ = try await harness.provision(id: "f-1", plan: "a", offering: "fixed")
        await #expect(throws: BrokerError.planChangeNotSupported("the plan of offering 'fixed' cannot be changed from 'a' to 'b'")) {
            try await harness.broker.update(UpdateCommand(instance: .id("f-1"), plan: "b", acceptsIncomplete: true, origin: BrokerHarness.origin()))
        }
        _ = try await harness.provision(id: "i-1", acceptsIncomplete: false)
        harness.backend.fail("update", with: .failed("resize refused"))
        await #expect(throws: BrokerError.providerFailed("resize refused")) {
            try await harness.broker.update(UpdateCommand(instance: .id("i-1"), plan: "large", acceptsIncomplete: true, origin: BrokerHarness.origin()))
        }
        let instance = try #require(try await harness.broker.instance(.id("i-1"))).instance
        #expect(instance.state == .ready)
        #expect(instance.planID == "small-id")
    }

    @Test func contextAndTenantChangesAreRecordedWithoutTheProvider() async throws {
        let harness = try await BrokerHarness()
        _ = try await harness.provision(id: "i-1", acceptsIncomplete: false)
        let outcome = try await harness.broker.update(
            UpdateCommand(instance: .id("i-1"), context: ["team": "blue"], tenant: "blue", acceptsIncomplete: false, origin: BrokerHarness.origin("tsuru")))
        guard case .unchanged(let instance) = outcome else { Issue.record("got \(outcome)"); return }
        #expect(instance.tenant == "blue")
        #expect(harness.backend.count("update") == 0)
        #expect(try await harness.broker.events(EventFilter(type: "instance.update")).items.first?.protocolName == "tsuru")
    }
}

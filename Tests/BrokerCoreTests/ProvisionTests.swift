import BrokerCore
import Foundation
import Testing
import TestSupport

@Suite("Provision, idempotency and conflicts")
struct ProvisionTests {
    @Test func provisionCreatesReadyInstanceWithEventAndJournal() async throws {
        let harness = try await BrokerHarness()
        // When a synchronous plan is provisioned
        let outcome = try await harness.provision(id: "i-1")
        // Then it is ready at once, on the backend, with one operation and one event
        guard case .created(let instance) = outcome else { Issue.record("expected created, got \(outcome)"); return }
        #expect(instance.state == .ready)
        #expect(instance.name.hasPrefix("fake-") && instance.name.count == "fake-".count + 8)
        #expect(instance.dashboardURL == "https://dashboard.example/i-1")
        #expect(harness.backend.instances == ["i-1"])
        let (_, operation) = try #require(try await harness.broker.lastOperation(instance: .id("i-1")))
        #expect(operation?.kind == .provision)
        #expect(operation?.state == .succeeded)
        let events = try await harness.broker.events().items
        #expect(events.map(\.type) == ["instance.create"])
        #expect(events.first?.protocolName == "cf")
        #expect(events.first?.tenant == "acme")
    }

    @Test func identicalProvisionReturnsTheExistingInstanceWithoutCallingTheProvider() async throws {
        let harness = try await BrokerHarness()
        _ = try await harness.provision(id: "i-1", parameters: ["a": 1])
        // When the same request arrives again (numbers compare by value)
        let again = try await harness.provision(id: "i-1", parameters: ["a": 1.0])
        // Then it says so, and the backend was called once
        guard case .alreadyExists(let instance, let running) = again else { Issue.record("got \(again)"); return }
        #expect(instance.state == .ready)
        #expect(running == nil)
        #expect(harness.backend.count("provision") == 1)
    }

    @Test(arguments: [
        ("large", JSONValue.emptyObject),  // another plan
        ("small", ["a": 2] as JSONValue),  // other parameters
    ])
    func sameIDWithDifferentAttributesIsAConflict(plan: String, parameters: JSONValue) async throws {
        let harness = try await BrokerHarness()
        _ = try await harness.provision(id: "i-1", parameters: ["a": 1])
        await #expect(throws: BrokerError.conflict("service instance 'i-1' already exists with different attributes")) {
            try await harness.provision(id: "i-1", plan: plan, parameters: parameters)
        }
        #expect(harness.backend.count("provision") == 1)
    }

    @Test func protocolIdentityTakesPartInIdempotency() async throws {
        let harness = try await BrokerHarness()
        func provision(space: String) async throws(BrokerError) -> ProvisionOutcome {
            try await harness.broker.provision(
                ProvisionCommand(
                    instanceID: "i-1", offering: "fake", plan: "small", tenant: "acme", identity: ["space_guid": .string(space)],
                    acceptsIncomplete: true, origin: BrokerHarness.origin()))
        }
        _ = try await provision(space: "s1")
        guard case .alreadyExists = try await provision(space: "s1") else { Issue.record("expected alreadyExists"); return }
        await #expect(throws: BrokerError.self) { try await provision(space: "s2") }
    }

    @Test func namesAreUniqueAcrossOfferings() async throws {
        let harness = try await BrokerHarness()
        _ = try await harness.provision(name: "shared-name")
        await #expect(throws: BrokerError.conflict("service instance 'shared-name' already exists with different attributes")) {
            try await harness.provision(name: "shared-name", plan: "a", offering: "fixed")
        }
        // An explicit id with a taken name is refused as a taken name
        await #expect(throws: BrokerError.nameTaken("shared-name")) {
            try await harness.provision(id: "other-id", name: "shared-name")
        }
    }

    @Test func aDeletedInstanceFreesItsNameAndItsIDCanBeProvisionedAgain() async throws {
        let harness = try await BrokerHarness()
        guard case .created(let first) = try await harness.provision(id: "i-1", name: "reusable") else { Issue.record("not created"); return }
        _ = try await harness.broker.deprovision(DeprovisionCommand(instance: .id(first.id), acceptsIncomplete: true, origin: BrokerHarness.origin()))
        guard case .created(let second) = try await harness.provision(name: "reusable") else { Issue.record("name not freed"); return }
        #expect(second.id != first.id)
        // Kubernetes retries a create with the same id after its orphan mitigation deleted it
        guard case .created(let again) = try await harness.provision(id: "i-1", name: "another", plan: "large") else {
            Issue.record("id not reusable"); return
        }
        #expect(again.state == .ready && again.planID == "large-id")
        #expect(harness.backend.instances == ["i-1", second.id])
    }

    @Test func unknownOfferingsAndPlansAreRejectedBeforeAnythingIsWritten() async throws {
        let harness = try await BrokerHarness()
        await #expect(throws: BrokerError.unknownOffering("nope")) { try await harness.provision(offering: "nope") }
        await #expect(throws: BrokerError.unknownPlan(offering: "fake", plan: "huge")) { try await harness.provision(plan: "huge") }
        #expect(try await harness.broker.instances().items.isEmpty)
        #expect(harness.backend.calls.isEmpty)
    }

    @Test func parametersAreValidatedAgainstThePlanSchema() async throws {
        let harness = try await BrokerHarness()
        await #expect(throws: BrokerError.invalidParameters("parameter 'size' must be at most 10")) {
            try await harness.provision(plan: "strict", parameters: ["size": 11])
        }
        await #expect(throws: BrokerError.invalidParameters("parameter 'size' is required")) {
            try await harness.provision(plan: "strict", parameters: ["tier": "gold"])
        }
        await #expect(throws: BrokerError.invalidParameters("parameter 'color' is not allowed")) {
            try await harness.provision(plan: "strict", parameters: ["size": 1, "color": "red"])
        }
        guard case .created = try await harness.provision(plan: "strict", parameters: ["size": 3, "tier": "gold"]) else {
            Issue.record("valid parameters refused"); return
        }
    }

    @Test func providerFailureLeavesAFailedInstanceWithAClientSafeMessage() async throws {
        let harness = try await BrokerHarness()
        harness.backend.fail("provision", with: .failed("quota exceeded on the backend"))
        await #expect(throws: BrokerError.providerFailed("quota exceeded on the backend")) {
            try await harness.provision(id: "i-1", acceptsIncomplete: false)
        }
        let aggregate = try #require(try await harness.broker.instance(.id("i-1")))
        #expect(aggregate.instance.state == .failed)
        #expect(aggregate.instance.failure == "quota exceeded on the backend")
        #expect(aggregate.openOperations.isEmpty)
        let (_, operation) = try #require(try await harness.broker.lastOperation(instance: .id("i-1")))
        #expect(operation?.state == .failed)
        #expect(try await harness.broker.events().items.map(\.type) == ["instance.fail"])
        // The platform's orphan-mitigation delete cleans it up
        let deleted = try await harness.broker.deprovision(
            DeprovisionCommand(instance: .id("i-1"), acceptsIncomplete: true, origin: BrokerHarness.origin()))
        guard case .deleted(let gone) = deleted else { Issue.record("got \(deleted)"); return }
        #expect(gone.state == .deleted)
    }

    @Test func noLiveProviderMeansNothingIsCreated() async throws {
        let harness = try await BrokerHarness()
        try await harness.broker.registerConfiguredProviders([
            BrokerHarness.provider(id: "fake-1", backend: harness.backend, status: .offline)
        ])
        await #expect(throws: BrokerError.noLiveProvider("no live provider can serve offering 'fake'")) {
            try await harness.provision(id: "i-1")
        }
        #expect(try await harness.broker.instance(.id("i-1")) == nil)
    }

    @Test func theInstanceRemembersItsProviderAndAPinnedProviderIsUsed() async throws {
        let harness = try await BrokerHarness()
        let other = FakeBackend()
        try await harness.broker.registerConfiguredProviders([BrokerHarness.provider(id: "fake-2", backend: other)])
        _ = try await harness.broker.provision(
            ProvisionCommand(
                instanceID: "pinned", offering: "fake", plan: "small", tenant: "acme", providerID: "fake-2", acceptsIncomplete: true,
                origin: BrokerHarness.origin()))
        #expect(other.instances == ["pinned"])
        _ = try await harness.bind("pinned", binding: "b-1")
        #expect(other.bindings.keys.contains("b-1"))
        #expect(harness.backend.calls.isEmpty)
    }
}

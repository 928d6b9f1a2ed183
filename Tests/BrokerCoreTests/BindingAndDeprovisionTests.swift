import BrokerCore
import Foundation
import Testing
import TestSupport

@Suite("Bindings, deprovisioning and orphan mitigation")
struct BindingAndDeprovisionTests {
    @Test func bindReturnsCredentialsAndAnIdenticalRepeatReturnsTheSameBinding() async throws {
        let harness = try await BrokerHarness()
        _ = try await harness.provision(id: "i-1", acceptsIncomplete: false)
        guard case .created(let binding) = try await harness.bind("i-1", binding: "b-1") else { Issue.record("not created"); return }
        #expect(binding.state == .bound)
        #expect(binding.credentials?["username"] == "b-1")
        guard case .alreadyExists(let again, nil) = try await harness.bind("i-1", binding: "b-1") else { Issue.record("no repeat"); return }
        #expect(again.credentials == binding.credentials)
        #expect(harness.backend.count("bind") == 1)
        // Same id, other attributes → conflict
        await #expect(throws: BrokerError.conflict("binding 'b-1' already exists with different attributes")) {
            try await harness.broker.bind(
                BindCommand(bindingID: "b-1", instance: .id("i-1"), parameters: ["role": "admin"], acceptsIncomplete: true, origin: BrokerHarness.origin()))
        }
        let created = try await harness.broker.events(EventFilter(type: "binding.create")).items
        #expect(created.count == 1)
        #expect(created.first?.payload["binding"]?["id"] == "b-1")
    }

    @Test func bindingIDsAreOneSpaceAcrossInstances() async throws {
        let harness = try await BrokerHarness()
        _ = try await harness.provision(id: "i-1", acceptsIncomplete: false)
        _ = try await harness.provision(id: "i-2")
        _ = try await harness.bind("i-1", binding: "b-1")
        await #expect(throws: BrokerError.conflict("binding id 'b-1' is already in use")) { try await harness.bind("i-2", binding: "b-1") }
    }

    @Test func anAppIsBoundOncePerInstance() async throws {
        let harness = try await BrokerHarness()
        _ = try await harness.provision(id: "i-1", acceptsIncomplete: false)
        guard case .created(let first) = try await harness.bind("i-1", app: "web", protocolName: "tsuru") else { Issue.record("not created"); return }
        guard case .alreadyExists(let second, _) = try await harness.bind("i-1", app: "web", protocolName: "tsuru") else {
            Issue.record("app bound twice"); return
        }
        #expect(first.id == second.id)
        let outcome = try await harness.broker.unbind(
            UnbindCommand(binding: .app(instance: .id("i-1"), appKey: "web"), acceptsIncomplete: false, origin: BrokerHarness.origin("tsuru")))
        guard case .deleted(let removed) = outcome else { Issue.record("got \(outcome)"); return }
        #expect(removed.state == .deleted)
        #expect(harness.backend.bindings.isEmpty)
    }

    @Test func bindingANotBindablePlanOrABusyInstanceIsRefused() async throws {
        let harness = try await BrokerHarness(configuration: BrokerConfiguration(asyncBudget: .milliseconds(20), syncTimeout: .seconds(5)))
        _ = try await harness.provision(id: "n-1", plan: "nobind")
        await #expect(throws: BrokerError.notBindable("plan 'nobind' of offering 'fake' is not bindable")) { try await harness.bind("n-1") }
        harness.backend.close("provision")
        guard case .accepted(let provisioning, let operation) = try await harness.provision(id: "i-1") else { Issue.record("not accepted"); return }
        await #expect(throws: BrokerError.concurrentOperation("service instance '\(provisioning.name)' is being provisioned")) {
            try await harness.bind("i-1")
        }
        harness.backend.open("provision")
        try await harness.finish(operation)
        await #expect(throws: BrokerError.instanceNotFound("missing")) { try await harness.bind("missing") }
    }

    @Test func deprovisionRemovesBindingsFirstWithEventsOfTheDeprovisioningProtocol() async throws {
        let harness = try await BrokerHarness()
        _ = try await harness.provision(id: "i-1", protocolName: "tsuru")
        _ = try await harness.bind("i-1", binding: "b-1", protocolName: "cf")
        _ = try await harness.bind("i-1", binding: "b-2", protocolName: "apcera")
        // Apcera without force: refused while bindings live
        await #expect(throws: BrokerError.hasBindings(instance: try await harness.broker.instance(.id("i-1"))!.instance.name, count: 2)) {
            try await harness.broker.deprovision(
                DeprovisionCommand(instance: .id("i-1"), removeBindings: false, acceptsIncomplete: true, origin: BrokerHarness.origin("apcera")))
        }
        let outcome = try await harness.broker.deprovision(
            DeprovisionCommand(instance: .id("i-1"), acceptsIncomplete: true, origin: BrokerHarness.origin("registry")))
        guard case .deleted(let instance) = outcome else { Issue.record("got \(outcome)"); return }
        #expect(instance.state == .deleted)
        #expect(harness.backend.bindings.isEmpty)
        #expect(harness.backend.instances.isEmpty)
        let events = try await harness.broker.events().items
        #expect(events.map(\.type) == ["instance.create", "binding.create", "binding.create", "binding.delete", "binding.delete", "instance.delete"])
        #expect(events.suffix(3).allSatisfy { $0.protocolName == "registry" })
        #expect(try await harness.broker.binding(id: "b-1")?.state == .deleted)
        // Gone everywhere afterwards
        await #expect(throws: BrokerError.instanceNotFound("i-1")) {
            try await harness.broker.deprovision(DeprovisionCommand(instance: .id("i-1"), acceptsIncomplete: true, origin: BrokerHarness.origin()))
        }
        await #expect(throws: BrokerError.bindingNotFound("b-1")) {
            try await harness.broker.unbind(UnbindCommand(binding: .id("b-1"), acceptsIncomplete: true, origin: BrokerHarness.origin()))
        }
    }

    @Test func deprovisionDuringProvisioningIsCarriedOutOnceTheProvisionSettles() async throws {
        let harness = try await BrokerHarness(configuration: BrokerConfiguration(asyncBudget: .milliseconds(20), syncTimeout: .seconds(5)))
        harness.backend.close("provision")
        guard case .accepted(_, let provision) = try await harness.provision(id: "i-1") else { Issue.record("not accepted"); return }
        // When the platform times out and sends its orphan-mitigation DELETE
        let outcome = try await harness.broker.deprovision(
            DeprovisionCommand(instance: .id("i-1"), acceptsIncomplete: true, origin: RequestOrigin(protocolName: "cf")))
        guard case .accepted(let instance, let deprovision) = outcome else { Issue.record("got \(outcome)"); return }
        #expect(instance.state == .provisioning)
        #expect(deprovision.kind == .deprovision)
        // A repeated DELETE returns the same operation
        guard case .accepted(_, let repeated) = try await harness.broker.deprovision(
            DeprovisionCommand(instance: .id("i-1"), acceptsIncomplete: true, origin: RequestOrigin(protocolName: "cf")))
        else { Issue.record("repeat not accepted"); return }
        #expect(repeated.id == deprovision.id)
        // Then once the backend finishes creating, the delete wins and nothing is left behind
        harness.backend.open("provision")
        #expect(try await harness.finish(deprovision)?.state == .succeeded)
        #expect(try await harness.broker.awaitOperation(provision.id, timeout: .seconds(1))?.state == .failed)
        #expect(try await harness.state("i-1") == .deleted)
        #expect(harness.backend.instances.isEmpty)
        #expect(harness.backend.calls == ["provision:i-1", "deprovision:i-1"])
    }

    @Test func unbindDuringBindingIsCarriedOutOnceTheBindSettles() async throws {
        let harness = try await BrokerHarness(configuration: BrokerConfiguration(asyncBudget: .milliseconds(20), syncTimeout: .seconds(5)))
        _ = try await harness.provision(id: "i-1", acceptsIncomplete: false)
        harness.backend.close("bind")
        guard case .accepted = try await harness.bind("i-1", binding: "b-1") else { Issue.record("not accepted"); return }
        let outcome = try await harness.broker.unbind(UnbindCommand(binding: .id("b-1"), acceptsIncomplete: true, origin: BrokerHarness.origin()))
        guard case .accepted(_, let unbind) = outcome else { Issue.record("got \(outcome)"); return }
        harness.backend.open("bind")
        #expect(try await harness.finish(unbind)?.state == .succeeded)
        #expect(try await harness.broker.binding(id: "b-1")?.state == .deleted)
        #expect(harness.backend.bindings.isEmpty)
    }

    @Test func failedUnbindLeavesAFailedBindingThatCanBeRetried() async throws {
        let harness = try await BrokerHarness()
        _ = try await harness.provision(id: "i-1", acceptsIncomplete: false)
        _ = try await harness.bind("i-1", binding: "b-1")
        harness.backend.fail("unbind", with: .unreachable("backend unreachable"))
        await #expect(throws: BrokerError.providerFailed("backend unreachable")) {
            try await harness.broker.unbind(UnbindCommand(binding: .id("b-1"), acceptsIncomplete: false, origin: BrokerHarness.origin()))
        }
        #expect(try await harness.broker.binding(id: "b-1")?.state == .failed)
        harness.backend.fail("unbind", with: nil)
        guard case .deleted = try await harness.broker.unbind(UnbindCommand(binding: .id("b-1"), acceptsIncomplete: false, origin: BrokerHarness.origin()))
        else { Issue.record("retry failed"); return }
        #expect(harness.backend.bindings.isEmpty)
    }
}

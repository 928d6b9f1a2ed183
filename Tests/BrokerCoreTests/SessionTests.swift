import BrokerCore
import Foundation
import LedgerSQLite
import Testing
import TestSupport

@Suite("Sessions: heartbeats, deadlines, expiry and restart")
struct SessionTests {
    static let origin = RequestOrigin(protocolName: "registry")

    @Test func createAndHeartbeatMoveTheDeadlineAndRotateTheToken() async throws {
        let harness = try await BrokerHarness()
        await #expect(throws: BrokerError.invalidRequest("heartbeat_timeout must be a whole number of seconds from 3 to 30")) {
            try await harness.broker.createSession(tenant: "acme", heartbeatTimeout: 31, metadata: [:], tokenHash: "h0", origin: Self.origin)
        }
        let session = try await harness.broker.createSession(tenant: "acme", heartbeatTimeout: 10, metadata: ["region": "dfw"], tokenHash: "h1", origin: Self.origin)
        #expect(session.id.hasPrefix("se") && session.id.count == 12)
        #expect(abs(session.deadline.timeIntervalSince(session.createdAt) - 10) < 0.01)
        #expect(session.lastSeen == nil)
        let beaten = try await harness.broker.heartbeat(session: session.id, tenant: "acme", tokenHash: "h1", nextTokenHash: "h2")
        #expect(beaten.tokenHash == "h2")
        #expect(beaten.lastSeen != nil)
        #expect(beaten.deadline >= session.deadline)
        // The old token is dead at once; a rejected heartbeat changes nothing
        await #expect(throws: BrokerError.sessionNotFound("the heartbeat token of session '\(session.id)' is stale or unknown")) {
            try await harness.broker.heartbeat(session: session.id, tenant: "acme", tokenHash: "h1", nextTokenHash: "h3")
        }
        #expect(try await harness.broker.session(id: session.id, tenant: "acme")?.tokenHash == "h2")
        // Another tenant sees nothing
        #expect(try await harness.broker.session(id: session.id, tenant: "beta") == nil)
        await #expect(throws: BrokerError.self) {
            try await harness.broker.heartbeat(session: session.id, tenant: "beta", tokenHash: "h2", nextTokenHash: "h4")
        }
        let events = try await harness.broker.events(EventFilter(type: "session.create")).items
        #expect(events.count == 1)
        #expect(!events[0].payload.canonicalText().contains("h1"))
    }

    @Test func removingASessionTakesItsProvidersOfflineInOneTransaction() async throws {
        let harness = try await BrokerHarness()
        let session = try await harness.broker.createSession(tenant: "acme", heartbeatTimeout: 30, metadata: [:], tokenHash: "t", origin: Self.origin)
        var provider = BrokerHarness.provider(id: "attached", backend: harness.backend)
        provider.sessionID = session.id
        try await harness.broker.registerConfiguredProviders([provider])
        let offline = try await harness.broker.endSession(id: session.id, tenant: "acme", reason: .removed, origin: Self.origin)
        #expect(offline.map(\.id) == ["attached"])
        #expect(try await harness.broker.provider(id: "attached")?.status == .offline)
        #expect(try await harness.broker.session(id: session.id, tenant: "acme") == nil)
        let events = try await harness.broker.events().items.map(\.type)
        #expect(events == ["session.create", "session.remove", "provider.timeout"])
        let timeout = try #require(try await harness.broker.events(EventFilter(type: "provider.timeout")).items.first)
        #expect(timeout.payload["reason"] == "removed")
        // An offline provider is never chosen
        await #expect(throws: BrokerError.noLiveProvider("provider 'attached' is offline")) {
            try await harness.broker.provision(
                ProvisionCommand(offering: "fake", tenant: "acme", providerID: "attached", acceptsIncomplete: true, origin: Self.origin))
        }
    }

    @Test func theDeadlineQueueExpiresASessionWithinASecondOfItsDeadline() async throws {
        let harness = try await BrokerHarness()
        let expiry = Task { await harness.broker.runSessionExpiry() }
        defer { expiry.cancel() }
        let session = try await harness.broker.createSession(tenant: "acme", heartbeatTimeout: 3, metadata: [:], tokenHash: "t", origin: Self.origin)
        try await Task.sleep(for: .milliseconds(2000))
        #expect(try await harness.broker.session(id: session.id, tenant: "acme") != nil, "expired before its deadline")
        try await Task.sleep(for: .milliseconds(2000))  // deadline + 1 s at least
        #expect(try await harness.ledger.session(id: session.id) == nil)
        let types = try await harness.broker.events().items.map(\.type)
        #expect(types == ["session.create", "session.timeout"])
        // A late heartbeat is refused
        await #expect(throws: BrokerError.self) {
            try await harness.broker.heartbeat(session: session.id, tenant: "acme", tokenHash: "t", nextTokenHash: "u")
        }
    }

    @Test func sessionsSurviveARestartAndOverdueOnesGetOneFreshTimeout() async throws {
        let harness = try await BrokerHarness()
        let short = try await harness.broker.createSession(tenant: "acme", heartbeatTimeout: 3, metadata: [:], tokenHash: "s", origin: Self.origin)
        let long = try await harness.broker.createSession(tenant: "acme", heartbeatTimeout: 30, metadata: [:], tokenHash: "l", origin: Self.origin)
        try await harness.ledger.close()
        try await Task.sleep(for: .milliseconds(3200))  // the short one's deadline passes while "down"
        let restarted = try await harness.restarted()
        #expect(try await restarted.broker.reviveOverdueSessions() == 1)
        let revived = try #require(try await restarted.broker.session(id: short.id, tenant: "acme"))
        #expect(revived.deadline.timeIntervalSinceNow > 2)
        #expect(try await restarted.broker.session(id: long.id, tenant: "acme")?.deadline == long.deadline)
        #expect(try await restarted.broker.expireDueSessions() == 0)
    }
}

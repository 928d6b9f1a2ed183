import AsyncHTTPClient
import BrokerCore
import Foundation
import NIOHTTP1

/// The registry suite (`registry.md`, R1…R52), against `<url>/v1.0/<tenant>`: learns the
/// offerings (and which plans are asynchronous) from `GET /offerings` and the provider kinds from
/// the configured providers, and starts one short session at once whose expiry later cases check.
struct RegistrySuite: Sendable {
    let options: ConformanceOptions
    let http: HTTPClient

    var suite: ConformanceSuite {
        let options = options
        let http = http
        let holder = Locked<RegistryContext?>(nil)
        return ConformanceSuite(
            name: "registry",
            prepare: {
                let context = try await RegistryContext.discover(options: options, http: http)
                holder.set(context)
                return RegistryCases(context).all
            },
            finish: { await holder.value?.finish() })
    }
}

/// A session the suite let expire, with the provider attached to it.
struct ExpiringSession: Sendable {
    let id: String
    let provider: String
    /// Server time (ms) of the deadline, from the session's `expires_at`.
    let expiresAt: Int64
    /// Local time of that deadline.
    let deadline: Date
}

/// What the registry suite learned.
final class RegistryContext: Sendable {
    let options: ConformanceOptions
    let client: WireClient
    /// The second tenant's client, when `--other-tenant` and `--other-token` are given.
    let other: WireClient?
    let offeringsReply: HTTPReply
    /// The offering to provision, its synchronous and asynchronous plans.
    let offering: String?
    let syncPlan: String?
    let asyncPlan: String?
    /// The kind that serves `offering` (from a configured provider), and a kind with secret params.
    let providerKind: String?
    let secretProvider: (kind: String, type: String, maskedParams: JSONValue)?
    let configured: [JSONValue]
    let expiring: ExpiringSession?
    let discoveryProblem: String?

    init(
        options: ConformanceOptions, client: WireClient, other: WireClient?, offeringsReply: HTTPReply, offering: String?, syncPlan: String?,
        asyncPlan: String?, providerKind: String?, secretProvider: (kind: String, type: String, maskedParams: JSONValue)?, configured: [JSONValue],
        expiring: ExpiringSession?, discoveryProblem: String?
    ) {
        self.options = options
        self.client = client
        self.other = other
        self.offeringsReply = offeringsReply
        self.offering = offering
        self.syncPlan = syncPlan
        self.asyncPlan = asyncPlan
        self.providerKind = providerKind
        self.secretProvider = secretProvider
        self.configured = configured
        self.expiring = expiring
        self.discoveryProblem = discoveryProblem
    }

    static func discover(options: ConformanceOptions, http: HTTPClient) async throws -> RegistryContext {
        guard let tenant = options.tenant, let token = options.token else {
            throw SetupError("the registry suite needs --tenant and --token (or POLYBROKER_REGISTRY_TOKENS)")
        }
        let headers = [("Accept", "application/json")]
        let client = WireClient(http: http, base: "\(options.base)/v1.0/\(tenant)", timeout: options.timeout, credentials: .header("X-Auth-Token", token), defaultHeaders: headers)
        var other: WireClient?
        if let otherTenant = options.otherTenant, let otherToken = options.otherToken {
            other = client.rebased("\(options.base)/v1.0/\(otherTenant)", credentials: .header("X-Auth-Token", otherToken))
        }
        let reply = try await client.get("/offerings?limit=1000")
        if reply.status == 401 || reply.status == 403 {
            throw SetupError("GET \(client.base)/offerings answered \(reply.status): the registry refused the token for tenant '\(tenant)'")
        }
        let offerings = reply["values"]?.arrayValue ?? []
        let providers = try await client.get("/providers?limit=1000")["values"]?.arrayValue ?? []
        let configured = providers.filter { $0["source"]?.stringValue == "config" }
        func plans(_ offering: JSONValue, async: Bool) -> [String] {
            (offering["plans"]?.arrayValue ?? []).filter { $0["async"]?.boolValue == async }.compactMap { $0["name"]?.stringValue }
        }
        let chosen =
            options.offering.flatMap { name in offerings.first { $0["name"]?.stringValue == name } }
            ?? offerings.first { offering in
                (offering["providers"]?["online"]?.integerValue ?? 0) > 0 && !plans(offering, async: false).isEmpty
                    && configured.contains { $0["type"] == offering["name"] && $0["params"]?.objectValue?.isEmpty == true }
            }
            ?? offerings.first { !plans($0, async: false).isEmpty }
        let offering = chosen?["name"]?.stringValue
        let kind = configured.first { $0["type"]?.stringValue == offering }?["kind"]?.stringValue
        let secret = configured.first { $0["params"]?.canonicalText().contains("\"********\"") == true }.flatMap { provider -> (String, String, JSONValue)? in
            guard let kind = provider["kind"]?.stringValue, let type = provider["type"]?.stringValue, let params = provider["params"] else { return nil }
            return (kind, type, params)
        }
        var problem: String?
        if offering == nil { problem = "GET /offerings gave no offering with a synchronous plan: \(reply.summary)" }
        let expiring = try await startExpiringSession(client: client, offering: offering, kind: kind)
        return RegistryContext(
            options: options, client: client, other: other, offeringsReply: reply, offering: offering,
            syncPlan: options.plan ?? chosen.flatMap { plans($0, async: false).first }, asyncPlan: options.asyncPlan ?? chosen.flatMap { plans($0, async: true).first },
            providerKind: kind, secretProvider: secret, configured: configured, expiring: expiring, discoveryProblem: problem)
    }

    /// A session of 3 s with a provider attached, left to expire (R16, R23, R40).
    static func startExpiringSession(client: WireClient, offering: String?, kind: String?) async throws -> ExpiringSession? {
        guard let offering, let kind else { return nil }
        let created = try await client.send(.POST, "/sessions", body: .json(["heartbeat_timeout": 3, "metadata": ["conformance": "expiry"]]))
        guard created.status == 201, let id = created["id"]?.stringValue else { return nil }
        let provider = uniqueName("expiring")
        let registered = try await client.send(.POST, "/providers", body: .json(["id": .string(provider), "kind": .string(kind), "type": .string(offering), "session_id": .string(id)]))
        guard registered.status == 201, let expiresAt = try await client.get("/sessions/\(id)")["expires_at"]?.integerValue else { return nil }
        return ExpiringSession(id: id, provider: provider, expiresAt: expiresAt, deadline: Date().addingTimeInterval(3))
    }

    /// Removes the provider of the expiring session (the session itself is gone).
    func finish() async {
        guard let expiring else { return }
        _ = try? await client.send(.DELETE, "/sessions/\(expiring.id)")
        _ = try? await client.send(.DELETE, "/providers/\(expiring.provider)")
    }

    // MARK: What a case needs

    func requireOffering() throws -> (offering: String, plan: String) {
        guard let offering, let syncPlan else { throw CaseFailure(discoveryProblem ?? "no offering with a synchronous plan") }
        return (offering, syncPlan)
    }

    func requireKind() throws -> (kind: String, type: String) {
        let (offering, _) = try requireOffering()
        guard let providerKind else { throw CaseSkip("no configured provider shows which kind serves '\(offering)'") }
        return (providerKind, offering)
    }

    func requireOther() throws -> WireClient {
        guard let other else { throw CaseSkip("needs --other-tenant and --other-token") }
        return other
    }

    // MARK: Requests

    /// Creates a session (201 expected), deleted after the case.
    func session(_ scope: CaseScope, timeout: Int = 30, on target: WireClient? = nil) async throws -> (id: String, token: String, reply: HTTPReply) {
        let client = target ?? self.client
        let reply = try await client.send(.POST, "/sessions", body: .json(["heartbeat_timeout": .int(Int64(timeout))])).expect(201, because: "creating a session")
        let id = try unwrap(reply["id"]?.stringValue, "\(reply.request): no id")
        scope.cleanup { _ = try? await client.send(.DELETE, "/sessions/\(id)") }
        return (id, try unwrap(reply["token"]?.stringValue, "\(reply.request): no token"), reply)
    }

    /// Registers a provider of the offering's kind (201 expected), deleted after the case.
    func provider(_ scope: CaseScope, _ extra: JSONValue = [:], on target: WireClient? = nil, id: String? = nil) async throws -> (id: String, reply: HTTPReply) {
        let client = target ?? self.client
        let (kind, type) = try requireKind()
        let id = id ?? uniqueName("provider")
        var body = extra.objectValue ?? [:]
        body["id"] = .string(id)
        body["kind"] = body["kind"] ?? .string(kind)
        body["type"] = body["type"] ?? .string(type)
        let reply = try await client.send(.POST, "/providers", body: .json(.object(body)))
        scope.cleanup { _ = try? await client.send(.DELETE, "/providers/\(id)") }
        try reply.expect(201, because: "registering a provider")
        return (id, reply)
    }

    /// Provisions a service of the synchronous plan (201 expected), deleted after the case.
    func service(_ scope: CaseScope, _ extra: JSONValue = [:], on target: WireClient? = nil) async throws -> (name: String, reply: HTTPReply) {
        let client = target ?? self.client
        let (offering, plan) = try requireOffering()
        var body = extra.objectValue ?? [:]
        body["type"] = body["type"] ?? .string(offering)
        body["plan"] = body["plan"] ?? .string(plan)
        let reply = try await client.send(.POST, "/services", body: .json(.object(body)))
        let name = reply["name"]?.stringValue
        if let name { scope.cleanup { _ = try? await client.send(.DELETE, "/services/\(name)") } }
        try reply.expect(201, because: "provisioning \(offering)/\(plan)")
        return (try unwrap(name, "\(reply.request): no name"), reply)
    }

    /// Every event of the feed (at most 20 pages of 1000).
    func allEvents(type: String? = nil) async throws -> [JSONValue] {
        var events: [JSONValue] = []
        var marker: String?
        for _ in 0..<20 {
            var query = "?limit=1000"
            if let type { query += "&type=\(type)" }
            if let marker { query += "&marker=\(marker)" }
            let reply = try await client.get("/events" + query).expect(200)
            events += reply["values"]?.arrayValue ?? []
            guard let next = reply["metadata"]?["next_marker"]?.stringValue else { break }
            marker = next
        }
        return events
    }

    /// Waits until the expiring session is at least 1.2 s past its deadline; the session.
    func expiredSession() async throws -> ExpiringSession {
        guard let expiring else { throw CaseFailure("the suite could not start its 3-second session (POST /sessions or /providers failed at start)") }
        let wait = expiring.deadline.addingTimeInterval(1.2).timeIntervalSinceNow
        if wait > 0 { try await pause(wait) }
        return expiring
    }

    /// What is wrong with a registry fault, or nil: `{type, code = status, message, details, txnId = X-Response-Id}`.
    static func faultProblem(_ reply: HTTPReply, type: String? = nil) -> String? {
        guard let fault = reply.json?.objectValue else { return "\(reply.request) → \(reply.status): the body is not a fault object: \(reply.summary)" }
        if let type, fault["type"]?.stringValue != type { return "\(reply.request) → \(reply.status): fault type \(fault["type"]?.canonicalText() ?? "absent"), expected \(type)" }
        if fault["code"]?.integerValue != Int64(reply.status) { return "\(reply.request) → \(reply.status): fault code \(fault["code"]?.canonicalText() ?? "absent")" }
        for key in ["type", "message", "details"] where fault[key]?.stringValue?.isEmpty != false {
            return "\(reply.request) → \(reply.status): fault `\(key)` must be a non-empty string"
        }
        if fault["txnId"]?.stringValue == nil || fault["txnId"]?.stringValue != reply.header("X-Response-Id") {
            return "\(reply.request) → \(reply.status): txnId \(fault["txnId"]?.canonicalText() ?? "absent") is not X-Response-Id \(reply.header("X-Response-Id") ?? "(none)")"
        }
        return nil
    }

    /// Fails unless the reply has `status` and a fault of `type`.
    static func expectFault(_ reply: HTTPReply, _ status: Int, _ type: String) throws {
        try reply.expect(status)
        if let problem = faultProblem(reply, type: type) { throw CaseFailure(problem) }
    }
}

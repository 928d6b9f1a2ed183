import AsyncHTTPClient
import BrokerCore
import Foundation
import NIOHTTP1

/// The tsuru service-API suite (`tsuru.md`, T1…T26), against one service endpoint as tsuru
/// registers it (`http://HOST:PORT/tsuru/<service>`): learns the plans from
/// `GET /resources/plans` and which of them provision synchronously.
struct TsuruSuite: Sendable {
    let options: ConformanceOptions
    let http: HTTPClient

    var suite: ConformanceSuite {
        let options = options
        let http = http
        let holder = Locked<TsuruContext?>(nil)
        return ConformanceSuite(
            name: "tsuru",
            prepare: {
                let context = try await TsuruContext.discover(options: options, http: http)
                holder.set(context)
                return TsuruCases(context).all
            },
            finish: { await holder.value?.finish() })
    }
}

/// What the tsuru suite learned, and the instances left for the final clean-up.
final class TsuruContext: Sendable {
    let options: ConformanceOptions
    let client: WireClient
    /// The service name: the endpoint's last path segment (tsuru's default user).
    let service: String
    /// The endpoint's parent (`http://HOST:PORT/tsuru`), when the endpoint has one.
    let parent: String?
    let plansReply: HTTPReply
    let plans: [String]
    let syncPlan: String?
    let discoveryProblem: String?
    private let asyncPlanFound: Locked<String?>
    private let pending = Locked<[String]>([])
    let runningAsync = Locked<(name: String, started: Date)?>(nil)

    static let team = "conformance-team"

    init(
        options: ConformanceOptions, client: WireClient, service: String, parent: String?, plansReply: HTTPReply, plans: [String],
        syncPlan: String?, asyncPlan: String?, discoveryProblem: String?
    ) {
        self.options = options
        self.client = client
        self.service = service
        self.parent = parent
        self.plansReply = plansReply
        self.plans = plans
        self.syncPlan = syncPlan
        self.discoveryProblem = discoveryProblem
        asyncPlanFound = Locked(asyncPlan)
    }

    static func discover(options: ConformanceOptions, http: HTTPClient) async throws -> TsuruContext {
        let base = options.base
        let components = base.split(separator: "/", omittingEmptySubsequences: false)
        let service = String(components.last ?? "")
        guard let url = URL(string: base), !url.path.isEmpty, url.path != "/", !service.isEmpty else {
            throw SetupError("--url must be the service endpoint tsuru calls, e.g. http://127.0.0.1:8080/tsuru/sqlite")
        }
        let parentPath = components.dropLast().joined(separator: "/")
        let parent = URL(string: parentPath).map { $0.path.isEmpty || $0.path == "/" } == false ? parentPath : nil
        let client = WireClient(
            http: http, base: base, timeout: options.timeout, credentials: .basic(options.username ?? service, options.password ?? ""),
            defaultHeaders: [("Accept", "application/json")])
        let reply = try await client.get("/resources/plans")
        if reply.status == 401 || reply.status == 403 {
            throw SetupError("GET \(base)/resources/plans answered \(reply.status): the service refused the credentials (pass --password, and --username if not '\(service)')")
        }
        let plans = (reply.json?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        var sync = options.plan
        var async = options.asyncPlan
        var problem: String? = plans.isEmpty && sync == nil ? "GET /resources/plans gave no plan: \(reply.summary)" : nil
        let context = { TsuruContext(options: options, client: client, service: service, parent: parent, plansReply: reply, plans: plans, syncPlan: sync, asyncPlan: async, discoveryProblem: problem) }
        if sync == nil {
            let probe = context()
            for plan in plans where plan != async {
                let name = uniqueName("probe")
                let created = try await probe.create(name, plan: plan)
                guard created.status == 201 else {
                    problem = problem ?? "probing plan '\(plan)': \(created.request) answered \(created.summary)"
                    continue
                }
                let status = try await client.get("/resources/\(name)/status")
                if status.status == 204 {
                    _ = try? await client.send(.DELETE, "/resources/\(name)")
                    sync = plan
                    break
                }
                probe.addPending(name)
                if status.status == 202 && async == nil { async = plan }
            }
            if sync == nil { problem = "no plan of service '\(service)' is ready at once (status 204 after create)" + (problem.map { ": \($0)" } ?? "") }
            let found = context()
            found.pending.set(probe.pending.value)
            return found
        }
        return context()
    }

    // MARK: Requests

    /// `POST /resources` with tsuru's form fields (plan left out when nil).
    func create(_ name: String, plan: String?, team: String? = team, extra: [FormField] = [], headers: [(String, String?)] = []) async throws -> HTTPReply {
        var fields = [FormField("name", name)]
        if let team { fields.append(FormField("team", team)) }
        fields += [FormField("user", "conformance@example.com"), FormField("eventid", "5f0c1e2d3b4a59687a6b5c4d")]
        if let plan { fields.append(FormField("plan", plan)) }
        return try await client.send(.POST, "/resources", body: .form(fields + extra), headers: headers)
    }

    /// The synchronous plan, or a failure.
    func requireSync() throws -> String {
        guard let syncPlan else { throw CaseFailure(discoveryProblem ?? "no synchronous plan") }
        return syncPlan
    }

    /// A new instance of the synchronous plan (201 expected), removed after the case.
    @discardableResult
    func instance(_ scope: CaseScope, tag: String, plan: String? = nil) async throws -> String {
        let name = uniqueName(tag)
        try await create(name, plan: plan ?? requireSync()).expect(201, because: "creating an instance")
        scope.cleanup { await self.remove(name) }
        return name
    }

    /// Deletes quietly; an instance that is busy (412) is left to the final clean-up.
    func remove(_ name: String) async {
        guard let reply = try? await client.send(.DELETE, "/resources/\(name)") else { return }
        if reply.status == 412 { addPending(name) }
    }

    func addPending(_ name: String) { pending.update { $0.append(name) } }

    /// Binds an app (201 expected); the environment object.
    func bindApp(_ name: String, app: String = "conformance-app") async throws -> HTTPReply {
        try await client.send(
            .POST, "/resources/\(name)/bind-app",
            body: .form([FormField("app-name", app), FormField("app-hosts", "\(app).example.com"), FormField("app-host", "\(app).example.com"), FormField("user", "conformance@example.com")]))
    }

    /// An asynchronous plan: `--async-plan`, one met while probing, or the first other plan whose
    /// new instance reports 202; skipped when every plan is ready at once.
    func asyncPlan() async throws -> String {
        if let found = asyncPlanFound.value { return found }
        for plan in plans where plan != syncPlan {
            let name = uniqueName("async")
            let created = try await create(name, plan: plan)
            guard created.status == 201 else { continue }
            let status = try await client.get("/resources/\(name)/status")
            addPending(name)
            if status.status == 202 {
                asyncPlanFound.set(plan)
                runningAsync.set((name, Date()))
                return plan
            }
        }
        throw CaseSkip("no plan of service '\(service)' reports 202 after create (pass --async-plan to name one)")
    }

    /// An instance of the asynchronous plan still provisioning (status 202).
    func provisioningInstance() async throws -> String {
        let plan = try await asyncPlan()
        if let running = runningAsync.value, try await client.get("/resources/\(running.name)/status").status == 202 { return running.name }
        let name = uniqueName("async")
        try await create(name, plan: plan).expect(201, because: "creating an instance of asynchronous plan '\(plan)'")
        addPending(name)
        runningAsync.set((name, Date()))
        try await client.get("/resources/\(name)/status").expect(202, because: "right after creating an instance of plan '\(plan)'")
        return name
    }

    /// Runs `check` against an instance still provisioning. When the check fails and the instance
    /// has finished meanwhile (a slow machine), it was a race: tries again with a new one (3 attempts).
    func whileProvisioning(_ check: (String) async throws -> Void) async throws {
        var attempt = 0
        while true {
            attempt += 1
            let name = try await provisioningInstance()
            do {
                return try await check(name)
            } catch let failure as CaseFailure {
                if attempt >= 3 { throw failure }
                if try await client.get("/resources/\(name)/status").status == 202 { throw failure }
            }
        }
    }

    /// Waits until `status` is no longer 202 (at most 60 s); the last answer.
    @discardableResult
    func waitUntilSettled(_ name: String) async throws -> HTTPReply {
        let deadline = Date().addingTimeInterval(60)
        while true {
            let reply = try await client.get("/resources/\(name)/status")
            if reply.status != 202 { return reply }
            guard Date() < deadline else { throw CaseFailure("\(reply.request): still 202 after 60 s") }
            try await pause(0.25)
        }
    }

    /// Deletes what is left, waiting for busy instances (at most 30 s).
    func finish() async {
        let names = pending.update { names in
            defer { names = [] }
            return names
        }
        await withTaskGroup(of: Void.self) { group in
            for name in names {
                group.addTask {
                    let deadline = Date().addingTimeInterval(30)
                    while Date() < deadline {
                        guard let reply = try? await self.client.send(.DELETE, "/resources/\(name)"), reply.status == 412 else { return }
                        try? await pause(0.25)
                    }
                }
            }
        }
    }
}

import BrokerCore
import Foundation
import NIOHTTP1

/// An asynchronous operation the suite started: the resource, the 202 answer and its `operation`.
struct OSBAsyncOperation: Sendable {
    let instance: OSBInstance
    let bindingID: String?
    let reply: HTTPReply
    var operation: String? { reply["operation"]?.stringValue }
    var path: String { bindingID.map { "\(instance.path)/service_bindings/\($0)" } ?? instance.path }
}

/// Shared fixtures of the asynchronous flows, so that the cases of one flow share one 3-second
/// operation instead of each starting its own; and the instances the final clean-up deletes.
actor OSBFixtures {
    private var pending: [OSBInstance] = []
    private var values: [String: OSBAsyncOperation] = [:]
    private var replies: [String: HTTPReply] = [:]

    func addPending(_ instance: OSBInstance) { pending.append(instance) }
    func takePending() -> [OSBInstance] {
        defer { pending = [] }
        return pending
    }
    func operation(_ key: String) -> OSBAsyncOperation? { values[key] }
    func setOperation(_ key: String, _ value: OSBAsyncOperation) { values[key] = value }
    func removeOperations(_ keys: [String]) { for key in keys { values[key] = nil } }
    func reply(_ key: String) -> HTTPReply? { replies[key] }
    func setReply(_ key: String, _ value: HTTPReply) { replies[key] = value }
}

extension OSBContext {
    // MARK: What a case needs

    /// The service under test, or a failure naming what discovery found.
    func requireService() throws -> OSBService {
        guard let service else { throw CaseFailure(discoveryProblem ?? "no service to test") }
        return service
    }

    /// The service and its synchronous plan.
    func requireSync() throws -> (OSBService, OSBPlan) {
        let service = try requireService()
        guard let plan = syncPlan else { throw CaseFailure(discoveryProblem ?? "no synchronous plan") }
        return (service, plan)
    }

    /// The service and an asynchronous plan; skipped when the catalog has none.
    func requireAsync() throws -> (OSBService, OSBPlan) {
        let service = try requireService()
        guard let plan = asyncPlan else {
            throw CaseSkip("no plan of service '\(service.name)' answers 422 AsyncRequired (pass --async-plan to name one)")
        }
        return (service, plan)
    }

    /// The service and a bindable synchronous plan; skipped when nothing is bindable.
    func requireBindable() throws -> (OSBService, OSBPlan) {
        let (service, plan) = try requireSync()
        guard service.isBindable(plan) else { throw CaseSkip("plan '\(plan.name)' of service '\(service.name)' is not bindable") }
        return (service, plan)
    }

    /// Another plan of the service than `plan` (for 409 cases).
    func otherPlan(than plan: OSBPlan, in service: OSBService) throws -> OSBPlan {
        guard let other = service.plans.first(where: { $0.id != plan.id }) else {
            throw CaseSkip("service '\(service.name)' has a single plan")
        }
        return other
    }

    // MARK: Requests

    func put(_ path: String, _ body: JSONValue, acceptsIncomplete: Bool = false, headers: [(String, String?)] = []) async throws -> HTTPReply {
        try await client.send(.PUT, path + (acceptsIncomplete ? "?accepts_incomplete=true" : ""), body: .json(body), headers: headers)
    }

    func patch(_ instance: OSBInstance, _ body: JSONValue, acceptsIncomplete: Bool = false) async throws -> HTTPReply {
        try await client.send(.PATCH, instance.path + (acceptsIncomplete ? "?accepts_incomplete=true" : ""), body: .json(body))
    }

    func delete(_ instance: OSBInstance, acceptsIncomplete: Bool = false) async throws -> HTTPReply {
        try await client.send(.DELETE, instance.path + instance.query(acceptsIncomplete: acceptsIncomplete))
    }

    /// Provisions a new instance of the synchronous plan (201 expected) and registers its deletion.
    func provisionSync(_ scope: CaseScope, tag: String, parameters: JSONValue? = nil, plan: OSBPlan? = nil) async throws -> (OSBInstance, HTTPReply) {
        let (service, syncPlan) = try requireSync()
        let instance = OSBInstance(id: uniqueName(tag), service: service, plan: plan ?? syncPlan)
        let reply = try await put(instance.path, OSBBodies.provision(service, instance.plan, parameters: parameters))
        try reply.expect(201, because: "provisioning a synchronous plan")
        scope.cleanup { await self.cleanUp(instance) }
        return (instance, reply)
    }

    /// Deletes an instance without failing: an asynchronous delete is finished by the suite's final clean-up.
    func cleanUp(_ instance: OSBInstance) async {
        guard let reply = try? await delete(instance, acceptsIncomplete: true) else { return }
        if reply.status == 202 || reply.status == 422 { await fixtures.addPending(instance) }
    }

    /// Binds the instance (201 expected) and registers the unbind.
    func bindSync(_ scope: CaseScope, _ instance: OSBInstance, app: String = "conformance-app") async throws -> (String, HTTPReply) {
        let bindingID = uniqueName("binding")
        let reply = try await put(bindingPath(instance, bindingID), OSBBodies.bind(instance.service, instance.plan, app: app))
        try reply.expect(201, because: "binding")
        scope.cleanup { _ = try? await self.client.send(.DELETE, self.bindingPath(instance, bindingID) + instance.query(acceptsIncomplete: true)) }
        return (bindingID, reply)
    }

    func bindingPath(_ instance: OSBInstance, _ bindingID: String) -> String {
        "\(instance.path)/service_bindings/\(bindingID)"
    }

    /// Polls `<path>/last_operation` until the answer is no longer `200 in progress` (at most 60 s);
    /// `each` sees every answer. Sleeps by `Retry-After`, between 0.2 and 0.5 s.
    @discardableResult
    func waitForOperation(
        _ path: String, operation: String? = nil, each: (HTTPReply) throws -> Void = { _ in }
    ) async throws -> HTTPReply {
        let query = operation.map { "?operation=\($0.urlQueryEncoded)" } ?? ""
        let deadline = Date().addingTimeInterval(60)
        while true {
            let reply = try await client.get(path + "/last_operation" + query)
            try each(reply)
            guard reply.status == 200, reply["state"]?.stringValue == "in progress" else { return reply }
            guard Date() < deadline else { throw CaseFailure("\(reply.request): still in progress after 60 s") }
            let retryAfter = reply.header("Retry-After").flatMap(Double.init) ?? 0.5
            try await pause(min(max(retryAfter, 0.2), 0.5))
        }
    }

    /// Whether `last_operation` of `path` still says `in progress`.
    func inProgress(_ path: String) async throws -> Bool {
        let reply = try await client.get(path + "/last_operation")
        return reply.status == 200 && reply["state"]?.stringValue == "in progress"
    }

    /// Whether this operation (asked for by its `operation` value) is still running.
    func inProgress(_ operation: OSBAsyncOperation) async throws -> Bool {
        let query = operation.operation.map { "?operation=\($0.urlQueryEncoded)" } ?? ""
        let reply = try await client.get(operation.path + "/last_operation" + query)
        return reply.status == 200 && reply["state"]?.stringValue == "in progress"
    }

    /// Runs `check` against an operation that is still running. When the check fails and the
    /// operation has finished meanwhile (a slow machine), it was a race, not a finding: tries again
    /// with a fresh operation from `start` (3 attempts).
    func whileRunning<T>(
        _ start: () async throws -> OSBAsyncOperation, _ check: (OSBAsyncOperation) async throws -> T
    ) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            let running = try await start()
            do {
                return try await check(running)
            } catch let failure as CaseFailure {
                if attempt >= 3 { throw failure }
                if try await inProgress(running) { throw failure }
            }
        }
    }

    // MARK: Shared asynchronous flows

    /// An asynchronous provision that is still running (started now when the last one finished).
    func runningAsyncProvision() async throws -> OSBAsyncOperation {
        if let current = await fixtures.operation("provision"), try await inProgress(current) { return current }
        return try await startAsyncProvision(key: "provision")
    }

    /// Starts an asynchronous provision (202 expected); the suite's final clean-up deletes it.
    func startAsyncProvision(key: String) async throws -> OSBAsyncOperation {
        let (service, plan) = try requireAsync()
        let instance = OSBInstance(id: uniqueName("async"), service: service, plan: plan)
        let reply = try await put(instance.path, OSBBodies.provision(service, plan), acceptsIncomplete: true)
        await fixtures.addPending(instance)
        try reply.expect(202, because: "provisioning asynchronous plan '\(plan.name)' with accepts_incomplete=true")
        let started = OSBAsyncOperation(instance: instance, bindingID: nil, reply: reply)
        await fixtures.setOperation(key, started)
        return started
    }

    /// An instance of the asynchronous plan whose provision has succeeded.
    func completedAsyncInstance() async throws -> OSBInstance {
        if let done = await fixtures.operation("completed") { return done.instance }
        var started = await fixtures.operation("provision")
        if started == nil { started = try await startAsyncProvision(key: "provision") }
        guard let started else { throw CaseFailure("no asynchronous provision") }
        let final = try await waitForOperation(started.instance.path)
        try final.expect(200, because: "polling the asynchronous provision")
        try ensure(final["state"]?.stringValue == "succeeded", "\(final.request): the asynchronous provision ended \(final.summary)")
        await fixtures.setOperation("completed", started)
        return started.instance
    }

    /// An asynchronous bind on the completed asynchronous instance, still running; skipped when
    /// that plan binds synchronously.
    func runningAsyncBind() async throws -> OSBAsyncOperation {
        if let current = await fixtures.operation("bind"), try await inProgress(current) { return current }
        let instance = try await completedAsyncInstance()
        guard instance.service.isBindable(instance.plan) else { throw CaseSkip("asynchronous plan '\(instance.plan.name)' is not bindable") }
        let bindingID = uniqueName("async-binding")
        let reply = try await put(bindingPath(instance, bindingID), OSBBodies.bind(instance.service, instance.plan), acceptsIncomplete: true)
        if reply.status == 201 || reply.status == 200 {
            throw CaseSkip("binding plan '\(instance.plan.name)' is synchronous (\(reply.status)): no asynchronous bind to check")
        }
        try reply.expect(202, because: "binding with accepts_incomplete=true")
        let started = OSBAsyncOperation(instance: instance, bindingID: bindingID, reply: reply)
        await fixtures.setOperation("bind", started)
        return started
    }
}

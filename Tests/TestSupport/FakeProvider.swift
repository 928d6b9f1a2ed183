import BrokerCore
import Foundation

/// A knob-driven provider plugin for crash, delay and failure cases: what it holds is
/// observable, and each call can be made slow, blocked or failing.
public final class FakeBackend: @unchecked Sendable {
    private let lock = NSLock()
    private var _instances: Set<String> = []
    private var _bindings: [String: String] = [:]
    private var _calls: [String] = []
    private var _failures: [String: ProviderError] = [:]
    private var _delays: [String: Duration] = [:]
    private var _gates: [String: [CheckedContinuation<Void, Never>]] = [:]
    private var _closedGates: Set<String> = []

    /// Creates a backend.
    public init() {}

    /// Instances that exist on the backend.
    public var instances: Set<String> { lock.withLock { _instances } }
    /// Live credentials by binding id.
    public var bindings: [String: String] { lock.withLock { _bindings } }
    /// Calls made, as `action:id`.
    public var calls: [String] { lock.withLock { _calls } }
    /// How many calls of an action were made.
    public func count(_ action: String) -> Int { calls.filter { $0.hasPrefix(action + ":") }.count }

    /// Makes an action (`provision`, `bind`, …) fail with this error until cleared.
    public func fail(_ action: String, with error: ProviderError?) { lock.withLock { _failures[action] = error } }
    /// Makes an action take this long.
    public func delay(_ action: String, by duration: Duration?) { lock.withLock { _delays[action] = duration } }
    /// Makes an action wait until `open(_:)` is called.
    public func close(_ action: String) { lock.withLock { _ = _closedGates.insert(action) } }
    /// Releases every call waiting on an action, and later ones.
    public func open(_ action: String) {
        let waiting = lock.withLock {
            _closedGates.remove(action)
            return _gates.removeValue(forKey: action) ?? []
        }
        waiting.forEach { $0.resume() }
    }

    func perform(_ action: String, _ id: String) async throws {
        lock.withLock { _calls.append("\(action):\(id)") }
        let (delay, closed) = lock.withLock { (_delays[action], _closedGates.contains(action)) }
        if closed {
            await withCheckedContinuation { continuation in
                let stillClosed = lock.withLock {
                    if _closedGates.contains(action) {
                        _gates[action, default: []].append(continuation)
                        return true
                    }
                    return false
                }
                if !stillClosed { continuation.resume() }
            }
        }
        if let delay { try? await Task.sleep(for: delay) }
        if let failure = lock.withLock({ _failures[action] }) { throw failure }
    }

    func record(_ body: (inout Set<String>, inout [String: String]) -> Void) {
        lock.withLock { body(&_instances, &_bindings) }
    }

    // MARK: Registry of backends by name, so a factory can find its backend from params.

    nonisolated(unsafe) private static var registry: [String: FakeBackend] = [:]
    private static let registryLock = NSLock()

    /// Registers a backend under a fresh name; pass `["backend": name]` as provider params.
    public static func register(_ backend: FakeBackend) -> String {
        let name = UUID().uuidString
        registryLock.withLock { registry[name] = backend }
        return name
    }

    static func named(_ name: String) -> FakeBackend? {
        registryLock.withLock { registry[name] }
    }
}

/// The `fake` plugin over a `FakeBackend`.
public struct FakeProvider: ProviderPlugin {
    /// The backend.
    public let backend: FakeBackend

    /// The factory: params `{"backend": <name from FakeBackend.register>}`.
    public static let factory = PluginFactory(
        kind: "fake", validate: { params in params["backend"]?.stringValue == nil ? ["'backend' is required"] : [] },
        make: { params, _ in
            guard let name = params["backend"]?.stringValue, let backend = FakeBackend.named(name) else {
                throw ProviderError.invalidParameters("unknown fake backend")
            }
            return FakeProvider(backend: backend)
        })

    public func provision(_ request: ProvisionRequest) async throws -> ProvisionResult {
        try await backend.perform("provision", request.instanceID)
        backend.record { instances, _ in instances.insert(request.instanceID) }
        return ProvisionResult(dashboardURL: "https://dashboard.example/\(request.instanceID)", state: ["plan": request.plan.name])
    }

    public func update(_ request: UpdateRequest) async throws {
        try await backend.perform("update", request.instanceID)
    }

    public func deprovision(_ request: DeprovisionRequest) async throws {
        try await backend.perform("deprovision", request.instanceID)
        backend.record { instances, _ in instances.remove(request.instanceID) }
    }

    public func bind(_ request: BindRequest) async throws -> Credentials {
        try await backend.perform("bind", request.bindingID)
        let password = "pw-\(request.bindingID)-\(UUID().uuidString)"
        backend.record { _, bindings in bindings[request.bindingID] = password }
        return Credentials(["uri": "fake://\(request.instanceID)", "username": request.bindingID, "password": password])
    }

    public func unbind(_ request: UnbindRequest) async throws {
        try await backend.perform("unbind", request.bindingID)
        backend.record { _, bindings in bindings[request.bindingID] = nil }
    }

    public func health() async -> ProviderHealth { .healthy }
}

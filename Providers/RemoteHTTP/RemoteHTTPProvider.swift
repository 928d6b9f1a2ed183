import BrokerCore
import Foundation
import HTTPSupport
import Logging
import NIOHTTP1

/// A remote provider service reached over HTTP: the provider protocol of the original service
/// registry, made precise and versioned (README, "Remote provider protocol v1").
///
/// ```
/// POST   {url}/instances                      {id, name, offering, plan, params} → {state?, dashboard_url?}
/// PATCH  {url}/instances/{id}                 {plan, previous_plan, params, state}
/// DELETE {url}/instances/{id}                 gone already (404/410) is success
/// POST   {url}/instances/{id}/bindings        {id, params, state} → {creds}
/// DELETE {url}/instances/{id}/bindings/{bid}  gone already (404/410) is success
/// GET    {url}/health                         any 2xx
/// ```
/// Deletes are retried with backoff on 5xx and timeouts; a create or bind that fails that way
/// is cleaned up with such a delete before the failure is reported (orphan mitigation).
public struct RemoteHTTPProvider: ProviderPlugin {
    /// The plugin kind.
    public static let kind = "http"
    /// The protocol version Polybroker speaks, sent in `X-Polybroker-Provider-API`.
    public static let protocolVersion = "1"

    let remote: RemoteParams
    let logger: Logger

    var endpoint: RemoteEndpoint { remote.endpoint }

    /// The factory Gateway registers.
    public static let factory = PluginFactory(
        kind: kind, secretParams: RemoteParams.secret,
        validate: { params in RemoteParams.problems(params, kind: kind) },
        make: { params, environment in
            try RemoteHTTPProvider(params: params, logger: environment.logger)
        })

    /// Creates a provider from its params.
    public init(params: JSONValue, logger: Logger) throws {
        remote = try RemoteParams(params, kind: Self.kind, headers: [("X-Polybroker-Provider-API", Self.protocolVersion)])
        self.logger = logger
    }

    static func instancePath(_ id: String) -> String { "/instances/" + RemoteEndpoint.segment(id) }
    static func bindingPath(_ instanceID: String, _ bindingID: String) -> String {
        instancePath(instanceID) + "/bindings/" + RemoteEndpoint.segment(bindingID)
    }

    static func plan(_ plan: PlanReference) -> JSONValue {
        ["id": .string(plan.id), "name": .string(plan.name), "options": .object(plan.options)]
    }

    /// A refusal as a client-safe error.
    func refusal(_ action: String, _ response: RemoteEndpoint.Response) -> ProviderError {
        let because = response.explanation.map { ": \($0)" } ?? ""
        if response.status == 400 || response.status == 422 {
            return .invalidParameters("the provider at \(endpoint.address) refused to \(action) (\(response.status))\(because)")
        }
        return .failed("the provider at \(endpoint.address) failed to \(action) (\(response.status))\(because)")
    }

    // MARK: ProviderPlugin

    public func provision(_ request: ProvisionRequest) async throws -> ProvisionResult {
        let body = try await create(request)
        var state = body?["state"]?.stringMap ?? [:]
        state["protocol_version"] = Self.protocolVersion
        return ProvisionResult(dashboardURL: body?["dashboard_url"]?.stringValue, state: state)
    }

    /// POSTs the create; cleans up when the outcome is unknown.
    func create(_ request: ProvisionRequest) async throws -> JSONValue? {
        let body: JSONValue = [
            "id": .string(request.instanceID), "name": .string(request.name), "offering": .string(request.offering),
            "plan": Self.plan(request.plan), "params": request.parameters,
        ]
        let response: RemoteEndpoint.Response
        do {
            response = try await endpoint.send(.POST, "/instances", body: body)
        } catch {
            try await cleanUp(Self.instancePath(request.instanceID), what: "instance '\(request.instanceID)'")
            throw error
        }
        switch response.status {
        case 200, 201: return response.body
        case 409: throw ProviderError.failed("the provider at \(endpoint.address) already has a different instance '\(request.instanceID)'")
        default:
            if response.isTransient { try await cleanUp(Self.instancePath(request.instanceID), what: "instance '\(request.instanceID)'") }
            throw refusal("create instance '\(request.instanceID)'", response)
        }
    }

    public func update(_ request: UpdateRequest) async throws {
        let body: JSONValue = [
            "plan": Self.plan(request.plan), "previous_plan": Self.plan(request.previousPlan), "params": request.parameters,
            "state": JSONValue(request.state),
        ]
        let response = try await endpoint.send(.PATCH, Self.instancePath(request.instanceID), body: body)
        switch response.status {
        case 200...299: return
        case 405, 501:
            throw ProviderError.failed("the provider at \(endpoint.address) does not support updates")
        case 404: throw ProviderError.failed("the provider at \(endpoint.address) has no instance '\(request.instanceID)'")
        default: throw refusal("update instance '\(request.instanceID)'", response)
        }
    }

    public func deprovision(_ request: DeprovisionRequest) async throws {
        try await remove(Self.instancePath(request.instanceID), what: "instance '\(request.instanceID)'")
    }

    public func bind(_ request: BindRequest) async throws -> Credentials {
        let path = Self.instancePath(request.instanceID) + "/bindings"
        let body: JSONValue = ["id": .string(request.bindingID), "params": request.parameters, "state": JSONValue(request.state)]
        let response: RemoteEndpoint.Response
        do {
            response = try await endpoint.send(.POST, path, body: body)
        } catch {
            try await cleanUp(Self.bindingPath(request.instanceID, request.bindingID), what: "binding '\(request.bindingID)'")
            throw error
        }
        switch response.status {
        case 200, 201:
            guard let creds = response.body?["creds"], let credentials = Credentials(flattening: creds) else {
                throw ProviderError.failed("the provider at \(endpoint.address) answered the bind without a 'creds' object")
            }
            return credentials
        case 404: throw ProviderError.failed("the provider at \(endpoint.address) has no instance '\(request.instanceID)'")
        case 409: throw ProviderError.failed("the provider at \(endpoint.address) already has a different binding '\(request.bindingID)'")
        default:
            if response.isTransient { try await cleanUp(Self.bindingPath(request.instanceID, request.bindingID), what: "binding '\(request.bindingID)'") }
            throw refusal("bind '\(request.bindingID)'", response)
        }
    }

    public func unbind(_ request: UnbindRequest) async throws {
        try await remove(Self.bindingPath(request.instanceID, request.bindingID), what: "binding '\(request.bindingID)'")
    }

    public func health() async -> ProviderHealth {
        do {
            let response = try await endpoint.send(.GET, "/health")
            return (200...299).contains(response.status)
                ? .healthy : .unhealthy("the provider at \(endpoint.address) answered /health with \(response.status)")
        } catch {
            return .unhealthy("cannot reach the provider at \(endpoint.address)")
        }
    }

    // MARK: Removal

    /// DELETEs with retries; gone already is success.
    func remove(_ path: String, what: String) async throws {
        let response = try await endpoint.sendRemoval(.DELETE, path, retry: remote.retry)
        switch response.status {
        case 200...299, 404, 410: return
        default: throw refusal("delete \(what)", response)
        }
    }

    /// Orphan mitigation after a create whose outcome is unknown.
    func cleanUp(_ path: String, what: String) async throws {
        try await cleanUpOrphan(what, logger: logger) { try await remove(path, what: what) }
    }
}

import BrokerCore
import Foundation
import HTTPSupport
import Logging
import NIOHTTP1

/// Any Open Service Broker as a provider: Polybroker plays the platform towards it, as Cloud
/// Foundry does: `X-Broker-API-Version`, an originating identity, `accepts_incomplete=true`,
/// `last_operation` polled at the broker's `Retry-After`, and orphan mitigation (a delete) when a
/// provision or bind ends in a 5xx, a timeout or an unreadable 201.
///
/// An offering's plans map onto the upstream catalog by name or id: the plan options
/// `upstream_service` and `upstream_plan` when given, else the provider param `service`, else the
/// offering's and the plan's own names.
public struct UpstreamOSBProvider: ProviderPlugin {
    /// The plugin kind.
    public static let kind = "osb"

    let remote: RemoteParams
    let apiVersion: String
    let defaultService: String?
    let pollIntervalSeconds: Double
    let maxPollSeconds: Double
    let catalog: CatalogCache
    let logger: Logger

    var endpoint: RemoteEndpoint { remote.endpoint }

    static let ownParams: Set<String> = ["api_version", "service", "poll_interval_seconds", "max_poll_seconds"]

    /// The factory Gateway registers.
    public static let factory = PluginFactory(
        kind: kind, secretParams: RemoteParams.secret,
        validate: { params in
            var problems = RemoteParams.problems(params, kind: kind, extra: ownParams)
            if let version = params["api_version"], !(version.stringValue ?? "").hasPrefix("2.") {
                problems.append("'api_version' must be a 2.x version such as \"2.17\"")
            }
            if let service = params["service"], (service.stringValue ?? "").isEmpty { problems.append("'service' must be a service name or id") }
            for key in ["poll_interval_seconds", "max_poll_seconds"] where params[key] != nil && (params[key]?.numberValue ?? 0) <= 0 {
                problems.append("'\(key)' must be a positive number")
            }
            return problems
        },
        make: { params, environment in
            try UpstreamOSBProvider(params: params, logger: environment.logger)
        })

    /// Creates a provider from its params.
    public init(params: JSONValue, logger: Logger) throws {
        if let problem = Self.factory.validate(params).first { throw ProviderError.invalidParameters(problem) }
        apiVersion = params["api_version"]?.stringValue ?? "2.17"
        let identity = Data(#"{"user_id":"polybroker"}"#.utf8).base64EncodedString()
        remote = try RemoteParams(
            params, kind: Self.kind, extra: Self.ownParams,
            headers: [("X-Broker-API-Version", apiVersion), ("X-Broker-API-Originating-Identity", "polybroker \(identity)")])
        defaultService = params["service"]?.stringValue
        pollIntervalSeconds = params["poll_interval_seconds"]?.numberValue ?? 5
        maxPollSeconds = params["max_poll_seconds"]?.numberValue ?? 3600
        catalog = CatalogCache()
        self.logger = logger
    }

    // MARK: Catalog

    /// The upstream service and plan ids of an offering's plan.
    struct Target: Sendable, Equatable {
        var serviceID: String
        var planID: String
    }

    actor CatalogCache {
        var services: [JSONValue]?
        func get() -> [JSONValue]? { services }
        func set(_ services: [JSONValue]) { self.services = services }
    }

    func fetchCatalog(refresh: Bool) async throws -> [JSONValue] {
        if !refresh, let cached = await catalog.get() { return cached }
        let response = try await endpoint.send(.GET, "/v2/catalog", headers: requestIdentity())
        guard response.status == 200, let services = response.body?["services"]?.arrayValue else {
            throw ProviderError.unreachable("the broker at \(endpoint.address) answered its catalog with \(response.status)")
        }
        await catalog.set(services)
        return services
    }

    func target(offering: String?, plan: PlanReference) async throws -> Target {
        let serviceKey = plan.options["upstream_service"]?.stringValue ?? defaultService ?? offering
        let planKey = plan.options["upstream_plan"]?.stringValue ?? plan.name
        for refresh in [false, true] {
            let services = try await fetchCatalog(refresh: refresh)
            let candidates = services.filter { service in
                guard let serviceKey else { return true }
                return service["id"]?.stringValue == serviceKey || service["name"]?.stringValue == serviceKey
            }
            let matches = candidates.flatMap { service in
                (service["plans"]?.arrayValue ?? []).filter { $0["id"]?.stringValue == planKey || $0["name"]?.stringValue == planKey }
                    .compactMap { plan -> Target? in
                        guard let serviceID = service["id"]?.stringValue, let planID = plan["id"]?.stringValue else { return nil }
                        return Target(serviceID: serviceID, planID: planID)
                    }
            }
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 {
                throw ProviderError.failed("plan '\(planKey)' is ambiguous in the catalog of the broker at \(endpoint.address): set the plan option 'upstream_service'")
            }
        }
        throw ProviderError.failed(
            "the broker at \(endpoint.address) has no plan '\(planKey)'\(serviceKey.map { " of service '\($0)'" } ?? "") in its catalog")
    }

    // MARK: Requests

    func requestIdentity() -> [(String, String)] { [("X-Broker-API-Request-Identity", UUID().uuidString.lowercased())] }

    static func instancePath(_ id: String) -> String { "/v2/service_instances/" + RemoteEndpoint.segment(id) }
    static func bindingPath(_ instanceID: String, _ bindingID: String) -> String {
        instancePath(instanceID) + "/service_bindings/" + RemoteEndpoint.segment(bindingID)
    }

    func refusal(_ action: String, _ response: RemoteEndpoint.Response) -> ProviderError {
        let error = response.body?["error"]?.stringValue.map { " \($0)" } ?? ""
        let because = response.body?["description"]?.stringValue.map { ": \(String($0.prefix(300)))" } ?? ""
        let message = "the broker at \(endpoint.address) refused to \(action) (\(response.status)\(error))\(because)"
        return response.status == 400 || response.status == 422 ? .invalidParameters(message) : .failed(message)
    }

    /// Polls a `last_operation` resource until the operation started by `accepted` (a 202) ends;
    /// `true` when it ended in `gone` (410, for deletes). The first poll comes after the 202's
    /// `Retry-After`, else after at most 2 s; later ones after each answer's `Retry-After`, else
    /// after `poll_interval_seconds`.
    @discardableResult
    func poll(
        _ path: String, target: Target, accepted: RemoteEndpoint.Response, action: String, goneIsSuccess: Bool = false
    ) async throws -> Bool {
        var query = [("service_id", target.serviceID), ("plan_id", target.planID)]
        if let operation = accepted.body?["operation"]?.stringValue { query.append(("operation", operation)) }
        let deadline = Date().addingTimeInterval(maxPollSeconds)
        var wait = accepted.retryAfterSeconds ?? min(pollIntervalSeconds, 2)
        while true {
            try await Task.sleep(nanoseconds: UInt64(min(max(wait, 0.2), 600) * 1_000_000_000))
            let response: RemoteEndpoint.Response
            do {
                response = try await endpoint.send(.GET, path + "/last_operation", query: query, headers: requestIdentity())
            } catch let error as ProviderError {
                // A broker that cannot be reached for a moment is polled again, as platforms do.
                logger.info("last_operation poll failed", metadata: ["reason": "\(error)"])
                if Date() > deadline { throw error }
                continue
            }
            if response.status == 410 && goneIsSuccess { return true }
            guard response.status == 200, let state = response.body?["state"]?.stringValue else {
                if response.isTransient && Date() <= deadline { continue }
                throw refusal("report on '\(action)'", response)
            }
            switch state {
            case "succeeded": return false
            case "failed":
                let because = response.body?["description"]?.stringValue.map { ": \(String($0.prefix(300)))" } ?? ""
                throw ProviderError.failed("the broker at \(endpoint.address) failed to \(action)\(because)")
            default:
                if Date() > deadline {
                    throw ProviderError.failed("the broker at \(endpoint.address) did not finish '\(action)' within \(Int(maxPollSeconds)) s")
                }
                wait = response.retryAfterSeconds ?? pollIntervalSeconds
            }
        }
    }

    // MARK: ProviderPlugin

    public func provision(_ request: ProvisionRequest) async throws -> ProvisionResult {
        let target = try await target(offering: request.offering, plan: request.plan)
        let path = Self.instancePath(request.instanceID)
        let body: JSONValue = [
            "service_id": .string(target.serviceID), "plan_id": .string(target.planID),
            "organization_guid": "polybroker", "space_guid": "polybroker",
            "context": ["platform": "polybroker", "instance_name": .string(request.name)],
            "parameters": request.parameters,
        ]
        let state = ["service_id": target.serviceID, "plan_id": target.planID]
        let response: RemoteEndpoint.Response
        do {
            response = try await endpoint.send(.PUT, path, query: [("accepts_incomplete", "true")], body: body, headers: requestIdentity())
        } catch {
            try await mitigate(path, target: target, what: "instance '\(request.instanceID)'")
            throw error
        }
        switch response.status {
        case 200, 201:
            guard let body = response.body, body.objectValue != nil else {
                try await mitigate(path, target: target, what: "instance '\(request.instanceID)'")
                throw ProviderError.failed("the broker at \(endpoint.address) answered the provision with an unreadable body")
            }
            return ProvisionResult(dashboardURL: body["dashboard_url"]?.stringValue, state: state)
        case 202:
            try await poll(path, target: target, accepted: response, action: "provision '\(request.instanceID)'")
            return ProvisionResult(dashboardURL: response.body?["dashboard_url"]?.stringValue, state: state)
        case 409: throw ProviderError.failed("the broker at \(endpoint.address) already has a different instance '\(request.instanceID)'")
        default:
            if response.isTransient { try await mitigate(path, target: target, what: "instance '\(request.instanceID)'") }
            throw refusal("provision '\(request.instanceID)'", response)
        }
    }

    public func update(_ request: UpdateRequest) async throws {
        let target = try await target(offering: request.state["service_id"], plan: request.plan)
        let previous = Target(serviceID: request.state["service_id"] ?? target.serviceID, planID: request.state["plan_id"] ?? target.planID)
        let path = Self.instancePath(request.instanceID)
        let body: JSONValue = [
            "service_id": .string(target.serviceID), "plan_id": .string(target.planID), "parameters": request.parameters,
            "previous_values": ["service_id": .string(previous.serviceID), "plan_id": .string(previous.planID)],
            "context": ["platform": "polybroker"],
        ]
        let response = try await endpoint.send(.PATCH, path, query: [("accepts_incomplete", "true")], body: body, headers: requestIdentity())
        switch response.status {
        case 200: return
        case 202: try await poll(path, target: target, accepted: response, action: "update '\(request.instanceID)'")
        default: throw refusal("update '\(request.instanceID)'", response)
        }
    }

    public func deprovision(_ request: DeprovisionRequest) async throws {
        let target = try await storedTarget(request.state, plan: request.plan)
        try await remove(Self.instancePath(request.instanceID), target: target, what: "instance '\(request.instanceID)'")
    }

    public func bind(_ request: BindRequest) async throws -> Credentials {
        let target = try await storedTarget(request.state, plan: request.plan)
        let path = Self.bindingPath(request.instanceID, request.bindingID)
        let body: JSONValue = [
            "service_id": .string(target.serviceID), "plan_id": .string(target.planID),
            "bind_resource": ["app_guid": .string(request.bindingID)], "context": ["platform": "polybroker"],
            "parameters": request.parameters,
        ]
        let response: RemoteEndpoint.Response
        do {
            response = try await endpoint.send(.PUT, path, query: [("accepts_incomplete", "true")], body: body, headers: requestIdentity())
        } catch {
            try await mitigate(path, target: target, what: "binding '\(request.bindingID)'")
            throw error
        }
        var answer = response.body
        switch response.status {
        case 200, 201: break
        case 202:
            try await poll(path, target: target, accepted: response, action: "bind '\(request.bindingID)'")
            let fetched = try await endpoint.send(.GET, path, query: [("service_id", target.serviceID), ("plan_id", target.planID)], headers: requestIdentity())
            guard fetched.status == 200 else { throw refusal("hand out binding '\(request.bindingID)'", fetched) }
            answer = fetched.body
        case 409: throw ProviderError.failed("the broker at \(endpoint.address) already has a different binding '\(request.bindingID)'")
        default:
            if response.isTransient { try await mitigate(path, target: target, what: "binding '\(request.bindingID)'") }
            throw refusal("bind '\(request.bindingID)'", response)
        }
        guard let credentials = answer?["credentials"].flatMap(Credentials.init(flattening:)) else {
            if response.status == 201 { try await mitigate(path, target: target, what: "binding '\(request.bindingID)'") }
            throw ProviderError.failed("the broker at \(endpoint.address) answered the bind without a 'credentials' object")
        }
        return credentials
    }

    public func unbind(_ request: UnbindRequest) async throws {
        guard let serviceID = request.state["service_id"], let planID = request.state["plan_id"] else {
            throw ProviderError.failed("instance '\(request.instanceID)' has no upstream service and plan on record")
        }
        let target = Target(serviceID: serviceID, planID: planID)
        try await remove(Self.bindingPath(request.instanceID, request.bindingID), target: target, what: "binding '\(request.bindingID)'")
    }

    public func health() async -> ProviderHealth {
        do {
            _ = try await fetchCatalog(refresh: true)
            return .healthy
        } catch {
            return .unhealthy("the broker at \(endpoint.address) is not answering its catalog")
        }
    }

    // MARK: Removal

    /// The upstream ids kept at provision, or looked up again when provision never returned.
    func storedTarget(_ state: [String: String], plan: PlanReference) async throws -> Target {
        if let serviceID = state["service_id"], let planID = state["plan_id"] {
            // The plan may have changed since: the current plan's id, in the same service.
            if let current = try? await target(offering: serviceID, plan: plan) { return current }
            return Target(serviceID: serviceID, planID: planID)
        }
        return try await target(offering: nil, plan: plan)
    }

    /// DELETE with `accepts_incomplete`, retried on 5xx and timeouts; 410 (gone) is success.
    func remove(_ path: String, target: Target, what: String) async throws {
        let query = [("service_id", target.serviceID), ("plan_id", target.planID), ("accepts_incomplete", "true")]
        let response = try await endpoint.sendRemoval(.DELETE, path, query: query, retry: remote.retry)
        switch response.status {
        case 200, 204, 404, 410: return
        case 202:
            try await poll(path, target: target, accepted: response, action: "delete \(what)", goneIsSuccess: true)
        default: throw refusal("delete \(what)", response)
        }
    }

    /// Orphan mitigation as Cloud Foundry does it.
    func mitigate(_ path: String, target: Target, what: String) async throws {
        try await cleanUpOrphan(what, logger: logger) { try await remove(path, target: target, what: what) }
    }
}

import AsyncHTTPClient
import BrokerCore
import Foundation
import NIOHTTP1

/// The Open Service Broker API v2 suite (`osb.md`): learns a service and plans from
/// `GET /v2/catalog` (probing which plans are synchronous), then checks G, C, P, L, F, U, D, B, BL,
/// FB, UB, I and O.
struct OSBSuite: Sendable {
    let options: ConformanceOptions
    let client: WireClient

    init(options: ConformanceOptions, http: HTTPClient) {
        self.options = options
        let credentials: RequestAuth = options.username.map { .basic($0, options.password ?? "") } ?? .none
        client = WireClient(
            http: http, base: options.base, timeout: options.timeout, credentials: credentials,
            defaultHeaders: [("X-Broker-API-Version", options.apiVersion), ("Accept", "application/json")])
    }

    var suite: ConformanceSuite {
        let client = client
        let options = options
        let holder = ContextHolder()
        return ConformanceSuite(
            name: "osb",
            prepare: {
                let context = try await OSBContext.discover(client: client, options: options)
                holder.set(context)
                return OSBCases(context).all
            },
            finish: { await holder.context?.finish() })
    }
}

/// Keeps the discovered context for the suite's final clean-up.
final class ContextHolder: Sendable {
    private let box = Locked<OSBContext?>(nil)
    func set(_ context: OSBContext) { box.set(context) }
    var context: OSBContext? { box.value }
}

/// A service of the catalog, as far as the suite needs it.
struct OSBService: Sendable {
    let id: String
    let name: String
    let bindable: Bool
    let instancesRetrievable: Bool
    let bindingsRetrievable: Bool
    let planUpdateable: Bool
    let allowContextUpdates: Bool
    let plans: [OSBPlan]
    let raw: JSONValue

    init?(_ raw: JSONValue) {
        guard let id = raw["id"]?.stringValue, let name = raw["name"]?.stringValue else { return nil }
        self.id = id
        self.name = name
        bindable = raw["bindable"]?.boolValue ?? false
        instancesRetrievable = raw["instances_retrievable"]?.boolValue ?? false
        bindingsRetrievable = raw["bindings_retrievable"]?.boolValue ?? false
        planUpdateable = raw["plan_updateable"]?.boolValue ?? false
        allowContextUpdates = raw["allow_context_updates"]?.boolValue ?? false
        plans = (raw["plans"]?.arrayValue ?? []).compactMap(OSBPlan.init)
        self.raw = raw
    }

    func isBindable(_ plan: OSBPlan) -> Bool { plan.bindable ?? bindable }
    func matches(_ key: String) -> Bool { id == key || name == key }
}

/// A plan of the catalog.
struct OSBPlan: Sendable {
    let id: String
    let name: String
    let bindable: Bool?
    let maintenanceVersion: String?
    let raw: JSONValue

    init?(_ raw: JSONValue) {
        guard let id = raw["id"]?.stringValue, let name = raw["name"]?.stringValue else { return nil }
        self.id = id
        self.name = name
        bindable = raw["bindable"]?.boolValue
        maintenanceVersion = raw["maintenance_info"]?["version"]?.stringValue
        self.raw = raw
    }

    func matches(_ key: String) -> Bool { id == key || name == key }
}

/// What the suite learned from the server, plus the shared fixtures of the asynchronous flows.
final class OSBContext: Sendable {
    let options: ConformanceOptions
    let client: WireClient
    /// The first `GET /v2/catalog` answer.
    let catalogReply: HTTPReply
    /// Every service of the catalog (empty when the catalog is unusable).
    let services: [OSBService]
    /// The service under test, its synchronous plan and (when found) its asynchronous plan.
    let service: OSBService?
    let syncPlan: OSBPlan?
    let asyncPlan: OSBPlan?
    /// Why the service or a plan is missing.
    let discoveryProblem: String?
    let fixtures = OSBFixtures()

    init(
        options: ConformanceOptions, client: WireClient, catalogReply: HTTPReply, services: [OSBService], service: OSBService?,
        syncPlan: OSBPlan?, asyncPlan: OSBPlan?, discoveryProblem: String?
    ) {
        self.options = options
        self.client = client
        self.catalogReply = catalogReply
        self.services = services
        self.service = service
        self.syncPlan = syncPlan
        self.asyncPlan = asyncPlan
        self.discoveryProblem = discoveryProblem
    }

    /// Reads the catalog and picks what to provision: `--offering`/`--plan`/`--async-plan`, else
    /// the first bindable service, probing its plans with a provision without
    /// `accepts_incomplete` (201 → synchronous, deleted again; 422 AsyncRequired → asynchronous).
    static func discover(client: WireClient, options: ConformanceOptions) async throws -> OSBContext {
        let reply = try await client.get("/v2/catalog")
        if reply.status == 401 || reply.status == 403 {
            throw SetupError("GET \(options.base)/v2/catalog answered \(reply.status): the broker refused the credentials (pass --username and --password)")
        }
        let services = (reply.status == 200 ? reply["services"]?.arrayValue ?? [] : []).compactMap(OSBService.init)
        func context(_ service: OSBService?, _ sync: OSBPlan?, _ async: OSBPlan?, _ problem: String?) -> OSBContext {
            OSBContext(
                options: options, client: client, catalogReply: reply, services: services, service: service, syncPlan: sync,
                asyncPlan: async, discoveryProblem: problem)
        }
        guard !services.isEmpty else {
            return context(nil, nil, nil, "GET /v2/catalog gave no usable service: \(reply.summary)")
        }
        let service: OSBService
        if let wanted = options.offering {
            guard let found = services.first(where: { $0.matches(wanted) }) else {
                throw SetupError("the catalog has no service '\(wanted)' (has: \(services.map(\.name).joined(separator: ", ")))")
            }
            service = found
        } else {
            service = services.first { $0.bindable && !$0.plans.isEmpty } ?? services.first { !$0.plans.isEmpty } ?? services[0]
        }
        func plan(_ key: String?) throws -> OSBPlan? {
            guard let key else { return nil }
            guard let found = service.plans.first(where: { $0.matches(key) }) else {
                throw SetupError("service '\(service.name)' has no plan '\(key)' (has: \(service.plans.map(\.name).joined(separator: ", ")))")
            }
            return found
        }
        var sync = try plan(options.plan)
        var async = try plan(options.asyncPlan)
        var problem: String?
        if sync == nil || async == nil {
            let probe = OSBProbe(client: client, service: service)
            for candidate in service.plans where candidate.id != sync?.id && candidate.id != async?.id {
                if sync != nil && async != nil { break }
                switch try await probe.kind(of: candidate) {
                case .synchronous where sync == nil: sync = candidate
                case .asynchronous where async == nil: async = candidate
                case .unusable(let why): problem = problem ?? why
                default: break
                }
            }
        }
        if sync == nil {
            problem = "no plan of service '\(service.name)' provisions synchronously" + (problem.map { ": \($0)" } ?? "")
        }
        return context(service, sync, async, sync == nil ? problem : nil)
    }

    /// Deletes what the shared fixtures left, waiting for asynchronous deletes to finish.
    func finish() async {
        let pending = await fixtures.takePending()
        await withTaskGroup(of: Void.self) { group in
            for instance in pending {
                group.addTask { await self.deleteUntilGone(instance) }
            }
        }
    }

    /// Sends `DELETE …?accepts_incomplete=true` until the broker says 410 or 200 (at most 30 s).
    func deleteUntilGone(_ instance: OSBInstance) async {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard let reply = try? await client.send(.DELETE, instance.path + instance.query(acceptsIncomplete: true)) else { return }
            if reply.status == 200 || reply.status == 410 || (400..<500).contains(reply.status) && reply.status != 422 { return }
            try? await pause(0.25)
        }
    }
}

/// A provisioned instance and how to address it.
struct OSBInstance: Sendable {
    let id: String
    let service: OSBService
    let plan: OSBPlan

    var path: String { "/v2/service_instances/\(id)" }

    /// `?service_id=…&plan_id=…[&accepts_incomplete=true]`.
    func query(acceptsIncomplete: Bool) -> String {
        "?service_id=\(service.id.urlQueryEncoded)&plan_id=\(plan.id.urlQueryEncoded)" + (acceptsIncomplete ? "&accepts_incomplete=true" : "")
    }
}

/// Finds out whether a plan provisions synchronously.
struct OSBProbe {
    enum Kind { case synchronous, asynchronous, unusable(String) }
    let client: WireClient
    let service: OSBService

    func kind(of plan: OSBPlan) async throws -> Kind {
        let instance = OSBInstance(id: uniqueName("probe"), service: service, plan: plan)
        let reply = try await client.send(.PUT, instance.path, body: .json(OSBBodies.provision(service, plan)))
        switch reply.status {
        case 200, 201:
            _ = try? await client.send(.DELETE, instance.path + instance.query(acceptsIncomplete: true))
            return .synchronous
        case 422 where reply["error"]?.stringValue == "AsyncRequired":
            return .asynchronous
        default:
            if (200..<300).contains(reply.status) {
                _ = try? await client.send(.DELETE, instance.path + instance.query(acceptsIncomplete: true))
            }
            return .unusable("probing plan '\(plan.name)': \(reply.request) answered \(reply.summary)")
        }
    }
}

/// Request bodies as Cloud Foundry sends them.
enum OSBBodies {
    static let organization = "conformance-org"
    static let space = "conformance-space"

    static func provision(
        _ service: OSBService, _ plan: OSBPlan, organization: String = organization, space: String = space, parameters: JSONValue? = nil
    ) -> JSONValue {
        var body: [String: JSONValue] = [
            "service_id": .string(service.id), "plan_id": .string(plan.id), "organization_guid": .string(organization),
            "space_guid": .string(space),
            "context": [
                "platform": "cloudfoundry", "organization_guid": .string(organization), "space_guid": .string(space),
                "instance_name": "conformance",
            ],
        ]
        if let parameters { body["parameters"] = parameters }
        return .object(body)
    }

    static func bind(_ service: OSBService, _ plan: OSBPlan, app: String = "conformance-app", parameters: JSONValue? = nil) -> JSONValue {
        var body: [String: JSONValue] = [
            "service_id": .string(service.id), "plan_id": .string(plan.id), "app_guid": .string(app),
            "bind_resource": ["app_guid": .string(app)], "context": ["platform": "cloudfoundry"],
        ]
        if let parameters { body["parameters"] = parameters }
        return .object(body)
    }
}

extension JSONValue {
    /// A copy of an object with `key` set (or removed when `value` is nil).
    func setting(_ key: String, _ value: JSONValue?) -> JSONValue {
        var members = objectValue ?? [:]
        members[key] = value
        return .object(members)
    }
}

extension String {
    /// Percent-encoded for a query value.
    var urlQueryEncoded: String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return addingPercentEncoding(withAllowedCharacters: allowed) ?? self
    }
}

import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

/// One answer from any front-end.
struct Reply: Sendable {
    let status: HTTPResponse.Status
    let json: JSONValue?
    let text: String

    subscript(key: String) -> JSONValue? { json?[key] }
}

/// An instance as the creating platform knows it.
struct Made: Sendable {
    /// The canonical id.
    let id: String
    /// The instance name.
    let name: String
}

/// A binding as the platform that made it knows it.
struct Bound: Sendable {
    /// The handle the platform removes it by (a binding id, or the tsuru app name).
    let handle: String
    /// The credential `uri`.
    let uri: String
}

/// The four front-ends, each spoken the way its platform speaks it.
enum Platform: String, CaseIterable, Sendable, CustomStringConvertible {
    case cf, tsuru, apcera, registry

    var description: String { rawValue }

    /// Whether the platform has a read of one instance.
    var canRead: Bool { self != .apcera }

    static let basic = "Basic " + Data("polybroker:\(GatewayFixture.password)".utf8).base64EncodedString()
    /// The platform tenant of `GatewayFixture` (its first registry tenant).
    static let tenant = "acme"

    /// Sends one request; `form` bodies for tsuru, JSON otherwise.
    static func send(
        _ client: any TestClientProtocol, _ platform: Platform, _ method: HTTPRequest.Method, _ path: String, json: JSONValue? = nil,
        form: [(String, String)]? = nil, tsuruOffering: String = "sqlite", token: String = "acme-token"
    ) async throws -> Reply {
        var headers = HTTPFields()
        let uri: String
        switch platform {
        case .cf:
            headers[.authorization] = basic
            headers[HTTPField.Name("X-Broker-API-Version")!] = "2.17"
            uri = "/cf/v2" + path
        case .tsuru:
            headers[.authorization] = "Basic " + Data("\(tsuruOffering):\(GatewayFixture.password)".utf8).base64EncodedString()
            uri = "/tsuru/\(tsuruOffering)/resources" + path
        case .apcera:
            headers[.authorization] = basic
            uri = "/apcera" + path
        case .registry:
            headers[HTTPField.Name("X-Auth-Token")!] = token
            uri = "/registry/v1.0/\(token == "acme-token" ? tenant : "beta")" + path
        }
        var body: ByteBuffer?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            body = ByteBuffer(
                string: form.map { "\($0.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
                    .joined(separator: "&"))
        } else if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: json.canonicalText())
        }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
        let text = String(buffer: response.body)
        return Reply(status: response.status, json: JSONValue.parse(text), text: text)
    }
}

/// Drives one live gateway through any of its front-ends.
struct Platforms: Sendable {
    let client: any TestClientProtocol
    let catalog: Catalog

    var sqlite: Offering { catalog.offering("sqlite")! }
    var small: Plan { sqlite.plans.first { $0.name == "small" }! }

    func send(
        _ platform: Platform, _ method: HTTPRequest.Method, _ path: String, json: JSONValue? = nil, form: [(String, String)]? = nil,
        token: String = "acme-token"
    ) async throws -> Reply {
        try await Platform.send(client, platform, method, path, json: json, form: form, token: token)
    }

    /// Creates a `sqlite` `small` instance through a platform.
    func create(through platform: Platform, label: String) async throws -> Made {
        switch platform {
        case .cf:
            let id = UUID().uuidString.lowercased()
            let reply = try await send(
                .cf, .put, "/service_instances/\(id)",
                json: [
                    "service_id": .string(sqlite.id), "plan_id": .string(small.id), "organization_guid": "org-1", "space_guid": "space-1",
                    "context": ["platform": "cloudfoundry", "instance_name": .string(label)],
                ])
            #expect(reply.status == .created, "cf create: \(reply.text)")
            let fetched = try await send(.registry, .get, "/services?type=sqlite")
            let name = fetched["values"]?.arrayValue?.first { $0["id"] == .string(id) }?["name"]?.stringValue
            return Made(id: id, name: try #require(name))
        case .tsuru:
            let name = "Tsuru_\(label)"
            let reply = try await send(.tsuru, .post, "", form: [("name", name), ("plan", "small"), ("team", "team-a"), ("user", "dev@example.com")])
            #expect(reply.status == .created, "tsuru create: \(reply.text)")
            let found = try await send(.registry, .get, "/services/\(name)")
            return Made(id: try #require(found["id"]?.stringValue), name: name)
        case .apcera:
            let name = "apcera.\(label)"
            let reply = try await send(.apcera, .post, "/services", json: ["name": .string(name), "params": ["offering": "sqlite", "plan": "small"]])
            #expect(reply.status == .ok, "apcera create: \(reply.text)")
            return Made(id: try #require(reply["id"]?.stringValue), name: name)
        case .registry:
            let name = "reg-\(label)"
            let reply = try await send(.registry, .post, "/services", json: ["name": .string(name), "type": "sqlite", "plan": "small"])
            #expect(reply.status == .created, "registry create: \(reply.text)")
            return Made(id: try #require(reply["id"]?.stringValue), name: name)
        }
    }

    /// Reads the instance through a platform that can read; returns what identifies it there.
    func fetch(_ made: Made, through platform: Platform) async throws -> Reply {
        switch platform {
        case .cf: try await send(.cf, .get, "/service_instances/\(made.id)")
        case .tsuru: try await send(.tsuru, .get, "/\(made.name)")
        case .registry: try await send(.registry, .get, "/services/\(made.name)")
        case .apcera: Reply(status: .methodNotAllowed, json: nil, text: "Apcera has no read of a service")
        }
    }

    /// Binds through a platform.
    func bind(_ made: Made, through platform: Platform) async throws -> Bound {
        switch platform {
        case .cf:
            let id = UUID().uuidString.lowercased()
            let reply = try await send(
                .cf, .put, "/service_instances/\(made.id)/service_bindings/\(id)",
                json: ["service_id": .string(sqlite.id), "plan_id": .string(small.id), "bind_resource": ["app_guid": "app-1"]])
            #expect(reply.status == .created, "cf bind: \(reply.text)")
            return Bound(handle: id, uri: try #require(reply["credentials"]?["uri"]?.stringValue))
        case .tsuru:
            let app = "app-\(UUID().uuidString.prefix(6).lowercased())"
            let reply = try await send(.tsuru, .post, "/\(made.name)/bind-app", form: [("app-name", app), ("app-hosts", "\(app).example.com")])
            #expect(reply.status == .created, "tsuru bind-app: \(reply.text)")
            return Bound(handle: app, uri: try #require(reply["POLYBROKER_SQLITE_URI"]?.stringValue))
        case .apcera:
            let reply = try await send(.apcera, .post, "/bindings", json: ["service_id": .string(made.id)])
            #expect(reply.status == .ok, "apcera bind: \(reply.text)")
            return Bound(handle: try #require(reply["id"]?.stringValue), uri: try #require(reply["url"]?.stringValue))
        case .registry:
            let reply = try await send(.registry, .post, "/services/\(made.name)/bindings", json: [:])
            #expect(reply.status == .created, "registry bind: \(reply.text)")
            return Bound(handle: try #require(reply["id"]?.stringValue), uri: try #require(reply["creds"]?["uri"]?.stringValue))
        }
    }

    /// Unbinds through the platform that bound.
    func unbind(_ made: Made, _ bound: Bound, through platform: Platform) async throws {
        let reply: Reply
        switch platform {
        case .cf:
            reply = try await send(.cf, .delete, "/service_instances/\(made.id)/service_bindings/\(bound.handle)?service_id=\(sqlite.id)&plan_id=\(small.id)")
            #expect(reply.status == .ok, "cf unbind: \(reply.text)")
        case .tsuru:
            reply = try await send(.tsuru, .delete, "/\(made.name)/bind-app", form: [("app-name", bound.handle)])
            #expect(reply.status == .ok, "tsuru unbind-app: \(reply.text)")
        case .apcera:
            reply = try await send(.apcera, .delete, "/bindings/\(bound.handle)")
            #expect(reply.status == .ok, "apcera unbind: \(reply.text)")
        case .registry:
            reply = try await send(.registry, .delete, "/services/\(made.name)/bindings/\(bound.handle)")
            #expect(reply.status == .noContent, "registry unbind: \(reply.text)")
        }
    }

    /// Deprovisions through a platform.
    @discardableResult
    func deprovision(_ made: Made, through platform: Platform, force: Bool = false) async throws -> Reply {
        switch platform {
        case .cf: try await send(.cf, .delete, "/service_instances/\(made.id)?service_id=\(sqlite.id)&plan_id=\(small.id)")
        case .tsuru: try await send(.tsuru, .delete, "/\(made.name)")
        case .apcera: try await send(.apcera, .delete, "/services/\(made.id)", json: force ? ["force": true] : nil)
        case .registry: try await send(.registry, .delete, "/services/\(made.name)")
        }
    }

    /// The status a deprovision answers with success on each platform.
    static func deprovisioned(_ platform: Platform) -> HTTPResponse.Status {
        switch platform {
        case .cf, .tsuru, .apcera: .ok
        case .registry: .noContent
        }
    }

    /// Whether the instance is gone as the platform sees it: the read answers 404 (410 for a CF
    /// delete), and for Apcera a delete answers 404.
    func isGone(_ made: Made, through platform: Platform) async throws -> Bool {
        switch platform {
        case .cf:
            let read = try await send(.cf, .get, "/service_instances/\(made.id)")
            let delete = try await deprovision(made, through: .cf)
            return read.status == .notFound && delete.status == .gone
        case .tsuru: return try await send(.tsuru, .get, "/\(made.name)").status == .notFound
        case .apcera: return try await deprovision(made, through: .apcera).status == .notFound
        case .registry: return try await send(.registry, .get, "/services/\(made.name)").status == .notFound
        }
    }
}

extension GatewayFixture {
    /// The shipped configuration on a live gateway, driven through every front-end.
    static func withPlatforms(_ test: @escaping @Sendable (Platforms, Gateway.Handle) async throws -> Void) async throws {
        let directory = TemporaryDirectory("interop")
        let configuration = try GatewayFixture.configuration(in: directory)
        try await withLiveGateway(configuration) { client, handle in
            try await test(Platforms(client: client, catalog: configuration.catalog), handle)
        }
        _ = directory
    }
}

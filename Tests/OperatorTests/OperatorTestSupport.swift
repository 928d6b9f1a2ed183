import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LedgerSQLite
import NIOCore
import Operator
import Testing
import TestSupport

/// One answer from any front-end.
struct Answer {
    let status: HTTPResponse.Status
    let json: JSONValue?
    let text: String

    subscript(key: String) -> JSONValue? { json?[key] }
}

/// Speaks to all four front-ends of a live gateway, each the way its platform does.
struct Platforms: Sendable {
    let client: any TestClientProtocol

    static let basic = "Basic " + Data("polybroker:\(GatewayFixture.password)".utf8).base64EncodedString()
    static let sqlite = ConfigLoader.stableID("offering:sqlite")
    static let small = ConfigLoader.stableID("plan:sqlite/small")
    static let staticAPI = ConfigLoader.stableID("offering:static-api")
    static let standard = ConfigLoader.stableID("plan:static-api/standard")

    func send(
        _ method: HTTPRequest.Method, _ uri: String, json: JSONValue? = nil, form: [String: String]? = nil, authorization: String? = basic,
        headers extra: [String: String] = [:]
    ) async throws -> Answer {
        var headers = HTTPFields()
        if let authorization { headers[.authorization] = authorization }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: json.canonicalText())
        } else if let form {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(
                string: form.sorted { $0.key < $1.key }.map {
                    "\($0.key.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)"
                }.joined(separator: "&"))
        }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
        let data = Data(response.body.readableBytesView)
        return Answer(status: response.status, json: JSONValue.parse(data), text: String(decoding: data, as: UTF8.self))
    }

    /// `/cf/v2/…` with the OSB headers.
    func cf(_ method: HTTPRequest.Method, _ path: String, _ body: JSONValue? = nil) async throws -> Answer {
        try await send(method, "/cf/v2/" + path, json: body, headers: ["X-Broker-API-Version": "2.17"])
    }

    /// `/tsuru/<offering>/resources…` with the offering as user, form bodies.
    func tsuru(_ method: HTTPRequest.Method, _ path: String, offering: String = "sqlite", form: [String: String]? = nil) async throws -> Answer {
        let authorization = "Basic " + Data("\(offering):\(GatewayFixture.password)".utf8).base64EncodedString()
        return try await send(method, "/tsuru/\(offering)/resources" + path, form: form ?? [:], authorization: authorization)
    }

    /// `/apcera/…`.
    func apcera(_ method: HTTPRequest.Method, _ path: String, _ body: JSONValue? = nil) async throws -> Answer {
        try await send(method, "/apcera" + path, json: body)
    }

    /// `/registry/v1.0/<tenant>/…` with the tenant's token.
    func registry(_ method: HTTPRequest.Method, _ path: String, tenant: String = "acme", _ body: JSONValue? = nil) async throws -> Answer {
        try await send(method, "/registry/v1.0/\(tenant)" + path, json: body, authorization: nil, headers: ["X-Auth-Token": "\(tenant)-token"])
    }

    /// A CF provision body.
    static func provision(service: String = sqlite, plan: String = small, org: String = "org-1", space: String = "space-1") -> JSONValue {
        [
            "service_id": .string(service), "plan_id": .string(plan), "organization_guid": .string(org), "space_guid": .string(space),
            "context": ["platform": "cloudfoundry", "organization_guid": .string(org), "space_guid": .string(space)],
        ]
    }

    /// A CF bind body.
    static func bind(service: String = sqlite, plan: String = small, app: String) -> JSONValue {
        ["service_id": .string(service), "plan_id": .string(plan), "app_guid": .string(app), "bind_resource": ["app_guid": .string(app)]]
    }

    /// Fills a gateway with something of everything, through every front-end: instances and bindings
    /// made by CF, tsuru, Apcera and the registry (two tenants), a provider with secret params
    /// registered through Apcera and one through the registry, a deleted instance, events of all.
    func populate() async throws {
        #expect(try await cf(.put, "service_instances/cf-db", Self.provision()).status == .created)
        #expect(try await cf(.put, "service_instances/cf-db/service_bindings/cf-bind", Self.bind(app: "cf-app")).status == .created)
        #expect(try await cf(.put, "service_instances/cf-api", Self.provision(service: Self.staticAPI, plan: Self.standard)).status == .created)
        #expect(
            try await cf(.put, "service_instances/cf-api/service_bindings/cf-api-bind", Self.bind(service: Self.staticAPI, plan: Self.standard, app: "cf-app"))
                .status == .created)
        #expect(try await cf(.put, "service_instances/cf-gone", Self.provision()).status == .created)
        #expect(try await cf(.delete, "service_instances/cf-gone?service_id=\(Self.sqlite)&plan_id=\(Self.small)").status == .ok)
        #expect(try await tsuru(.post, "", form: ["name": "tsuru-db", "team": "red", "plan": "small"]).status == .created)
        #expect(try await tsuru(.post, "/tsuru-db/bind-app", form: ["app-name": "shop"]).status == .created)
        let weather = try await apcera(
            .post, "/providers", ["name": "weather", "type": "generic", "params": ["url": "https://api.weather.example/v1", "api_key": "s3cr3t-key"]])
        #expect(weather.status == .ok)
        let cache = try await apcera(.post, "/services", ["name": "apcera.cache", "params": ["offering": "sqlite", "plan": "small"]])
        #expect(cache.status == .ok)
        let service = try #require(cache["id"])
        #expect(try await apcera(.post, "/bindings", ["service_id": service, "name": "job1"]).status == .ok)
        #expect(try await registry(.post, "/providers", ["id": "edge", "kind": "sqlite", "type": "sqlite"]).status == .created)
        #expect(try await registry(.post, "/services", ["type": "sqlite", "plan": "small", "name": "acme-db", "provider": "edge"]).status == .created)
        #expect(try await registry(.post, "/services", tenant: "beta", ["type": "sqlite", "plan": "small", "name": "beta-db"]).status == .created)
    }
}

/// Test helpers around the operator commands.
enum OperatorFixture {
    /// A configuration on a fresh data folder; `ledgerKey` (base64) is set as POLYBROKER_LEDGER_KEY.
    static func configuration(in directory: TemporaryDirectory, ledgerKey: String? = nil) throws -> GatewayConfiguration {
        var environment: [String: String] = [:]
        if let ledgerKey { environment["POLYBROKER_LEDGER_KEY"] = ledgerKey }
        return try GatewayFixture.configuration(in: directory, environment: environment)
    }

    /// The key a gateway generated in its data folder.
    static func generatedKey(in directory: TemporaryDirectory) throws -> String {
        let data = try #require(FileManager.default.contents(atPath: directory.path("secrets/ledger.key")))
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A new random key in base64.
    static func newKey() -> String {
        Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    /// The export of a configuration's ledger as text.
    static func export(_ configuration: GatewayConfiguration, resealKeyFile: String? = nil) async throws -> String {
        let lines = LineCollector()
        try await LedgerTransfer.export(configuration, resealKeyFile: resealKeyFile) { lines.append($0) }
        return lines.text
    }

    /// A gateway populated through every front-end, shut down again; returns its configuration.
    static func populated(_ directory: TemporaryDirectory) async throws -> GatewayConfiguration {
        let configuration = try configuration(in: directory)
        try await GatewayFixture.withLiveGateway(configuration) { client, handle in
            try await Platforms(client: client).populate()
            await handle.broker.drain(timeout: .seconds(10))
        }
        return configuration
    }
}

/// Collects lines written by an export.
final class LineCollector: @unchecked Sendable {
    private(set) var lines: [String] = []

    func append(_ line: String) { lines.append(line) }

    var text: String { lines.map { $0 + "\n" }.joined() }
}

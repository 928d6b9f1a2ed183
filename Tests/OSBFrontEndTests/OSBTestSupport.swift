import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

/// One HTTP answer, decoded.
struct Reply {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let json: JSONValue?
    let text: String

    subscript(key: String) -> JSONValue? { json?[key] }
}

/// A client speaking OSB to `/cf` over a live port, with the platform's headers.
struct OSBClient {
    let client: any TestClientProtocol
    var username = "polybroker"
    var password = GatewayFixture.password
    var version: String? = "2.17"

    static let requestIdentity = HTTPField.Name("X-Broker-API-Request-Identity")!
    static let originatingIdentity = HTTPField.Name("X-Broker-API-Originating-Identity")!
    static let apiVersion = HTTPField.Name("X-Broker-API-Version")!

    func send(_ method: HTTPRequest.Method, _ path: String, body: JSONValue? = nil, raw: String? = nil, headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = HTTPFields()
        headers[.authorization] = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        if let version { headers[Self.apiVersion] = version }
        headers[.contentType] = "application/json"
        for field in extra { headers[field.name] = field.value }
        let bytes = raw.map { ByteBuffer(string: $0) } ?? body.map { ByteBuffer(bytes: JSONEncoder().encodeSorted($0)) }
        let response = try await client.execute(uri: "/cf/v2/" + path, method: method, headers: headers, body: bytes)
        let data = Data(response.body.readableBytesView)
        return Reply(status: response.status, headers: response.headers, json: JSONValue.parse(data), text: String(decoding: data, as: UTF8.self))
    }

    /// Polls `last_operation` until the state is no longer `in progress`; returns the final reply.
    func poll(_ path: String, operation: String? = nil) async throws -> Reply {
        let query = operation.map { "?operation=\($0)" } ?? ""
        for _ in 0..<300 {
            let reply = try await send(.get, path + "/last_operation" + query)
            if reply.status != .ok || reply["state"] != "in progress" { return reply }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("operation on \(path) did not finish")
        return try await send(.get, path + "/last_operation" + query)
    }
}

extension JSONEncoder {
    func encodeSorted(_ value: JSONValue) -> Data {
        outputFormatting = [.sortedKeys]
        return (try? encode(value)) ?? Data()
    }
}

/// The test catalog's ids and an app built on it.
enum OSBFixture {
    static var configPath: String { Bundle.module.url(forResource: "Fixtures/polybroker-osb", withExtension: "yaml")!.path }

    static func fixture(_ name: String) throws -> JSONValue {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json"))
        return try #require(JSONValue.parse(try Data(contentsOf: url)))
    }

    static let sqlite = ConfigLoader.stableID("offering:sqlite")
    static let small = ConfigLoader.stableID("plan:sqlite/small")
    static let large = ConfigLoader.stableID("plan:sqlite/large")
    static let rotating = ConfigLoader.stableID("plan:sqlite/rotating")
    static let staticAPI = ConfigLoader.stableID("offering:static-api")
    static let standard = ConfigLoader.stableID("plan:static-api/standard")
    static let premium = ConfigLoader.stableID("plan:static-api/premium")

    /// A provision body.
    static func provision(service: String = sqlite, plan: String = small, org: String = "org-1", space: String = "space-1", parameters: JSONValue? = nil) -> JSONValue {
        var body: [String: JSONValue] = [
            "service_id": .string(service), "plan_id": .string(plan), "organization_guid": .string(org), "space_guid": .string(space),
            "context": ["platform": "cloudfoundry", "organization_guid": .string(org), "space_guid": .string(space), "instance_name": "my-db"],
        ]
        if let parameters { body["parameters"] = parameters }
        return .object(body)
    }

    /// A bind body.
    static func bind(service: String = sqlite, plan: String = small, app: String = "app-1", parameters: JSONValue? = nil) -> JSONValue {
        var body: [String: JSONValue] = [
            "service_id": .string(service), "plan_id": .string(plan), "app_guid": .string(app), "bind_resource": ["app_guid": .string(app)],
        ]
        if let parameters { body["parameters"] = parameters }
        return .object(body)
    }

    /// Runs a test against a live server built from the OSB test configuration.
    static func withServer(
        osb settings: [String: JSONValue] = [:], _ test: @escaping @Sendable (OSBClient, Gateway.Handle) async throws -> Void
    ) async throws {
        let directory = TemporaryDirectory("osb")
        var configuration = try GatewayFixture.configuration(in: directory, path: configPath)
        configuration.setFrontEnd("osb", settings)
        try await GatewayFixture.withLiveGateway(configuration) { client, handle in
            try await test(OSBClient(client: client), handle)
        }
        _ = directory
    }
}

import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

/// One answer from `/apcera`.
struct ApceraReply {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let json: JSONValue?

    subscript(key: String) -> JSONValue? { json?[key] }
    var providerState: String? { headers[HTTPField.Name("X-Provider-State")!] }
    var serviceState: String? { headers[HTTPField.Name("X-Service-State")!] }
    var bindingState: String? { headers[HTTPField.Name("X-Binding-State")!] }
    var hasNoState: Bool { providerState == nil && serviceState == nil && bindingState == nil }
}

/// Speaks to `/apcera` as the Apcera platform does: JSON bodies, basic auth, state headers echoed back.
struct ApceraClient: Sendable {
    let client: any TestClientProtocol
    var authorization = "Basic " + Data("polybroker:\(GatewayFixture.password)".utf8).base64EncodedString()

    func send(
        _ method: HTTPRequest.Method, _ path: String, body: JSONValue? = nil, raw: String? = nil, contentType: String? = "application/json",
        provider: String? = nil, service: String? = nil, binding: String? = nil
    ) async throws -> ApceraReply {
        var headers = HTTPFields()
        headers[.authorization] = authorization
        if let contentType { headers[.contentType] = contentType }
        if let provider { headers[HTTPField.Name("X-Provider-State")!] = provider }
        if let service { headers[HTTPField.Name("X-Service-State")!] = service }
        if let binding { headers[HTTPField.Name("X-Binding-State")!] = binding }
        let bytes = raw.map { ByteBuffer(string: $0) } ?? body.map { ByteBuffer(string: $0.canonicalText()) }
        let response = try await client.execute(uri: "/apcera" + path, method: method, headers: headers, body: bytes)
        return ApceraReply(status: response.status, headers: response.headers, json: JSONValue.parse(Data(response.body.readableBytesView)))
    }
}

enum ApceraFixture {
    static var configPath: String { Bundle.module.url(forResource: "Fixtures/polybroker-apcera", withExtension: "yaml")!.path }
    static let stateKey = "apcera-test-state-key-0123456789abcdef"

    static func configuration(in directory: TemporaryDirectory, key: String = stateKey, settings: [String: JSONValue] = [:]) throws -> GatewayConfiguration {
        var configuration = try GatewayFixture.configuration(in: directory, environment: ["POLYBROKER_APCERA_STATE_KEY": key], path: configPath)
        configuration.setFrontEnd("apcera", settings)
        return configuration
    }

    static func withServer(
        key: String = stateKey, settings: [String: JSONValue] = [:], _ test: @escaping @Sendable (ApceraClient, Gateway.Handle) async throws -> Void
    ) async throws {
        let directory = TemporaryDirectory("apcera")
        try await GatewayFixture.withLiveGateway(try configuration(in: directory, key: key, settings: settings)) { client, handle in
            try await test(ApceraClient(client: client), handle)
        }
        _ = directory
    }
}

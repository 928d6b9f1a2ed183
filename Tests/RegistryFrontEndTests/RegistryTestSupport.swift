import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

/// One answer from `/registry`.
struct RegistryReply {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let json: JSONValue?

    subscript(key: String) -> JSONValue? { json?[key] }
    var location: String? { headers[.location] }
    var values: [JSONValue] { json?["values"]?.arrayValue ?? [] }
}

/// Speaks to `/registry/v1.0/<tenant>` with a tenant token.
struct RegistryClient: Sendable {
    let client: any TestClientProtocol
    var tenant = "acme"
    var token: String? = "acme-token"

    func send(_ method: HTTPRequest.Method, _ path: String, body: JSONValue? = nil, raw: String? = nil) async throws -> RegistryReply {
        var headers = HTTPFields()
        if let token { headers[HTTPField.Name("X-Auth-Token")!] = token }
        headers[.contentType] = "application/json"
        let bytes = raw.map { ByteBuffer(string: $0) } ?? body.map { ByteBuffer(string: $0.canonicalText()) }
        let response = try await client.execute(uri: "/registry/v1.0/\(tenant)" + path, method: method, headers: headers, body: bytes)
        return RegistryReply(status: response.status, headers: response.headers, json: JSONValue.parse(Data(response.body.readableBytesView)))
    }
}

enum RegistryFixture {
    static var configPath: String { Bundle.module.url(forResource: "Fixtures/polybroker-registry", withExtension: "yaml")!.path }

    static func withServer(_ test: @escaping @Sendable (RegistryClient, Gateway.Handle) async throws -> Void) async throws {
        let directory = TemporaryDirectory("registry")
        try await GatewayFixture.withLiveGateway(try GatewayFixture.configuration(in: directory, path: configPath)) { client, handle in
            try await test(RegistryClient(client: client), handle)
        }
        _ = directory
    }
}

/// `#expect` on a status, for call sites where the macro cannot see the enclosing `throws`.
func expectStatus(_ reply: RegistryReply, _ status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reply.status == status, sourceLocation: sourceLocation)
}

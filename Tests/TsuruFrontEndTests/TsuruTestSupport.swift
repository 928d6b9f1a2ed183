import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

/// One answer from the tsuru front-end.
struct TsuruReply {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String
    var json: JSONValue? { JSONValue.parse(Data(text.utf8)) }
    var contentType: String? { headers[.contentType] }
}

/// Speaks to `/tsuru/<offering>` as tsuru's client does: basic auth with the service name,
/// form bodies by default (JSON for services with `encoding: json`).
struct TsuruClient: Sendable {
    let client: any TestClientProtocol
    var offering = "sqlite"
    var username: String? = nil
    var password = GatewayFixture.password

    /// A form body, keys and values encoded like Go's `url.Values.Encode()`.
    static func form(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.map { key, value in
            let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: allowed)!.replacingOccurrences(of: "%20", with: "+") }
            return encode(key) + "=" + encode(value)
        }.joined(separator: "&")
    }

    func send(_ method: HTTPRequest.Method, _ path: String, form: [(String, String)]? = nil, json: JSONValue? = nil, raw: String? = nil,
              contentType: String? = nil, headers extra: HTTPFields = [:]) async throws -> TsuruReply {
        var headers = HTTPFields()
        headers[.authorization] = "Basic " + Data("\(username ?? offering):\(password)".utf8).base64EncodedString()
        var body: ByteBuffer?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: Self.form(form))
        } else if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: json.canonicalText() + "\n")
        } else if let raw {
            body = ByteBuffer(string: raw)
        } else if method != .get {
            headers[.contentType] = "application/x-www-form-urlencoded"
        }
        if let contentType { headers[.contentType] = contentType }
        for field in extra { headers[field.name] = field.value }
        let response = try await client.execute(uri: "/tsuru/\(offering)/resources" + path, method: method, headers: headers, body: body)
        return TsuruReply(status: response.status, headers: response.headers, text: String(buffer: response.body))
    }

    func create(_ name: String, plan: String? = nil, team: String = "myteam", extra: [(String, String)] = []) async throws -> TsuruReply {
        var fields = [("name", name), ("team", team), ("user", "dev@example.com"), ("eventid", "5f0c1e2d3b4a5968778695a4")]
        if let plan { fields.append(("plan", plan)) }
        return try await send(.post, "", form: fields + extra)
    }

    /// Polls `status` until it stops answering 202.
    func waitReady(_ name: String) async throws -> TsuruReply {
        for _ in 0..<100 {
            let reply = try await send(.get, "/\(name)/status")
            if reply.status != .accepted { return reply }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await send(.get, "/\(name)/status")
    }
}

enum TsuruFixture {
    static var configPath: String { Bundle.module.url(forResource: "Fixtures/polybroker-tsuru", withExtension: "yaml")!.path }

    static func withServer(_ test: @escaping @Sendable (TsuruClient, Gateway.Handle) async throws -> Void) async throws {
        let directory = TemporaryDirectory("tsuru")
        try await GatewayFixture.withLiveGateway(try GatewayFixture.configuration(in: directory, path: configPath)) { client, handle in
            try await test(TsuruClient(client: client), handle)
        }
        _ = directory
    }
}

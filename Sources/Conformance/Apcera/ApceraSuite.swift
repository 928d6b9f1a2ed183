import AsyncHTTPClient
import BrokerCore
import Foundation
import NIOHTTP1

/// The Apcera service-gateway suite (`apcera.md`, A1…A49): learns the tiers and the default
/// offering from `GET /` (the methods object) and registers `generic` providers of its own.
struct ApceraSuite: Sendable {
    let options: ConformanceOptions
    let http: HTTPClient

    var suite: ConformanceSuite {
        let options = options
        let http = http
        return ConformanceSuite(name: "apcera") {
            let context = try await ApceraContext.discover(options: options, http: http)
            return ApceraCases(context).all
        }
    }
}

/// What the Apcera suite learned from the methods object.
final class ApceraContext: Sendable {
    let options: ConformanceOptions
    let client: WireClient
    let methodsReply: HTTPReply
    /// Whether `/providers` routes are advertised (three tiers).
    let threeTier: Bool
    /// The offering and plan advertised for `POST /services`.
    let defaultOffering: String?
    let defaultPlan: String?

    static let providerState = "X-Provider-State"
    static let serviceState = "X-Service-State"
    static let bindingState = "X-Binding-State"

    init(options: ConformanceOptions, client: WireClient, methodsReply: HTTPReply) {
        self.options = options
        self.client = client
        self.methodsReply = methodsReply
        threeTier = methodsReply["/providers"] != nil
        let params = methodsReply["/services"]?["POST"]?["params"]
        defaultOffering = params?["offering"]?.stringValue
        defaultPlan = params?["plan"]?.stringValue
    }

    static func discover(options: ConformanceOptions, http: HTTPClient) async throws -> ApceraContext {
        let credentials: RequestAuth =
            if let token = options.token { .header("Authorization", "Bearer \(token)") } else { .basic(options.username ?? "", options.password ?? "") }
        let client = WireClient(http: http, base: options.base, timeout: options.timeout, credentials: credentials, defaultHeaders: [("Accept", "application/json")])
        let reply = try await client.get("")
        if reply.status == 401 || reply.status == 403 {
            throw SetupError("GET \(options.base) answered \(reply.status): the gateway refused the credentials (pass --username/--password or --token)")
        }
        return ApceraContext(options: options, client: client, methodsReply: reply)
    }

    // MARK: Requests

    /// Skips unless providers can be registered.
    func requireThreeTier() throws {
        guard threeTier else { throw CaseSkip("two-tier gateway: no /providers routes") }
    }

    /// A secret that must never come back in clear.
    static func secret() -> String { "s3cret-\(UUID().uuidString.lowercased().prefix(12))" }

    /// `generic` provider params: a URL with a password and an API key.
    static func genericParams(password: String, apiKey: String) -> JSONValue {
        ["url": .string("https://conformance:\(password)@api.conformance.example/v1"), "api_key": .string(apiKey)]
    }

    /// Registers a `generic` provider (200 expected), removed after the case.
    func provider(_ scope: CaseScope, name: String? = nil, params: JSONValue? = nil) async throws -> (id: String, reply: HTTPReply) {
        try requireThreeTier()
        var body: [String: JSONValue] = ["type": "generic", "description": "conformance provider", "params": params ?? Self.genericParams(password: Self.secret(), apiKey: Self.secret())]
        if let name { body["name"] = .string(name) }
        let reply = try await client.send(.POST, "/providers", body: .json(.object(body)))
        let id = reply["id"]?.stringValue
        if let id { scope.cleanup { _ = try? await self.client.send(.DELETE, "/providers/\(id)") } }
        try reply.expect(200, because: "registering a generic provider")
        return (try unwrap(id, "\(reply.request): no id in \(reply.summary)"), reply)
    }

    /// Creates a service (200 expected), removed (with its bindings) after the case.
    func service(_ scope: CaseScope, _ body: JSONValue = [:], headers: [(String, String?)] = []) async throws -> (id: String, reply: HTTPReply) {
        let reply = try await client.send(.POST, "/services", body: .json(body), headers: headers)
        let id = reply["id"]?.stringValue
        if let id { scope.cleanup { _ = try? await self.client.send(.DELETE, "/services/\(id)", body: .json(["force": true])) } }
        try reply.expect(200, because: "creating a service")
        return (try unwrap(id, "\(reply.request): no id in \(reply.summary)"), reply)
    }

    /// Creates a binding (200 expected), removed after the case.
    func binding(_ scope: CaseScope, service: String, headers: [(String, String?)] = []) async throws -> (id: String, reply: HTTPReply) {
        let reply = try await client.send(.POST, "/bindings", body: .json(["service_id": .string(service), "name": "conformance-job"]), headers: headers)
        let id = reply["id"]?.stringValue
        if let id { scope.cleanup { _ = try? await self.client.send(.DELETE, "/bindings/\(id)") } }
        try reply.expect(200, because: "binding")
        return (try unwrap(id, "\(reply.request): no id in \(reply.summary)"), reply)
    }

    /// Decodes a state header value: base64url of a JSON body followed by a 32-byte tag.
    static func decodeState(_ value: String) -> (bytes: Data, body: JSONValue?)? {
        var text = value.trimmingCharacters(in: CharacterSet(charactersIn: "="))
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        text = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard let bytes = Data(base64Encoded: text) else { return nil }
        let body = bytes.count > 32 ? JSONValue.parse(Data(bytes.prefix(bytes.count - 32))) : nil
        return (bytes, body)
    }

    /// base64url without padding.
    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// What is wrong with an Apcera error answer, or nil: a JSON object with non-empty `error` and `message`, no state header.
    static func errorProblem(_ reply: HTTPReply) -> String? {
        guard let members = reply.json?.objectValue else { return "\(reply.request) → \(reply.status): the error body is not a JSON object: \(reply.summary)" }
        for key in ["error", "message"] where members[key]?.stringValue?.isEmpty != false {
            return "\(reply.request) → \(reply.status): `\(key)` must be a non-empty string"
        }
        return nil
    }
}

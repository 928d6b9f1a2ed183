import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

/// Polybroker's own registry API at `/registry/v1.0/<tenant>`: sessions and heartbeats,
/// providers, provisioned services and their bindings, offerings and the events feed.
public struct RegistryFrontEnd: Sendable {
    let broker: Broker
    let configuration: RegistryConfiguration

    /// Creates the front-end.
    public init(broker: Broker, configuration: RegistryConfiguration) {
        self.broker = broker
        self.configuration = configuration
    }

    static let responseIDHeader = HTTPField.Name("X-Response-Id")!

    /// Mounts every route on the group (`router.group("registry")`).
    public func mount<Context: RequestContext>(on group: RouterGroup<Context>) {
        /// GET /registry/openapi.yaml → 200, the OpenAPI document (no tenant, no token).
        group.get("openapi.yaml") { _, _ in
            JSONResponse.text(.ok, Self.openAPIDocument, headers: [.contentType: "application/yaml"])
        }
        let tenant = group.group("v1.0/:tenant").add(middleware: RegistryMiddleware<Context>(configuration: configuration))
        mountSessions(on: tenant)
        mountProviders(on: tenant)
        mountServices(on: tenant)
        mountCatalog(on: tenant)
    }

    static let openAPIDocument = FrontEndSettings.openAPIDocument(in: .module)

    /// Renders errors the gateway detects under `/registry` as faults.
    public static let render: ErrorRenderer = { status, message, _, requestID in
        let type: String
        switch status {
        case .notFound: type = "notFoundError"
        case .methodNotAllowed: type = "methodNotAllowed"
        case .contentTooLarge: type = "requestTooLargeError"
        case .badRequest: type = "badRequest"
        default: type = "internalError"
        }
        var response = fault(status, type, status.reasonPhrase, message, txnID: requestID)
        response.headers[responseIDHeader] = requestID
        return response
    }

    /// A fault: `{"type", "code", "message", "details", "txnId"}`.
    static func fault(
        _ status: HTTPResponse.Status, _ type: String, _ message: String, _ details: String, txnID: String, retryAfter: Int? = nil
    ) -> Response {
        var headers: HTTPFields = [:]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return json(
            status,
            ["type": .string(type), "code": .int(Int64(status.code)), "message": .string(message), "details": .string(details), "txnId": .string(txnID)],
            headers: headers)
    }

    /// A JSON answer with `application/json; charset=utf-8`.
    static func json(_ status: HTTPResponse.Status, _ body: JSONValue, headers: HTTPFields = [:]) -> Response {
        var response = JSONResponse.make(status, body, headers: headers)
        response.headers[.contentType] = "application/json; charset=utf-8"
        return response
    }

    /// Runs a core call, mapping its error.
    func call<T: Sendable>(_ body: () async throws(BrokerError) -> T) async throws(RegistryError) -> T {
        do {
            return try await body()
        } catch {
            throw RegistryError(error, retryAfter: configuration.retryAfterSeconds)
        }
    }

    func tenant(_ context: some RequestContext) -> String {
        context.pathParameter("tenant") ?? ""
    }

    func origin(_ context: some RequestContext) -> RequestOrigin {
        RequestOrigin(protocolName: "registry", requestID: context.id)
    }

    /// The absolute URL of a path under the tenant, from `Host` (port kept) and `X-Forwarded-Proto`.
    static func location(_ request: Request, tenant: String, _ path: String) -> String {
        let host = request.head.authority ?? "localhost"
        let scheme = request.headers[HTTPField.Name("X-Forwarded-Proto")!] ?? "http"
        return "\(scheme)://\(host)/registry/v1.0/\(tenant)/\(path)"
    }

    /// The JSON object body, whatever its Content-Type.
    static func body(_ request: Request, required: Bool = true) async throws -> [String: JSONValue] {
        switch try await BodyReader.json(request) {
        case nil:
            if required { throw RegistryError.badRequest("a JSON object body is required") }
            return [:]
        case .failure:
            throw RegistryError.badRequest("the body is not valid JSON")
        case .success(let value):
            guard let members = value.objectValue else { throw RegistryError.badRequest("the body must be a JSON object") }
            return members
        }
    }

    /// A hex SHA-256 of a token: sessions store only this.
    static func hash(_ token: String) -> String {
        sha256Hex(Data(token.utf8))
    }

    /// A new heartbeat token (two UUIDs: 244 random bits).
    static func newToken() -> String {
        (UUID().uuidString + UUID().uuidString).lowercased().replacingOccurrences(of: "-", with: "")
    }

    // MARK: Field checks shared by the routes

    static func string(_ members: [String: JSONValue], _ key: String) throws -> String? {
        guard let value = members[key], !value.isNull else { return nil }
        guard let string = value.stringValue else { throw RegistryError.badRequest("\(key) must be a string") }
        return string
    }

    /// `tags`: at most 10 strings of 1..55 characters.
    static func tags(_ members: [String: JSONValue]) throws -> [String]? {
        guard let value = members["tags"], !value.isNull else { return nil }
        guard let items = value.arrayValue, items.count <= 10,
            let tags = Optional(items.compactMap(\.stringValue)), tags.count == items.count, tags.allSatisfy({ (1...55).contains($0.count) })
        else { throw RegistryError.badRequest("tags must be a list of at most 10 strings of 1 to 55 characters") }
        return tags
    }

    /// `metadata`: at most 20 pairs of strings of 1..255 characters.
    static func metadata(_ members: [String: JSONValue]) throws -> [String: String]? {
        guard let value = members["metadata"], !value.isNull else { return nil }
        guard let object = value.objectValue, object.count <= 20, let map = value.stringMap,
            map.allSatisfy({ (1...255).contains($0.key.count) && (1...255).contains($0.value.count) })
        else { throw RegistryError.badRequest("metadata must be an object of at most 20 string pairs of 1 to 255 characters") }
        return map
    }

    static func milliseconds(_ date: Date?) -> JSONValue {
        date.map { .int(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? .null
    }
}

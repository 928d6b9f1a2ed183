import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

/// The tsuru service-API front-end: each offering looks like one tsuru service API at
/// `/tsuru/<offering>`, as tsuru's own client (`service/endpoint.go`) expects.
public struct TsuruFrontEnd: Sendable {
    let broker: Broker
    let configuration: TsuruConfiguration

    /// Creates the front-end.
    public init(broker: Broker, configuration: TsuruConfiguration) {
        self.broker = broker
        self.configuration = configuration
    }

    /// Mounts every route on the group (`router.group("tsuru")`).
    public func mount<Context: RequestContext>(on group: RouterGroup<Context>) {
        /// GET /tsuru/openapi.yaml → 200, the OpenAPI document of this front-end (no authentication).
        group.get("openapi.yaml") { _, _ in
            JSONResponse.text(.ok, Self.openAPIDocument, headers: [.contentType: "application/yaml"])
        }
        let service = group.group(":offering").add(middleware: TsuruMiddleware<Context>(catalog: broker.catalog, configuration: configuration))
        mountResources(on: service)
        mountBinds(on: service)
    }

    /// Renders errors the gateway detects under `/tsuru` as tsuru's one-line text.
    public static let render: ErrorRenderer = { status, message, _, _ in textError(status, message) }

    /// A `text/plain` error without a trailing newline (tsuru inserts it verbatim before ` (code: N)`).
    static func textError(_ status: HTTPResponse.Status, _ message: String) -> Response {
        JSONResponse.text(status, message.replacingOccurrences(of: "\n", with: " "))
    }

    static let openAPIDocument = FrontEndSettings.openAPIDocument(in: .module)

    /// The offering named in the path (the middleware has checked it exists).
    func offering(_ context: some RequestContext) throws -> Offering {
        let name = context.pathParameter("offering") ?? ""
        guard let offering = broker.catalog.offerings.first(where: { $0.name == name }) else {
            throw TsuruError(.notFound, "no service named '\(name)' here")
        }
        return offering
    }

    /// The instance named in the path, when it is this offering's, of this tenant, and not being removed.
    func instance(_ context: some RequestContext, of offering: Offering, during operation: TsuruOperation) async throws -> Instance {
        let name = context.pathParameter("name") ?? ""
        let aggregate = try await call(operation) { () async throws(BrokerError) in try await broker.instance(.name(name)) }
        guard let instance = aggregate?.instance, instance.offeringID == offering.id, instance.tenant == configuration.tenant,
            instance.state != .deprovisioning, instance.state != .deleted
        else {
            throw TsuruError(.notFound, "service instance '\(name)' not found")
        }
        return instance
    }

    /// Runs a core call, mapping its error for this endpoint.
    func call<T: Sendable>(_ operation: TsuruOperation, _ body: () async throws(BrokerError) -> T) async throws(TsuruError) -> T {
        do {
            return try await body()
        } catch {
            throw TsuruError(error, during: operation)
        }
    }

    /// Who asks: `X-Tsuru-User` / `user`, `X-Tsuru-Eventid` / `eventid`, and the request-id header.
    func origin(_ request: Request, _ context: some RequestContext, _ fields: TsuruFields?) -> RequestOrigin {
        let user = request.headers[HTTPField.Name("X-Tsuru-User")!] ?? (try? fields?.string("user", json: "user")) ?? nil
        let event = request.headers[HTTPField.Name("X-Tsuru-Eventid")!] ?? (try? fields?.string("eventid", json: "eventID")) ?? nil
        let requestID = HTTPField.Name(configuration.requestIDHeader).flatMap { request.headers[$0] } ?? context.id
        return RequestOrigin(protocolName: "tsuru", requestID: requestID, identity: user.map { ["user": .string($0)] }, platformEventID: event)
    }

    /// The app's environment: `POLYBROKER_<OFFERING>_<KEY>` per credential (or the offering's
    /// configured name), values always strings; `{}` without credentials.
    static func environment(_ credentials: Credentials?, offering: Offering) -> JSONValue {
        func sanitize(_ text: String) -> String {
            String(text.uppercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "_" })
        }
        var variables: [String: JSONValue] = [:]
        for (key, value) in credentials?.values ?? [:] {
            let name = offering.credentialNames[key] ?? "POLYBROKER_\(sanitize(offering.name))_\(sanitize(key))"
            variables[name] = .string(value)
        }
        return .object(variables)
    }

    /// The service manifest `tsuru service-create` reads. `username` is left out: tsuru then
    /// sends the service id, which this front-end accepts.
    public static func manifest(service: String, password: String, endpoint: String, team: String?) -> String {
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var lines = ["id: \(service)", "password: \(quoted(password))"]
        if let team { lines.append("team: \(quoted(team))") }
        lines += ["endpoint:", "  production: \(quoted(endpoint))"]
        return lines.joined(separator: "\n")
    }
}

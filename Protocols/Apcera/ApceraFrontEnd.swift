import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

/// The Apcera service-gateway front-end at `/apcera`: providers (three-tier), services and
/// bindings, with the platform keeping each object's state in `X-…-State` headers.
public struct ApceraFrontEnd: Sendable {
    let broker: Broker
    let configuration: ApceraConfiguration
    let state: StateCodec

    /// Creates the front-end.
    public init(broker: Broker, configuration: ApceraConfiguration) {
        self.broker = broker
        self.configuration = configuration
        state = StateCodec(key: configuration.stateKey, previousKeys: configuration.previousStateKeys)
    }

    static let providerStateHeader = HTTPField.Name("X-Provider-State")!
    static let serviceStateHeader = HTTPField.Name("X-Service-State")!
    static let bindingStateHeader = HTTPField.Name("X-Binding-State")!

    /// Mounts every route on the group (`router.group("apcera")`).
    public func mount<Context: RequestContext>(on group: RouterGroup<Context>) {
        /// GET /apcera/openapi.yaml → 200, the OpenAPI document of this front-end (no authentication).
        group.get("openapi.yaml") { _, _ in
            JSONResponse.text(.ok, Self.openAPIDocument, headers: [.contentType: "application/yaml"])
        }
        let api = group.group().add(
            middleware: ApceraMiddleware<Context>(
                credentials: BasicCredentials([(configuration.username, configuration.password)]), bearerToken: configuration.bearerToken))
        /// GET /apcera and GET /apcera/ → 200, the methods object of this gateway.
        api.get("") { _, _ in JSONResponse.make(.ok, methods) }
        if configuration.providerRegistration {
            api.post("providers") { request, context in try await createProvider(request, context) }
            api.delete("providers/:id") { request, context in try await deleteProvider(request, context) }
        }
        api.post("services") { request, context in try await createService(request, context) }
        api.delete("services/:id") { request, context in try await deleteService(request, context) }
        api.post("bindings") { request, context in try await createBinding(request, context) }
        api.delete("bindings/:id") { request, context in try await deleteBinding(request, context) }
    }

    /// Renders errors the gateway detects under `/apcera` as Apcera JSON errors.
    public static let render: ErrorRenderer = { status, message, _, _ in
        let code: String
        switch status {
        case .notFound: code = "not_found"
        case .methodNotAllowed: code = "method_not_allowed"
        case .contentTooLarge: code = "payload_too_large"
        case .badRequest: code = "bad_request"
        default: code = "internal"
        }
        return errorResponse(status, code, message)
    }

    static func errorResponse(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        JSONResponse.make(status, ["error": .string(code), "message": .string(message)])
    }

    static let openAPIDocument = FrontEndSettings.openAPIDocument(in: .module)

    /// The methods object (apcera.md §1.2), advertising the default offering and plan.
    var methods: JSONValue {
        var routes: [String: JSONValue] = [
            "/services": ["POST": ["params": ["offering": .string(defaultOffering?.name ?? ""), "plan": .string(defaultOffering?.plans.first?.name ?? "")]]],
            "/services/:id": ["DELETE": .emptyObject],
            "/bindings": ["POST": .emptyObject],
            "/bindings/:id": ["DELETE": .emptyObject],
        ]
        if configuration.providerRegistration {
            routes["/providers"] = ["POST": ["params": ["url": "postgresql://admin:secret@db.example.com:5432/postgres"]]]
            routes["/providers/:id"] = ["DELETE": .emptyObject]
        }
        return .object(routes)
    }

    /// The offering of a service created without a provider or `params.offering`.
    var defaultOffering: Offering? {
        configuration.defaultOffering.flatMap { broker.catalog.offering($0) } ?? broker.catalog.offerings.first
    }

    /// Runs a core call, mapping its error for this endpoint.
    func call<T: Sendable>(_ operation: ApceraOperation, _ body: () async throws(BrokerError) -> T) async throws(ApceraError) -> T {
        do {
            return try await body()
        } catch {
            throw ApceraError(error, during: operation)
        }
    }

    /// The JSON object body, whatever its Content-Type; an empty body is `{}` where allowed.
    static func body(_ request: Request, required: Bool) async throws -> [String: JSONValue] {
        switch try await BodyReader.json(request) {
        case nil:
            if required { throw ApceraError.badRequest("the request body must be a JSON object") }
            return [:]
        case .failure:
            throw ApceraError.badRequest("the request body is not valid JSON")
        case .success(let value):
            guard let members = value.objectValue else { throw ApceraError.badRequest("the request body must be a JSON object") }
            return members
        }
    }

    /// An optional string field; `null` is absent, another type is 400.
    static func string(_ members: [String: JSONValue], _ key: String) throws -> String? {
        guard let value = members[key], !value.isNull else { return nil }
        guard let string = value.stringValue else { throw ApceraError.badRequest("\(key) must be a string") }
        return string
    }

    /// An optional object field.
    static func object(_ members: [String: JSONValue], _ key: String) throws -> [String: JSONValue] {
        guard let value = members[key], !value.isNull else { return [:] }
        guard let object = value.objectValue else { throw ApceraError.badRequest("\(key) must be a JSON object") }
        return object
    }

    static let namePattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
    static let idPattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"

    /// A name or id checked against its pattern (400 otherwise).
    static func checked(_ value: String?, _ field: String, pattern: String) throws -> String? {
        guard let value else { return nil }
        guard value.wholeMatch(of: try! Regex(pattern)) != nil else {
            throw ApceraError.badRequest("\(field) '\(value.prefix(80))' must match \(pattern)")
        }
        return value
    }

    /// Verifies a state header, turning any failure into 400 `invalid_state`.
    func verified(_ request: Request, _ header: HTTPField.Name, as kind: StateCodec.Kind, id: String? = nil) throws -> StateCodec.Decoded? {
        do {
            return try state.decode(request.headers[header], as: kind, id: id)
        } catch let error as StateCodec.Invalid {
            throw ApceraError.invalidState(error.reason)
        }
    }

    /// Verifies every state header a request carries, by its type, before anything is looked up:
    /// forged, tampered, foreign or oversized state is 400 whatever the route.
    func verifyAllStates(_ request: Request) throws {
        _ = try verified(request, Self.providerStateHeader, as: .provider)
        _ = try verified(request, Self.serviceStateHeader, as: .service)
        _ = try verified(request, Self.bindingStateHeader, as: .binding)
    }

    /// Who asks.
    func origin(_ context: some RequestContext) -> RequestOrigin {
        RequestOrigin(protocolName: "apcera", requestID: context.id)
    }

    /// The optional DELETE body `{"id", "force"}`: a different `id` is 400.
    static func deleteBody(_ request: Request, id: String) async throws -> Bool {
        let members = try await body(request, required: false)
        if let given = try string(members, "id"), given != id { throw ApceraError.badRequest("the body's id '\(given)' is not the id in the path") }
        guard let force = members["force"], !force.isNull else { return false }
        guard let flag = force.boolValue else { throw ApceraError.badRequest("force must be true or false") }
        return flag
    }
}

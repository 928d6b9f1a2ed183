import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

/// The Cloud Foundry / Open Service Broker API v2.17 front-end, mounted at `/cf`.
public struct OSBFrontEnd: Sendable {
    let broker: Broker
    let configuration: OSBConfiguration
    let catalog: CatalogDocument

    /// Creates the front-end; `problems(_:)` tells whether the catalog is acceptable to Cloud Foundry.
    public init(broker: Broker, configuration: OSBConfiguration) {
        self.broker = broker
        self.configuration = configuration
        catalog = CatalogDocument(broker.catalog, compat215: configuration.catalogCompat215)
    }

    /// Problems Cloud Foundry's Cloud Controller would refuse the catalog for (osb.md §4.1).
    public static func problems(in catalog: Catalog) -> [String] {
        CatalogDocument.problems(in: catalog)
    }

    /// Mounts every route on the group (`router.group("cf")`).
    public func mount<Context: RequestContext>(on group: RouterGroup<Context>) {
        /// GET /cf/openapi.yaml → 200, the OpenAPI document of this front-end (no authentication).
        group.get("openapi.yaml") { _, _ in
            JSONResponse.text(.ok, Self.openAPIDocument, headers: [.contentType: "application/yaml"])
        }
        let api = group.group("v2").add(
            middleware: OSBMiddleware<Context>(
                credentials: BasicCredentials([(configuration.username, configuration.password)]), configuration: configuration))
        mountCatalog(on: api)
        mountInstances(on: api)
        mountBindings(on: api)
    }

    /// Renders errors the gateway detects under `/cf` (unknown path, wrong method, too large) as OSB JSON.
    public static let render: ErrorRenderer = { status, message, request, _ in
        var response = JSONResponse.make(status, ["description": .string(message)])
        if let identity = request.headers[OSBMiddleware<BasicRequestContext>.requestIdentityHeader] {
            response.headers[OSBMiddleware<BasicRequestContext>.requestIdentityHeader] = identity
        }
        return response
    }

    /// The OpenAPI document shipped in `Protocols/OSB/openapi.yaml`.
    static let openAPIDocument = FrontEndSettings.openAPIDocument(in: .module)

    /// Runs a core call, mapping its error for this endpoint.
    func call<T: Sendable>(_ operation: OSBOperation, _ body: () async throws(BrokerError) -> T) async throws(OSBError) -> T {
        do {
            return try await body()
        } catch {
            throw OSBError(error, during: operation)
        }
    }

    /// Who asks: the request identity (or the gateway's request id) and the originating identity.
    func origin(_ request: Request, context: some RequestContext) throws -> RequestOrigin {
        let identity = try OSBMiddleware<BasicRequestContext>.originatingIdentity(request, strict: configuration.strictOriginatingIdentity)
        let requestID = request.headers[OSBMiddleware<BasicRequestContext>.requestIdentityHeader] ?? context.id
        return RequestOrigin(protocolName: "cf", requestID: requestID, identity: identity)
    }

    /// `accepts_incomplete=true`.
    static func acceptsIncomplete(_ request: Request) -> Bool {
        request.query("accepts_incomplete")?.lowercased() == "true"
    }

    /// The instance named in the path, when it exists in this front-end's tenant.
    func visibleInstance(_ id: String, during operation: OSBOperation) async throws(OSBError) -> InstanceAggregate? {
        guard let aggregate = try await call(operation, { () async throws(BrokerError) in try await broker.instance(.id(id)) }),
            aggregate.instance.tenant == configuration.tenant
        else { return nil }
        return aggregate
    }
}

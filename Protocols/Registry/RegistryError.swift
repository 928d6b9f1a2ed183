import BrokerCore
import FrontEndSupport
import HTTPTypes
import Hummingbird

/// The one wire error of `/registry`: Rackspace's fault `{type, code, message, details, txnId}`.
struct RegistryError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let type: String
    let message: String
    let details: String
    var retryAfter: Int?
    var headers: HTTPFields { [:] }

    init(_ status: HTTPResponse.Status, _ type: String, _ message: String, details: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.type = type
        self.message = message
        self.details = details ?? message
        self.retryAfter = retryAfter
    }

    static func badRequest(_ details: String) -> RegistryError { RegistryError(.badRequest, "badRequest", "Validation error", details: details) }
    static func notFound(_ kind: String, _ key: String) -> RegistryError {
        RegistryError(.notFound, "notFoundError", "Object does not exist", details: "Object \"\(kind)\" with key \"\(key)\" does not exist")
    }

    /// The one mapping of core errors to faults. Exhaustive on purpose: a new core case must not
    /// compile until this front-end decides what to send.
    init(_ error: BrokerError, retryAfter: Int) {
        let text = error.description
        switch error {
        case .invalidRequest, .invalidParameters, .unknownOffering, .unknownPlan, .notBindable, .planChangeNotSupported, .asyncRequired:
            self = .badRequest(text)
        case .instanceNotFound, .bindingNotFound, .providerNotFound, .sessionNotFound:
            self.init(.notFound, "notFoundError", "Object does not exist", details: text)
        case .conflict, .nameTaken, .instanceFailed, .hasBindings:
            self.init(.conflict, "conflictError", "Conflict", details: text)
        case .concurrentOperation:
            self.init(.conflict, "concurrencyError", "Another operation is running", details: text)
        case .noLiveProvider:
            self.init(.serviceUnavailable, "noLiveProvider", "No live provider", details: text, retryAfter: retryAfter)
        case .providerUnavailable, .providerFailed:
            self.init(.badGateway, "providerError", "The provider failed", details: text)
        case .ledgerUnavailable:
            self.init(.internalServerError, "internalError", "Internal Error", details: "Internal Error")
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        RegistryFrontEnd.fault(status, type, message, details, txnID: context.id, retryAfter: retryAfter)
    }
}

import BrokerCore
import FrontEndSupport
import HTTPTypes
import Hummingbird

/// The endpoints, because the status of a core error depends on which one failed.
enum ApceraOperation: Sendable {
    case createProvider, deleteProvider, createService, deleteService, createBinding, deleteBinding
}

/// The one wire error of `/apcera`: `{"error": "<code>", "message": "<text>"}`.
struct ApceraError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var headers: HTTPFields { [:] }

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    static func badRequest(_ message: String) -> ApceraError { ApceraError(.badRequest, "bad_request", message) }
    static func notFound(_ message: String) -> ApceraError { ApceraError(.notFound, "not_found", message) }
    static func invalidState(_ message: String) -> ApceraError { ApceraError(.badRequest, "invalid_state", message) }

    /// The one mapping of core errors to Apcera answers. Exhaustive on purpose: a new core case
    /// must not compile until this front-end decides what to send.
    init(_ error: BrokerError, during operation: ApceraOperation) {
        let message = error.description
        switch error {
        case .invalidRequest, .invalidParameters, .unknownOffering, .unknownPlan, .planChangeNotSupported, .notBindable, .asyncRequired:
            self.init(.badRequest, "bad_request", message)
        case .instanceNotFound, .bindingNotFound, .providerNotFound, .sessionNotFound:
            self.init(.notFound, "not_found", message)
        case .conflict, .nameTaken, .hasBindings, .concurrentOperation, .instanceFailed:
            self.init(.conflict, "conflict", message)
        case .noLiveProvider, .providerUnavailable, .providerFailed:
            self.init(.badGateway, "provider_unreachable", message)
        case .ledgerUnavailable:
            self.init(.serviceUnavailable, "unavailable", message)
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        ApceraFrontEnd.errorResponse(status, code, message)
    }
}

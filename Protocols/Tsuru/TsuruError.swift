import BrokerCore
import FrontEndSupport
import HTTPTypes
import Hummingbird

/// The endpoints, because the status of a core error depends on which one failed.
enum TsuruOperation: Sendable {
    case plans, create, info, update, delete, status, bindApp, unbindApp, bindUnit, unbindUnit
}

/// The one wire error of `/tsuru`: a one-line `text/plain` sentence, which tsuru shows its user verbatim.
struct TsuruError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String
    var headers: HTTPFields { [:] }

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// The one mapping of core errors to tsuru answers. Exhaustive on purpose: a new core case
    /// must not compile until this front-end decides what to send.
    init(_ error: BrokerError, during operation: TsuruOperation) {
        let message = error.description
        switch error {
        case .invalidRequest, .invalidParameters, .unknownOffering, .unknownPlan, .planChangeNotSupported, .notBindable:
            self.init(.badRequest, message)
        case .asyncRequired:
            self.init(.badRequest, message)
        case .instanceNotFound, .bindingNotFound, .sessionNotFound:
            self.init(.notFound, message)
        case .conflict, .nameTaken, .hasBindings:
            self.init(.conflict, message)
        case .concurrentOperation:
            self.init(.preconditionFailed, "\(message); try again when it is done")
        case .instanceFailed:
            self.init(.conflict, message)
        case .noLiveProvider, .providerNotFound, .providerUnavailable, .ledgerUnavailable:
            self.init(.serviceUnavailable, message)
        case .providerFailed:
            self.init(.internalServerError, message)
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        TsuruFrontEnd.textError(status, message)
    }
}

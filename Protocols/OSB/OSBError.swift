import BrokerCore
import FrontEndSupport
import HTTPTypes
import Hummingbird

/// The endpoints, because the status of a core error depends on which one failed.
enum OSBOperation: Sendable {
    case provision, update, fetchInstance, deprovision, lastOperation
    case bind, fetchBinding, unbind, bindingLastOperation
}

/// The one wire error of `/cf`: `{"error"?, "description"?, "instance_usable"?, "update_repeatable"?}`.
struct OSBError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let body: JSONValue
    var headers: HTTPFields { [:] }

    /// The canonical descriptions the Kubernetes client matches exactly (osb.md G13).
    static let asyncRequiredDescription = "This service plan requires client support for asynchronous service operations."
    static let concurrencyDescription = "The Service Broker does not support concurrent requests that mutate the same resource."
    static let requiresAppDescription = "This service supports generation of credentials through binding an application only."

    init(status: HTTPResponse.Status, error: String? = nil, description: String?, instanceUsable: Bool? = nil, updateRepeatable: Bool? = nil) {
        self.status = status
        var members: [String: JSONValue] = [:]
        if let error { members["error"] = .string(error) }
        if let description, !description.isEmpty { members["description"] = .string(description) }
        if let instanceUsable { members["instance_usable"] = .bool(instanceUsable) }
        if let updateRepeatable { members["update_repeatable"] = .bool(updateRepeatable) }
        body = .object(members)
    }

    /// 400 with a description.
    static func badRequest(_ description: String) -> OSBError {
        OSBError(status: .badRequest, error: "BadRequest", description: description)
    }

    /// 410 `{}`: the resource does not exist (deletes).
    static let gone = OSBError(status: .gone, description: nil)

    /// 422 AsyncRequired.
    static let asyncRequired = OSBError(status: .unprocessableContent, error: "AsyncRequired", description: asyncRequiredDescription)

    /// 422 ConcurrencyError.
    static let concurrency = OSBError(status: .unprocessableContent, error: "ConcurrencyError", description: concurrencyDescription)

    /// The one mapping of core errors to OSB answers. Exhaustive on purpose: a new core case
    /// must not compile until this front-end decides what to send.
    init(_ error: BrokerError, during operation: OSBOperation) {
        let isUpdateOrDelete = operation == .update || operation == .deprovision
        switch error {
        case .invalidRequest(let message):
            self = .badRequest(message)
        case .invalidParameters:
            self.init(status: .badRequest, error: "InvalidParameters", description: error.description)
        case .unknownOffering, .unknownPlan:
            self = .badRequest(error.description)
        case .asyncRequired:
            self = .asyncRequired
        case .instanceNotFound:
            switch operation {
            case .deprovision, .unbind: self = .gone
            default: self.init(status: .notFound, description: error.description)
            }
        case .bindingNotFound:
            switch operation {
            case .unbind, .deprovision: self = .gone
            default: self.init(status: .notFound, description: error.description)
            }
        case .conflict, .nameTaken:
            self.init(status: .conflict, description: error.description)
        case .concurrentOperation:
            self = .concurrency
        case .instanceFailed:
            self.init(
                status: .unprocessableContent, description: error.description, instanceUsable: isUpdateOrDelete ? false : nil,
                updateRepeatable: operation == .update ? false : nil)
        case .hasBindings:
            self.init(status: .unprocessableContent, description: error.description)
        case .planChangeNotSupported:
            self.init(status: .unprocessableContent, description: error.description, updateRepeatable: operation == .update ? false : nil)
        case .notBindable:
            self = .badRequest(error.description)
        case .sessionNotFound:
            self.init(status: .notFound, description: error.description)
        case .noLiveProvider, .providerNotFound, .providerUnavailable, .ledgerUnavailable:
            self.init(status: .serviceUnavailable, error: "ServiceUnavailable", description: error.description)
        case .providerFailed:
            self.init(
                status: .internalServerError, error: "ProviderFailed", description: error.description,
                instanceUsable: operation == .deprovision ? false : (operation == .update ? true : nil))
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(status, body)
    }
}

import BrokerCore
import FrontEndSupport
import HTTPTypes
import Hummingbird
import Logging

/// Under `/registry/v1.0/<tenant>`: `X-Auth-Token` (401, or 403 for another tenant's token) before
/// anything else; every answer carries `X-Response-Id`; every error is a fault.
struct RegistryMiddleware<Context: RequestContext>: RouterMiddleware {
    let configuration: RegistryConfiguration

    static var tokenHeader: HTTPField.Name { HTTPField.Name("X-Auth-Token")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            let tenant = context.pathParameter("tenant") ?? ""
            guard let token = request.headers[Self.tokenHeader], !token.isEmpty, let owner = configuration.tenant(of: token) else {
                throw RegistryError(.unauthorized, "unauthorizedError", "Unauthorized", details: "a valid X-Auth-Token is required")
            }
            guard owner == tenant else {
                throw RegistryError(.forbidden, "forbiddenError", "Forbidden", details: "this token is not valid for tenant \"\(tenant.prefix(64))\"")
            }
            response = try await next(request, context)
        } catch let error as RegistryError {
            response = RegistryFrontEnd.fault(error.status, error.type, error.message, error.details, txnID: context.id, retryAfter: error.retryAfter)
        } catch let error as HTTPError {
            response = RegistryFrontEnd.fault(error.status, "badRequest", error.status.reasonPhrase, error.body ?? error.status.reasonPhrase, txnID: context.id)
        } catch {
            context.logger.error("registry.request.fault", metadata: ["error-type": "\(type(of: error))"])
            response = RegistryFrontEnd.fault(.internalServerError, "internalError", "Internal Error", "Internal Error", txnID: context.id)
        }
        response.headers[RegistryFrontEnd.responseIDHeader] = context.id
        return response
    }
}

import BrokerCore
import FrontEndSupport
import HTTPTypes
import Hummingbird
import Logging

/// Checks every `/tsuru/<offering>` request before its handler: the offering exists (404),
/// then basic auth with the offering's name or the configured user (401); renders every
/// error as one line of text.
struct TsuruMiddleware<Context: RequestContext>: RouterMiddleware {
    let catalog: Catalog
    let configuration: TsuruConfiguration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let name = context.pathParameter("offering") ?? ""
            guard catalog.offerings.contains(where: { $0.name == name }) else {
                throw TsuruError(.notFound, "no service named '\(name)' here")
            }
            let credentials = BasicCredentials([(name, configuration.password), (configuration.username, configuration.password)])
            guard credentials.accepts(request) else {
                var response = TsuruFrontEnd.textError(.unauthorized, "authentication failed for service '\(name)'")
                response.headers[.wwwAuthenticate] = BasicCredentials.challenge
                return response
            }
            return try await next(request, context)
        } catch let error as TsuruError {
            return TsuruFrontEnd.textError(error.status, error.message)
        } catch let error as HTTPError {
            return TsuruFrontEnd.textError(error.status, error.body ?? error.status.reasonPhrase)
        } catch {
            context.logger.error("tsuru.request.fault", metadata: ["error-type": "\(type(of: error))"])
            return TsuruFrontEnd.textError(.internalServerError, "internal error (request id \(context.id))")
        }
    }
}

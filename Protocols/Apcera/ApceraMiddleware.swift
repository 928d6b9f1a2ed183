import Foundation
import BrokerCore
import FrontEndSupport
import HTTPTypes
import Hummingbird
import Logging

/// Checks credentials before anything else on `/apcera` (basic auth, or the bearer token when
/// one is configured) and renders every error as `{"error","message"}` without state headers.
struct ApceraMiddleware<Context: RequestContext>: RouterMiddleware {
    let credentials: BasicCredentials
    let bearerToken: String?

    static var challenge: String { "Basic realm=\"polybroker-apcera\"" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard authorized(request) else {
            var response = ApceraFrontEnd.errorResponse(.unauthorized, "unauthorized", "missing or wrong credentials")
            response.headers[.wwwAuthenticate] = Self.challenge
            return response
        }
        do {
            return try await next(request, context)
        } catch let error as ApceraError {
            return ApceraFrontEnd.errorResponse(error.status, error.code, error.message)
        } catch let error as HTTPError {
            return ApceraFrontEnd.errorResponse(error.status, "bad_request", error.body ?? error.status.reasonPhrase)
        } catch {
            context.logger.error("apcera.request.fault", metadata: ["error-type": "\(type(of: error))"])
            return ApceraFrontEnd.errorResponse(.internalServerError, "internal", "internal error (request id \(context.id))")
        }
    }

    func authorized(_ request: Request) -> Bool {
        guard let header = request.headers[.authorization] else { return false }
        if let token = bearerToken, header.lowercased().hasPrefix("bearer ") {
            return constantTimeEquals(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), token)
        }
        return credentials.accepts(request)
    }
}

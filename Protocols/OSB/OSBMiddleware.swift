import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird
import Logging

/// Everything `/cf/v2` checks before a handler, in the order both conformance suites need:
/// basic auth (401) → `X-Broker-API-Version` (412 or 400) → the handler; and on the way out,
/// every answer (errors included) is rendered as OSB JSON and echoes
/// `X-Broker-API-Request-Identity`.
struct OSBMiddleware<Context: RequestContext>: RouterMiddleware {
    let credentials: BasicCredentials
    let configuration: OSBConfiguration

    static var versionHeader: HTTPField.Name { HTTPField.Name("X-Broker-API-Version")! }
    static var requestIdentityHeader: HTTPField.Name { HTTPField.Name("X-Broker-API-Request-Identity")! }
    static var originatingIdentityHeader: HTTPField.Name { HTTPField.Name("X-Broker-API-Originating-Identity")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            guard credentials.accepts(request) else {
                throw OSBError(status: .unauthorized, error: "Unauthorized", description: "Not Authorized: basic authentication failed")
            }
            try checkVersion(request)
            response = try await next(request, context)
        } catch let error as OSBError {
            response = JSONResponse.make(error.status, error.body)
        } catch let error as HTTPError {
            response = JSONResponse.make(error.status, ["description": .string(error.body ?? error.status.reasonPhrase)])
        } catch {
            context.logger.error("osb.request.fault", metadata: ["error-type": "\(type(of: error))"])
            response = JSONResponse.make(.internalServerError, ["description": .string("internal error (request id \(context.id))")])
        }
        if response.status == .unauthorized {
            response.headers[.wwwAuthenticate] = BasicCredentials.challenge
        }
        if let identity = request.headers[Self.requestIdentityHeader] {
            response.headers[Self.requestIdentityHeader] = identity
        }
        return response
    }

    /// A missing or empty header gets the configured status; any `2.x` at or above the minimum passes.
    func checkVersion(_ request: Request) throws {
        let value = request.headers[Self.versionHeader]?.trimmingCharacters(in: .whitespaces) ?? ""
        let supported = "2.\(configuration.minimumMinorVersion) to 2.17"
        guard !value.isEmpty else {
            throw OSBError(
                status: configuration.missingVersionStatus == 400 ? .badRequest : .preconditionFailed, error: "MissingVersion",
                description: "The X-Broker-API-Version header is required; this broker supports versions \(supported).")
        }
        guard let version = OSBConfiguration.parseVersion(value), version.major == 2, version.minor >= configuration.minimumMinorVersion else {
            throw OSBError(
                status: .preconditionFailed, error: "UnsupportedVersion",
                description: "The provided service broker API version \(value) is not supported: use a version from \(supported).")
        }
    }

    /// The originating identity as `{"platform", "value"}`; the raw header when it cannot be decoded
    /// (strict mode refuses it with 400). Absent headers give nil: catalog and orphan-mitigation calls send none.
    static func originatingIdentity(_ request: Request, strict: Bool) throws -> JSONValue? {
        guard let header = request.headers[originatingIdentityHeader]?.trimmingCharacters(in: .whitespaces), !header.isEmpty else {
            return nil
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        if parts.count == 2, let data = Data(base64Encoded: String(parts[1])), let value = JSONValue.parse(data), value.objectValue != nil {
            return ["platform": .string(String(parts[0])), "value": value]
        }
        if strict {
            throw OSBError.badRequest("X-Broker-API-Originating-Identity must be '<platform> <base64 of a JSON object>'")
        }
        return ["raw": .string(header)]
    }
}

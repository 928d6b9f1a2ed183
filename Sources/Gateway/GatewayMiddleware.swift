import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The known routes, to tell a wrong method (405) from an unknown path (404).
final class RouteTable: @unchecked Sendable {
    private let lock = NSLock()
    private var routes: [(components: [RouterPath.Element], method: HTTPRequest.Method)] = []

    func load(_ descriptions: [Router<BasicRequestContext>.RouteDescription]) {
        lock.withLock { routes = descriptions.map { (Array($0.path.components), $0.method) } }
    }

    /// The methods allowed on a path; empty when no route has that path.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        let snapshot = lock.withLock { routes }
        var methods: [HTTPRequest.Method] = []
        for route in snapshot where Self.matches(route.components, parts) && !methods.contains(route.method) {
            methods.append(route.method)
        }
        return methods
    }

    static func matches(_ components: [RouterPath.Element], _ parts: [Substring]) -> Bool {
        if components.last.map({ $0.description == "**" }) == true {
            return parts.count >= components.count - 1
                && zip(components.dropLast(), parts).allSatisfy { element, part in element ~= part }
        }
        return components.count == parts.count && zip(components, parts).allSatisfy { element, part in element ~= part }
    }
}

/// The router-level middleware: request ids, the body limit, access logs, and errors for
/// requests no front-end route handled, rendered by the owning front-end.
struct GatewayMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    let maxBodyBytes: Int
    let routes: RouteTable
    /// Front-end renderers by path prefix; the longest matching prefix wins.
    let renderers: [(prefix: String, render: ErrorRenderer)]

    static let requestIDHeader = HTTPField.Name("X-Request-ID")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let given = request.headers[Self.requestIDHeader], Self.isSafeID(given) {
            context.logger[metadataKey: "hb.request.id"] = .string(given)
        }
        let requestID = context.id
        let started = ContinuousClock.now
        var response = await respond(request, context: context, requestID: requestID, next: next)
        response.headers[Self.requestIDHeader] = requestID
        let elapsed = ContinuousClock.now - started
        context.logger.info(
            "gateway.request.done",
            metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                "ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
            ])
        return response
    }

    private func respond(
        _ request: Request, context: Context, requestID: String, next: (Request, Context) async throws -> Response
    ) async -> Response {
        var request = request
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBodyBytes {
            return render(.contentTooLarge, "the request body is larger than \(maxBodyBytes) bytes", request, requestID)
        }
        do {
            _ = try await request.collectBody(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            return render(.contentTooLarge, "the request body is larger than \(maxBodyBytes) bytes", request, requestID)
        } catch {
            return render(.badRequest, "the request body could not be read", request, requestID)
        }
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && context.endpointPath == "NotFound" {
            let allowed = routes.methods(for: request.uri.path)
            guard !allowed.isEmpty else {
                return render(.notFound, "no route for \(request.method.rawValue) \(request.uri.path)", request, requestID)
            }
            var response = render(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(request.uri.path)", request, requestID)
            response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
            return response
        } catch let error as any HTTPResponseError {
            return render(error.status, Self.message(of: error), request, requestID)
        } catch {
            context.logger.error("gateway.request.fault", metadata: ["error-type": "\(type(of: error))"])
            return render(.internalServerError, "internal error (request id \(requestID))", request, requestID)
        }
    }

    private func render(_ status: HTTPResponse.Status, _ message: String, _ request: Request, _ requestID: String) -> Response {
        let path = request.uri.path
        let owner = renderers
            .filter { path == $0.prefix || path.hasPrefix($0.prefix + "/") }
            .max { $0.prefix.count < $1.prefix.count }
        return (owner?.render ?? Self.renderJSON)(status, message, request, requestID)
    }

    static func message(of error: any HTTPResponseError) -> String {
        if let error = error as? HTTPError, let body = error.body { return body }
        return error.status.reasonPhrase
    }

    /// The gateway's own error body: `{"error": "<reason>", "message": "<text>"}`.
    static let renderJSON: ErrorRenderer = { status, message, _, _ in
        JSONResponse.make(status, ["error": .string(status.reasonPhrase), "message": .string(message)])
    }

    /// Request ids given by clients are echoed only when short and printable.
    static func isSafeID(_ value: String) -> Bool {
        !value.isEmpty && value.count <= 200 && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
    }
}

import BrokerCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON responses built from `JSONValue`, with sorted keys so bodies are stable.
public enum JSONResponse {
    /// A response with a JSON body and `Content-Type: application/json`.
    public static func make(_ status: HTTPResponse.Status, _ body: JSONValue, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: encode(body))))
    }

    /// The JSON bytes of a value.
    public static func encode(_ body: JSONValue) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(body)) ?? Data("{}".utf8)
    }

    /// A plain-text response (`text/plain; charset=utf-8`).
    public static func text(_ status: HTTPResponse.Status, _ text: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        if fields[.contentType] == nil { fields[.contentType] = "text/plain; charset=utf-8" }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Reading requests.
public enum BodyReader {
    /// The body's bytes (the gateway has already collected it within its size limit).
    public static func bytes(_ request: Request, limit: Int = 16 << 20) async throws -> Data {
        let buffer = try await request.body.collect(upTo: limit)
        return Data(buffer.readableBytesView)
    }

    /// The body as JSON; `nil` when it is empty, `.failure` when it is not JSON.
    public static func json(_ request: Request) async throws -> Result<JSONValue, BodyError>? {
        let data = try await bytes(request)
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return nil }
        guard let value = JSONValue.parse(data) else { return .failure(.notJSON) }
        return .success(value)
    }

    /// Why a body could not be read.
    public enum BodyError: Error, Sendable {
        case notJSON
    }
}

extension Request {
    /// A query parameter, percent-decoded; nil when absent.
    public func query(_ name: String) -> String? {
        uri.queryParameters[Substring(name)].map { String($0) }
    }

    /// Every value of a repeated query parameter.
    public func queryAll(_ name: String) -> [String] {
        uri.queryParameters[values: Substring(name)].map { String($0) }
    }
}

extension RequestContext {
    /// A path parameter, percent-decoded.
    public func pathParameter(_ name: String) -> String? {
        guard let raw = parameters.get(name) else { return nil }
        return raw.removingPercentEncoding ?? raw
    }
}

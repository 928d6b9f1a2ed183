import AsyncHTTPClient
import BrokerCore
import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP answer, with the request it answers (for failure messages).
public struct HTTPReply: Sendable {
    /// The status code.
    public let status: Int
    /// The response headers.
    public let headers: HTTPHeaders
    /// The raw body.
    public let body: Data
    /// `METHOD /path` of the request.
    public let request: String

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as JSON, when it is JSON.
    public var json: JSONValue? { JSONValue.parse(body) }
    /// A member of a JSON object body.
    public subscript(key: String) -> JSONValue? { json?[key] }
    /// The first value of a header, compared case-insensitively.
    public func header(_ name: String) -> String? { headers.first(name: name) }
    /// The media type of `Content-Type` without parameters, lower-cased.
    public var mediaType: String? {
        header("Content-Type")?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    }

    /// `500 (body …)`: the status and the start of the body, for messages.
    public var summary: String {
        let snippet = text.replacingOccurrences(of: "\n", with: " ").prefix(200)
        return snippet.isEmpty ? "\(status) (empty body)" : "\(status) (body \(snippet)\(text.count > 200 ? "…" : ""))"
    }

    /// Fails the case unless the status is one of `statuses`.
    @discardableResult
    public func expect(_ statuses: Int..., because reason: String? = nil) throws -> HTTPReply {
        guard statuses.contains(status) else {
            let wanted = statuses.map(String.init).joined(separator: " or ")
            throw CaseFailure("\(request)\(reason.map { " (\($0))" } ?? ""): expected \(wanted), got \(summary)")
        }
        return self
    }

    /// Fails the case unless the body is a JSON object; returns its members.
    public func object() throws -> [String: JSONValue] {
        guard let members = json?.objectValue else { throw CaseFailure("\(request): expected a JSON object body, got \(summary)") }
        return members
    }
}

/// A request body.
public enum RequestBody: Sendable {
    /// JSON text of a value, `Content-Type: application/json`.
    case json(JSONValue)
    /// Form fields, `application/x-www-form-urlencoded`, in the given order (repeated keys allowed).
    case form([FormField])
    /// Raw bytes with a `Content-Type` (none when nil).
    case raw(Data, contentType: String?)

    /// Text with a `Content-Type`.
    public static func text(_ text: String, contentType: String? = "application/json") -> RequestBody {
        .raw(Data(text.utf8), contentType: contentType)
    }

    var encoded: (Data, String?) {
        switch self {
        case .json(let value): (Data(value.canonicalText().utf8), "application/json")
        case .form(let fields): (Data(FormField.encode(fields).utf8), "application/x-www-form-urlencoded")
        case .raw(let data, let type): (data, type)
        }
    }
}

/// One form field.
public struct FormField: Sendable {
    /// The key.
    public let name: String
    /// The value.
    public let value: String

    /// Creates a field.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// `a=b&c=d`, encoded as Go's `url.Values.Encode` does (space as `+`).
    static func encode(_ fields: [FormField]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        func escape(_ text: String) -> String {
            (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text).replacingOccurrences(of: "%20", with: "+")
        }
        return fields.map { "\(escape($0.name))=\(escape($0.value))" }.joined(separator: "&")
    }
}

/// How a request authenticates.
public enum RequestAuth: Sendable {
    /// The client's configured credentials.
    case configured
    /// No `Authorization` header.
    case none
    /// HTTP basic with these credentials.
    case basic(String, String)
    /// This header (`Authorization: Bearer …`, `X-Auth-Token: …`).
    case header(String, String)
}

/// The transport failed: no HTTP answer at all (refused, reset, timed out).
public struct TransportError: Error, CustomStringConvertible {
    /// What happened.
    public let description: String
}

/// A small HTTP client bound to one base URL, with default headers and credentials.
public struct WireClient: Sendable {
    let http: HTTPClient
    /// The base URL, without a trailing slash.
    public let base: String
    let timeout: TimeAmount
    let credentials: RequestAuth
    let defaultHeaders: [(String, String)]

    /// Creates a client for `base`.
    public init(http: HTTPClient, base: String, timeout: TimeAmount, credentials: RequestAuth, defaultHeaders: [(String, String)] = []) {
        self.http = http
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.timeout = timeout
        self.credentials = credentials
        self.defaultHeaders = defaultHeaders
    }

    /// The same server under another base URL.
    public func rebased(_ newBase: String, credentials: RequestAuth? = nil, defaultHeaders: [(String, String)]? = nil) -> WireClient {
        WireClient(http: http, base: newBase, timeout: timeout, credentials: credentials ?? self.credentials, defaultHeaders: defaultHeaders ?? self.defaultHeaders)
    }

    /// Sends a request to `base + path`. A header given with a nil value removes a default header.
    public func send(
        _ method: HTTPMethod, _ path: String, body: RequestBody? = nil, headers: [(String, String?)] = [], auth: RequestAuth = .configured
    ) async throws -> HTTPReply {
        try await send(method, url: base + path, body: body, headers: headers, auth: auth, label: path)
    }

    /// Sends a request to an absolute URL.
    public func send(
        _ method: HTTPMethod, url: String, body: RequestBody? = nil, headers: [(String, String?)] = [], auth: RequestAuth = .configured,
        label: String? = nil
    ) async throws -> HTTPReply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in defaultHeaders { request.headers.replaceOrAdd(name: name, value: value) }
        switch auth == .configured ? credentials : auth {
        case .configured, .none: break
        case .basic(let user, let password):
            request.headers.replaceOrAdd(name: "Authorization", value: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
        case .header(let name, let value):
            request.headers.replaceOrAdd(name: name, value: value)
        }
        if let body {
            let (data, contentType) = body.encoded
            if let contentType { request.headers.replaceOrAdd(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(bytes: data))
        }
        for (name, value) in headers {
            if let value { request.headers.replaceOrAdd(name: name, value: value) } else { request.headers.remove(name: name) }
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: timeout)
            bytes = try await response.body.collect(upTo: 32 << 20)
        } catch {
            throw TransportError(description: "\(method.rawValue) \(label ?? url): no answer (\(error))")
        }
        return HTTPReply(
            status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView),
            request: "\(method.rawValue) \(label ?? url)")
    }

    /// GET.
    public func get(_ path: String, headers: [(String, String?)] = [], auth: RequestAuth = .configured) async throws -> HTTPReply {
        try await send(.GET, path, headers: headers, auth: auth)
    }
}

extension RequestAuth: Equatable {
    public static func == (lhs: RequestAuth, rhs: RequestAuth) -> Bool {
        switch (lhs, rhs) {
        case (.configured, .configured), (.none, .none): true
        case (.basic(let a, let b), .basic(let c, let d)): a == c && b == d
        case (.header(let a, let b), .header(let c, let d)): a == c && b == d
        default: false
        }
    }
}

import AsyncHTTPClient
import BrokerCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A remote HTTP service a plugin talks to (a remote provider service, an upstream broker):
/// its base URL, credentials and timeout. Shared by the `http` and `osb` plugins.
///
/// Errors it throws are `ProviderError`s that name the service by host and port only, never
/// the URL's user info, a password or a token.
public struct RemoteEndpoint: Sendable {
    /// The base URL without user info and without a trailing slash.
    public let baseURL: String
    /// `host:port`, for messages.
    public let address: String
    /// The `Authorization` header value, if any.
    let authorization: String?
    /// The time one request may take.
    public let timeout: TimeAmount
    /// Headers sent with every request.
    let fixedHeaders: [(String, String)]
    let client: HTTPClient

    /// The client every endpoint shares: a refused connection fails at once (the plugins retry what
    /// is worth retrying themselves), connecting takes at most 5 s, and redirects are not followed
    /// (they would carry credentials elsewhere). Process-wide, never shut down.
    public static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// How the service authenticates Polybroker.
    public enum Authentication: Sendable, Equatable {
        case none
        case basic(username: String, password: String)
        case bearer(String)
    }

    /// Reads an endpoint from a URL; credentials in the URL's user info become basic auth unless
    /// `authentication` says otherwise. `nil` when the URL is not http(s).
    public init?(
        url text: String, authentication: Authentication = .none, timeoutSeconds: Double = 30, headers: [(String, String)] = [],
        client: HTTPClient = RemoteEndpoint.sharedClient
    ) {
        guard var components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = components.host, !host.isEmpty, timeoutSeconds > 0
        else { return nil }
        var authentication = authentication
        if authentication == .none, let user = components.user {
            authentication = .basic(
                username: user.removingPercentEncoding ?? user, password: (components.password ?? "").removingPercentEncoding ?? "")
        }
        components.user = nil
        components.password = nil
        components.query = nil
        components.fragment = nil
        guard var base = components.string else { return nil }
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        address = "\(host):\(components.port ?? (scheme == "https" ? 443 : 80))"
        switch authentication {
        case .none: authorization = nil
        case .basic(let username, let password): authorization = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        case .bearer(let token): authorization = "Bearer " + token
        }
        timeout = .milliseconds(Int64(timeoutSeconds * 1000))
        fixedHeaders = headers
        self.client = client
    }

    /// A response: status, headers and the body parsed as JSON (`nil` when empty or not JSON).
    public struct Response: Sendable {
        public let status: Int
        public let headers: HTTPHeaders
        public let body: JSONValue?

        /// The service's own explanation (`description`, `error` or `message`), shortened, for errors.
        public var explanation: String? {
            for key in ["description", "error", "message"] {
                if let text = body?[key]?.stringValue, !text.isEmpty { return String(text.prefix(300)) }
            }
            return nil
        }

        /// Seconds from a `Retry-After` header given in seconds.
        public var retryAfterSeconds: Double? {
            headers.first(name: "Retry-After").flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        }

        /// Whether a retry may succeed: a server error, a timeout or throttling.
        public var isTransient: Bool { status >= 500 || status == 408 || status == 429 }
    }

    /// Percent-encodes one path segment.
    public static func segment(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    /// Sends one request; transport failures and timeouts become `ProviderError.unreachable`.
    public func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil, headers: [(String, String)] = []
    ) async throws -> Response {
        var url = baseURL + path
        if !query.isEmpty {
            var components = URLComponents()
            components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) }
            url += "?" + (components.percentEncodedQuery ?? "")
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        for (name, value) in fixedHeaders + headers { request.headers.replaceOrAdd(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.canonicalText()))
        }
        do {
            let response = try await client.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: 4 << 20)
            let data = Data(bytes.readableBytesView)
            return Response(status: Int(response.status.code), headers: response.headers, body: data.isEmpty ? nil : JSONValue.parse(data))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw ProviderError.unreachable("\(address) did not answer \(method.rawValue) within \(timeout.nanoseconds / 1_000_000_000) s")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ProviderError.unreachable("cannot reach \(address)")
        }
    }

    /// Sends a request that removes something, retrying transport failures and transient answers
    /// with exponential backoff (`attempts` in all), so orphan cleanup survives a flaky service.
    /// Returns the last response; throws when every attempt failed to reach the service.
    public func sendRemoval(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil, retry: RetryPolicy
    ) async throws -> Response {
        var attempt = 1
        while true {
            do {
                let response = try await send(method, path, query: query, body: body)
                if !response.isTransient || attempt >= retry.attempts { return response }
            } catch let error as ProviderError {
                if attempt >= retry.attempts { throw error }
            }
            try await Task.sleep(nanoseconds: UInt64(retry.delay(afterAttempt: attempt) * 1_000_000_000))
            attempt += 1
        }
    }
}

/// Orphan cleanup after a create or bind whose outcome is unknown: runs the removal; its own
/// failure is logged (the caller reports the original failure), a cancellation is passed on.
public func cleanUpOrphan(_ what: String, logger: Logger, _ removal: () async throws -> Void) async throws {
    do {
        try await removal()
    } catch is CancellationError {
        throw CancellationError()
    } catch {
        logger.warning("orphan cleanup failed", metadata: ["resource": "\(what)", "reason": "\(error)"])
    }
}

/// How removals are retried.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, at least 1.
    public var attempts: Int
    /// The wait after the first failed attempt; it doubles after each further one, up to 30 s.
    public var initialDelaySeconds: Double

    /// Creates a policy.
    public init(attempts: Int = 4, initialDelaySeconds: Double = 0.5) {
        self.attempts = max(1, attempts)
        self.initialDelaySeconds = max(0, initialDelaySeconds)
    }

    /// Seconds to wait after a failed attempt (1-based).
    public func delay(afterAttempt attempt: Int) -> Double {
        min(30, initialDelaySeconds * pow(2, Double(attempt - 1)))
    }
}

extension Credentials {
    /// A flat string map from a JSON object: strings as they are, numbers and booleans as text,
    /// nested values as JSON text, nulls left out. `nil` when the value is not an object.
    public init?(flattening value: JSONValue) {
        guard let members = value.objectValue else { return nil }
        var values: [String: String] = [:]
        for (key, member) in members {
            switch member {
            case .null: continue
            case .string(let text): values[key] = text
            case .bool(let flag): values[key] = flag ? "true" : "false"
            case .int(let number): values[key] = String(number)
            case .double(let number): values[key] = number.rounded() == number && abs(number) < 9e15 ? String(Int64(number)) : String(number)
            case .array, .object: values[key] = member.canonicalText()
            }
        }
        self.init(values)
    }
}

/// Reads the common params of HTTP-based kinds: `url`, `username`/`password` or `token`,
/// `timeout_seconds`, `retries`, `retry_delay_seconds`.
public struct RemoteParams: Sendable {
    public let endpoint: RemoteEndpoint
    public let retry: RetryPolicy

    /// The params every HTTP-based kind takes.
    public static let common: Set<String> = ["url", "username", "password", "token", "timeout_seconds", "retries", "retry_delay_seconds"]
    /// Params that hold secrets.
    public static let secret: Set<String> = ["url", "password", "token"]

    /// One client-safe problem per bad key; `extra` lists the kind's own further keys.
    public static func problems(_ params: JSONValue, kind: String, extra: Set<String> = []) -> [String] {
        guard let members = params.objectValue else { return ["params must be an object"] }
        let allowed = common.union(extra)
        var problems = members.keys.sorted().filter { !allowed.contains($0) }.map {
            "unknown parameter '\($0)': the \(kind) provider takes \(allowed.sorted().map { "'\($0)'" }.joined(separator: ", "))"
        }
        if members["url"]?.stringValue.flatMap({ RemoteEndpoint(url: $0) }) == nil {
            problems.append("'url' is required: an http:// or https:// URL")
        }
        for key in ["username", "password", "token"] where members[key] != nil && members[key]?.stringValue == nil {
            problems.append("'\(key)' must be a string")
        }
        if members["token"] != nil && (members["username"] != nil || members["password"] != nil) {
            problems.append("give either 'token' or 'username'/'password', not both")
        }
        if members["password"] != nil && members["username"] == nil { problems.append("'password' needs 'username'") }
        if let timeout = members["timeout_seconds"], (timeout.numberValue ?? 0) <= 0 {
            problems.append("'timeout_seconds' must be a positive number")
        }
        if let retries = members["retries"], !(0...20).contains(retries.integerValue ?? -1) {
            problems.append("'retries' must be an integer from 0 to 20")
        }
        if let delay = members["retry_delay_seconds"], (delay.numberValue ?? -1) < 0 {
            problems.append("'retry_delay_seconds' must be a number of at least 0")
        }
        return problems
    }

    /// Reads valid params; throws `ProviderError.invalidParameters` with the first problem otherwise.
    public init(_ params: JSONValue, kind: String, extra: Set<String> = [], headers: [(String, String)] = []) throws {
        if let problem = Self.problems(params, kind: kind, extra: extra).first { throw ProviderError.invalidParameters(problem) }
        let authentication: RemoteEndpoint.Authentication =
            if let token = params["token"]?.stringValue {
                .bearer(token)
            } else if let username = params["username"]?.stringValue {
                .basic(username: username, password: params["password"]?.stringValue ?? "")
            } else {
                .none
            }
        guard
            let endpoint = RemoteEndpoint(
                url: params["url"]?.stringValue ?? "", authentication: authentication,
                timeoutSeconds: params["timeout_seconds"]?.numberValue ?? 30, headers: headers)
        else { throw ProviderError.invalidParameters("'url' is required: an http:// or https:// URL") }
        self.endpoint = endpoint
        retry = RetryPolicy(
            attempts: Int(params["retries"]?.integerValue ?? 3) + 1, initialDelaySeconds: params["retry_delay_seconds"]?.numberValue ?? 0.5)
    }
}

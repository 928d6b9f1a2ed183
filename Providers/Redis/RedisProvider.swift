import BrokerCore
import Foundation
import Logging
import NIOCore

/// Redis: one key namespace per instance, the prefix `<instance-id>:`; one ACL user per
/// binding that can reach exactly those keys (and channels) and no server-wide command.
/// Unbinding deletes that user and ends its connections; deprovisioning deletes the keys and
/// every user of the instance. User changes are saved with `ACL SAVE` when the server has an
/// `aclfile`. Speaks RESP itself (`RESP/`), with no Redis client library.
public struct RedisProvider: ProviderPlugin {
    /// The plugin kind.
    public static let kind = "redis"

    /// The admin connection: the default user's password, or an ACL user allowed `@admin`,
    /// `@dangerous` and every key.
    public struct Admin: Sendable, Equatable, CustomStringConvertible {
        /// Host name or address (IPv6 without brackets).
        public var host: String
        /// TCP port, 6379 by default.
        public var port: Int
        /// ACL user; nil authenticates the default user with the password alone.
        public var username: String?
        /// Password; nil sends no AUTH.
        public var password: String?

        /// Parses `redis://[USER]:PASSWORD@HOST:PORT`; the message of the error is a client-safe problem.
        public init(url text: String) throws(ProviderError) {
            guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["redis", "rediss"].contains(scheme),
                let rawHost = url.host, !rawHost.isEmpty
            else { throw .invalidParameters(Self.required) }
            guard scheme == "redis" else { throw .invalidParameters("'url' must use redis://: TLS (rediss://) is not supported") }
            guard ["", "/", "/0"].contains(url.path) else {
                throw .invalidParameters("'url' must not name a database: bindings cannot SELECT, so everything lives in database 0")
            }
            host = rawHost.hasPrefix("[") && rawHost.hasSuffix("]") ? String(rawHost.dropFirst().dropLast()) : rawHost
            port = url.port ?? 6379
            username = url.user.flatMap { $0.isEmpty ? nil : ($0.removingPercentEncoding ?? $0) }
            password = url.password.map { $0.removingPercentEncoding ?? $0 }
        }

        static let required = "'url' is required: redis://[USER]:PASSWORD@HOST:PORT"

        /// `host:port`, the host bracketed when it is an IPv6 address.
        var endpoint: String { (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }

        /// The URL with the password redacted.
        public var description: String {
            "redis://\(username ?? "")\(password == nil ? "" : ":<redacted>")@\(endpoint)"
        }
    }

    let admin: Admin
    let scanBatch: Int
    let timeoutSeconds: Int
    let logger: Logger

    /// Creates a provider for an admin connection; `scanBatch` is the `SCAN … COUNT` hint and
    /// `timeoutSeconds` bounds connecting and every reply.
    public init(admin: Admin, scanBatch: Int = 1000, timeoutSeconds: Int = 10, logger: Logger) {
        self.admin = admin
        self.scanBatch = scanBatch
        self.timeoutSeconds = timeoutSeconds
        self.logger = logger
    }

    /// The factory Gateway registers. Params: `{"url": "redis://[USER]:PASSWORD@HOST:PORT"}`, and
    /// optionally `scan_batch` (1…100000, default 1000) and `timeout` (seconds, 1…300, default 10).
    public static let factory = PluginFactory(
        kind: kind,
        secretParams: ["url"],
        validate: { params in
            guard let members = params.objectValue else { return ["params must be an object"] }
            return members.keys.sorted().filter { !known.contains($0) }.map {
                "unknown parameter '\($0)': the redis provider takes only 'url', 'scan_batch' and 'timeout'"
            } + problems(members)
        },
        make: { params, environment in
            guard let members = params.objectValue else { throw ProviderError.invalidParameters("params must be an object") }
            if let problem = problems(members).first { throw ProviderError.invalidParameters(problem) }
            return RedisProvider(
                admin: try Admin(url: members["url"]?.stringValue ?? ""),
                scanBatch: members["scan_batch"]?.integerValue.map(Int.init) ?? 1000,
                timeoutSeconds: members["timeout"]?.integerValue.map(Int.init) ?? 10,
                logger: environment.logger
            )
        }
    )

    static let known: Set<String> = ["url", "scan_batch", "timeout"]

    /// One problem per bad known param.
    static func problems(_ members: [String: JSONValue]) -> [String] {
        var problems: [String] = []
        do {
            _ = try Admin(url: members["url"]?.stringValue ?? "")
        } catch {
            problems.append(error.description)
        }
        if let batch = members["scan_batch"], !(1...100_000).contains(batch.integerValue ?? 0) {
            problems.append("'scan_batch' must be an integer from 1 to 100000")
        }
        if let timeout = members["timeout"], !(1...300).contains(timeout.integerValue ?? 0) {
            problems.append("'timeout' must be a whole number of seconds from 1 to 300")
        }
        return problems
    }

    // MARK: ProviderPlugin

    /// Checks the server answers as admin; the namespace needs nothing created.
    public func provision(_ request: ProvisionRequest) async throws -> ProvisionResult {
        try await withConnection { connection in
            _ = try await run(connection, ["PING"], "answer PING")
        }
        return ProvisionResult(state: ["key_prefix": Self.keyPrefix(request.instanceID)])
    }

    /// Nothing depends on the plan.
    public func update(_ request: UpdateRequest) async throws {}

    /// Creates or refreshes the binding's ACL user. Binding an id again adds a new password and
    /// keeps the earlier ones, so credentials already handed out (a retried bind whose first
    /// answer was lost) keep working; every rule is set again from scratch.
    public func bind(_ request: BindRequest) async throws -> Credentials {
        let user = Self.username(request.instanceID, request.bindingID)
        let password = Self.newPassword()
        try await withConnection { connection in
            let existing = try await keyPattern(ofUser: user, on: connection)
            if let existing, existing != Self.keyPattern(request.instanceID) {
                throw ProviderError.failed("the ACL user name of binding '\(request.bindingID)' belongs to another instance")
            }
            _ = try await run(connection, Self.setUser(user, password: password, instanceID: request.instanceID), "create the binding's ACL user")
            try await saveACL(on: connection)
        }
        let userInfo = Self.percentEncoded(user) + ":" + Self.percentEncoded(password)
        return Credentials([
            "uri": "redis://\(userInfo)@\(admin.endpoint)", "host": admin.host, "port": String(admin.port), "username": user,
            "password": password, "key_prefix": Self.keyPrefix(request.instanceID),
        ])
    }

    /// Deletes the binding's ACL user and ends its connections.
    public func unbind(_ request: UnbindRequest) async throws {
        let user = Self.username(request.instanceID, request.bindingID)
        let pattern = Self.keyPattern(request.instanceID)
        try await withConnection { connection in
            // Gone already, or (after a name hash collision) another instance's: nothing to revoke.
            guard try await keyPattern(ofUser: user, on: connection) == pattern else { return }
            try await remove(users: [user], on: connection)
            try await saveACL(on: connection)
        }
    }

    /// Deletes every ACL user of the instance (ending their connections first, so nothing
    /// writes meanwhile), then every key of the namespace.
    public func deprovision(_ request: DeprovisionRequest) async throws {
        try await withConnection { connection in
            let users = try await users(of: request.instanceID, on: connection)
            if !users.isEmpty {
                try await remove(users: users, on: connection)
                try await saveACL(on: connection)
            }
            try await deleteKeys(of: request.instanceID, on: connection)
        }
    }

    /// `PING` as admin.
    public func health() async -> ProviderHealth {
        do {
            try await withConnection { connection in _ = try await run(connection, ["PING"], "answer PING") }
            return .healthy
        } catch ProviderError.unreachable {
            return .unhealthy("cannot connect to Redis at \(admin.endpoint)")
        } catch {
            return .unhealthy((error as? ProviderError)?.description ?? "Redis at \(admin.endpoint) does not answer")
        }
    }

    // MARK: What is left

    /// How many keys the instance's namespace holds.
    public func keyCount(instanceID: String) async throws -> Int {
        try await withConnection { connection in
            var count = 0
            try await scanKeys(of: instanceID, on: connection) { count += $0.count }
            return count
        }
    }

    /// The ACL users of the instance's bindings that exist, sorted.
    public func users(instanceID: String) async throws -> [String] {
        try await withConnection { connection in try await users(of: instanceID, on: connection).sorted() }
    }
}

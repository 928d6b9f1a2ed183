import BrokerCore
import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// PostgreSQL: one database per instance, owned by a per-instance owner role; one login role
/// per binding, a member of the owner role that acts as it, so every binding reads and writes
/// what any other binding of the instance created. Unbinding drops exactly that role.
public struct PostgreSQLProvider: ProviderPlugin {
    /// The plugin kind.
    public static let kind = "postgresql"

    /// The admin connection (a role with CREATEDB and CREATEROLE).
    public struct Admin: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        /// libpq's `sslmode`: `disable`, `allow`/`prefer` (TLS when the server offers it, no
        /// certificate check), `require` (TLS, no certificate check), `verify-ca` (the chain),
        /// `verify-full` (the chain and the host name). Default `prefer`, as libpq.
        public var sslMode: String
        /// libpq's `sslrootcert`: a PEM file of trusted roots (default: the system's).
        public var rootCertificate: String?

        static let sslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

        /// Parses `postgresql://user:password@host:port/database[?sslmode=…&sslrootcert=…]`.
        public init?(url text: String) {
            guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? ""),
                let host = url.host, !host.isEmpty, let user = url.user, !user.isEmpty
            else { return nil }
            self.host = host
            port = url.port ?? 5432
            username = user.removingPercentEncoding ?? user
            password = url.password.map { $0.removingPercentEncoding ?? $0 }
            let path = url.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            database = path.isEmpty ? "postgres" : path
            let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
            sslMode = query["sslmode"] ?? "prefer"
            rootCertificate = query["sslrootcert"]
            guard Self.sslModes.contains(sslMode), Set(query.keys).isSubset(of: ["sslmode", "sslrootcert"]) else { return nil }
        }

        /// The TLS mode of a connection.
        func tls() throws -> PostgresConnection.Configuration.TLS {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let rootCertificate { configuration.trustRoots = .file(rootCertificate) }
            switch sslMode {
            case "disable": return .disable
            case "allow", "prefer":
                configuration.certificateVerification = .none
                return .prefer(try NIOSSLContext(configuration: configuration))
            case "require":
                configuration.certificateVerification = .none
                return .require(try NIOSSLContext(configuration: configuration))
            case "verify-ca":
                configuration.certificateVerification = .noHostnameVerification
                return .require(try NIOSSLContext(configuration: configuration))
            default:
                return .require(try NIOSSLContext(configuration: configuration))
            }
        }
    }

    let admin: Admin
    let tls: PostgresConnection.Configuration.TLS
    let logger: Logger

    /// Creates a provider for an admin connection.
    public init(admin: Admin, logger: Logger) throws {
        self.admin = admin
        do {
            tls = try admin.tls()
        } catch {
            throw ProviderError.invalidParameters("the TLS settings of 'url' cannot be used (sslrootcert unreadable or not PEM?)")
        }
        self.logger = logger
    }

    /// The factory Gateway registers. Params: `{"url": "postgresql://admin:…@host:port/postgres"}`.
    public static let factory = PluginFactory(
        kind: kind, secretParams: ["url"],
        validate: { params in
            guard let members = params.objectValue else { return ["params must be an object"] }
            var problems = members.keys.sorted().filter { $0 != "url" }.map { "unknown parameter '\($0)': the postgresql provider takes only 'url'" }
            if members["url"]?.stringValue.flatMap(Admin.init(url:)) == nil {
                problems.append("'url' is required: postgresql://ADMIN:PASSWORD@HOST:PORT/postgres[?sslmode=disable|prefer|require|verify-ca|verify-full&sslrootcert=FILE]")
            }
            return problems
        },
        make: { params, environment in
            guard let admin = params["url"]?.stringValue.flatMap(Admin.init(url:)) else {
                throw ProviderError.invalidParameters("'url' is required: postgresql://ADMIN:PASSWORD@HOST:PORT/postgres")
            }
            return try PostgreSQLProvider(admin: admin, logger: environment.logger)
        })

    // MARK: Names

    /// A lower-case identifier from an opaque id: its safe characters, or a prefix and a hash when long.
    static func identifier(_ prefix: String, _ id: String, limit: Int = 40) -> String {
        let safe = String(id.lowercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "_" })
        if safe.count <= limit { return prefix + safe }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return prefix + safe.prefix(limit - 17) + "_" + String(hash, radix: 16)
    }

    static func database(_ instanceID: String) -> String { identifier("pb_", instanceID) }
    static func owner(_ instanceID: String) -> String { database(instanceID) + "_owner" }
    static func role(_ instanceID: String, _ bindingID: String) -> String { identifier("pb_", instanceID, limit: 25) + identifier("_b_", bindingID, limit: 28) }

    /// A double-quoted identifier.
    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    // MARK: Connections

    func connect(database: String? = nil) async throws -> PostgresConnection {
        let configuration = PostgresConnection.Configuration(
            host: admin.host, port: admin.port, username: admin.username, password: admin.password,
            database: database ?? admin.database, tls: tls)
        do {
            return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch let error as PSQLError where error.code == .sslUnsupported {
            throw ProviderError.unreachable("PostgreSQL at \(admin.host):\(admin.port) does not offer TLS (sslmode=\(admin.sslMode))")
        } catch {
            throw ProviderError.unreachable("cannot connect to PostgreSQL at \(admin.host):\(admin.port)")
        }
    }

    func withConnection<T: Sendable>(database: String? = nil, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await connect(database: database)
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            if error is ProviderError { throw error }
            throw ProviderError.failed("PostgreSQL refused the change (\(Self.sqlState(error) ?? "no SQLSTATE"))")
        }
    }

    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    func run(_ connection: PostgresConnection, _ sql: String) async throws {
        try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }

    /// Runs SQL with one bound string parameter (`$1`).
    @discardableResult
    func query(_ connection: PostgresConnection, _ sql: String, _ value: String) async throws -> PostgresRowSequence {
        var binds = PostgresBindings()
        binds.append(value)
        return try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
    }

    func exists(_ connection: PostgresConnection, _ sql: String, _ value: String) async throws -> Bool {
        for try await _ in try await query(connection, sql, value) { return true }
        return false
    }

    /// Ends every session of a role (`usename`) or on a database (`datname`).
    func terminate(_ connection: PostgresConnection, where column: String, is value: String) async throws {
        try await query(connection, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE \(column) = $1", value)
    }

    // MARK: ProviderPlugin

    public func provision(_ request: ProvisionRequest) async throws -> ProvisionResult {
        let database = Self.database(request.instanceID)
        let owner = Self.owner(request.instanceID)
        try await withConnection { connection in
            try await run(connection, "DO $$ BEGIN CREATE ROLE \(Self.quoted(owner)) NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
            try await run(connection, "GRANT \(Self.quoted(owner)) TO CURRENT_USER")
            if try await !exists(connection, "SELECT 1 FROM pg_database WHERE datname = $1", database) {
                do {
                    try await run(connection, "CREATE DATABASE \(Self.quoted(database)) OWNER \(Self.quoted(owner))")
                } catch where Self.sqlState(error) == "42P04" {
                    // Created by a parallel attempt: same outcome.
                }
            }
            if let limit = request.plan.options["connection_limit"]?.integerValue {
                try await run(connection, "ALTER DATABASE \(Self.quoted(database)) CONNECTION LIMIT \(limit)")
            }
            try await run(connection, "REVOKE ALL ON DATABASE \(Self.quoted(database)) FROM PUBLIC")
        }
        return ProvisionResult(state: ["database": database, "owner": owner])
    }

    public func update(_ request: UpdateRequest) async throws {
        guard let limit = request.plan.options["connection_limit"]?.integerValue else { return }
        try await withConnection { connection in
            try await run(connection, "ALTER DATABASE \(Self.quoted(Self.database(request.instanceID))) CONNECTION LIMIT \(limit)")
        }
    }

    public func bind(_ request: BindRequest) async throws -> Credentials {
        let database = Self.database(request.instanceID)
        let owner = Self.owner(request.instanceID)
        let role = Self.role(request.instanceID, request.bindingID)
        var generator = SystemRandomNumberGenerator()
        let password = (0..<4).map { _ in String(generator.next(), radix: 16).leftPadded(to: 16) }.joined()
        try await withConnection { connection in
            guard try await exists(connection, "SELECT 1 FROM pg_database WHERE datname = $1", database) else {
                throw ProviderError.failed("the database of instance '\(request.instanceID)' does not exist")
            }
            try await run(
                connection,
                """
                DO $$ BEGIN CREATE ROLE \(Self.quoted(role)) LOGIN PASSWORD '\(password)' IN ROLE \(Self.quoted(owner));
                EXCEPTION WHEN duplicate_object THEN ALTER ROLE \(Self.quoted(role)) LOGIN PASSWORD '\(password)'; END $$
                """)
            // Whatever a binding creates belongs to the instance's owner, so later bindings can use it.
            try await run(connection, "ALTER ROLE \(Self.quoted(role)) SET role = \(Self.quoted(owner))")
            try await run(connection, "GRANT CONNECT ON DATABASE \(Self.quoted(database)) TO \(Self.quoted(role))")
        }
        let uri = "postgresql://\(role):\(password)@\(admin.host):\(admin.port)/\(database)"
        return Credentials([
            "uri": uri, "host": admin.host, "port": String(admin.port), "database": database, "username": role, "password": password,
            "jdbc_url": "jdbc:postgresql://\(admin.host):\(admin.port)/\(database)?user=\(role)&password=\(password)",
        ])
    }

    public func unbind(_ request: UnbindRequest) async throws {
        let database = Self.database(request.instanceID)
        let owner = Self.owner(request.instanceID)
        let role = Self.role(request.instanceID, request.bindingID)
        let roleExists = try await withConnection { connection in
            try await exists(connection, "SELECT 1 FROM pg_roles WHERE rolname = $1", role)
        }
        guard roleExists else { return }
        let databaseExists = try await withConnection { connection in
            try await exists(connection, "SELECT 1 FROM pg_database WHERE datname = $1", database)
        }
        if databaseExists {
            try await withConnection(database: database) { connection in
                try await run(connection, "REASSIGN OWNED BY \(Self.quoted(role)) TO \(Self.quoted(owner))")
                try await run(connection, "DROP OWNED BY \(Self.quoted(role))")
            }
        }
        try await withConnection { connection in
            try await terminate(connection, where: "usename", is: role)
            try await run(connection, "DROP ROLE IF EXISTS \(Self.quoted(role))")
        }
    }

    public func deprovision(_ request: DeprovisionRequest) async throws {
        let database = Self.database(request.instanceID)
        let owner = Self.owner(request.instanceID)
        try await withConnection { connection in
            try await terminate(connection, where: "datname", is: database)
            try await run(connection, "DROP DATABASE IF EXISTS \(Self.quoted(database))")
            let rows = try await query(
                connection,
                """
                SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member JOIN pg_roles o ON o.oid = m.roleid
                WHERE o.rolname = $1 AND r.rolname <> current_user
                """, owner)
            var roles: [String] = []
            for try await row in rows { roles.append(try row.decode(String.self)) }
            for role in roles {
                try await terminate(connection, where: "usename", is: role)
                try await run(connection, "DROP ROLE IF EXISTS \(Self.quoted(role))")
            }
            try await run(connection, "DROP ROLE IF EXISTS \(Self.quoted(owner))")
        }
    }

    /// What the server still holds for an instance: its database and any of its roles (owner or
    /// binding roles), by name. Empty after a deprovision.
    public func leftovers(instanceID: String) async throws -> [String] {
        let prefix = Self.identifier("pb_", instanceID, limit: 25)
        return try await withConnection { connection in
            var names: [String] = []
            let sql = """
                SELECT 'database ' || datname::text FROM pg_database WHERE datname = $1
                UNION ALL SELECT 'role ' || rolname::text FROM pg_roles WHERE starts_with(rolname, $2) OR rolname = $3
                """
            var binds = PostgresBindings()
            binds.append(Self.database(instanceID))
            binds.append(prefix + "_b_")
            binds.append(Self.owner(instanceID))
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) {
                names.append(try row.decode(String.self))
            }
            return names.sorted()
        }
    }

    public func health() async -> ProviderHealth {
        do {
            try await withConnection { connection in try await run(connection, "SELECT 1") }
            return .healthy
        } catch {
            return .unhealthy("PostgreSQL at \(admin.host):\(admin.port) does not answer")
        }
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}

import BrokerCore
import Foundation
import Logging
import PostgreSQLProvider
import PostgresNIO
import Testing

/// Against a real PostgreSQL server: `./scripts/test` starts a throw-away cluster on loopback and
/// sets `POLYBROKER_TEST_POSTGRESQL_URL` (the tests need a server; they do not start one themselves).
@Suite("PostgreSQL provider", .enabled(if: ProcessInfo.processInfo.environment["POLYBROKER_TEST_POSTGRESQL_URL"] != nil))
struct PostgreSQLProviderTests {
    static var url: String { ProcessInfo.processInfo.environment["POLYBROKER_TEST_POSTGRESQL_URL"] ?? "" }
    static let plan = PlanReference(id: "p", name: "small", options: ["connection_limit": 20])
    static let logger = Logger(label: "pg-test")

    static func provider() throws -> any ProviderPlugin {
        try PostgreSQLProvider.factory.make(
            ["url": .string(url)], PluginEnvironment(providerID: "pg", dataDirectory: URL(fileURLWithPath: "/tmp"), logger: logger))
    }

    /// A client connection with binding credentials.
    static func connect(_ credentials: Credentials) async throws -> PostgresConnection {
        let configuration = PostgresConnection.Configuration(
            host: credentials["host"]!, port: Int(credentials["port"]!)!, username: credentials["username"]!,
            password: credentials["password"], database: credentials["database"], tls: .disable)
        return try await PostgresConnection.connect(configuration: configuration, id: 7, logger: logger)
    }

    static func admin(_ sql: String) async throws -> [String] {
        let admin = try #require(PostgreSQLProvider.Admin(url: url))
        let connection = try await PostgresConnection.connect(
            configuration: .init(host: admin.host, port: admin.port, username: admin.username, password: admin.password, database: admin.database, tls: .disable),
            id: 8, logger: logger)
        var values: [String] = []
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) { values.append(try row.decode(String.self)) }
        try await connection.close()
        return values
    }

    @Test func bindingsShareTheInstanceDataAndUnbindAndDeprovisionLeaveNothingBehind() async throws {
        let plugin = try Self.provider()
        let instance = "pg-\(UUID().uuidString.lowercased().prefix(8))"
        // Provision twice: one database
        let state = try await plugin.provision(ProvisionRequest(instanceID: instance, name: instance, offering: "postgresql", plan: Self.plan, parameters: [:]))
        _ = try await plugin.provision(ProvisionRequest(instanceID: instance, name: instance, offering: "postgresql", plan: Self.plan, parameters: [:]))
        let database = try #require(state.state["database"])
        #expect(try await Self.admin("SELECT datname::text FROM pg_database WHERE datname = '\(database)'") == [database])
        // A real client: create a table, insert, read back
        let first = try await plugin.bind(BindRequest(instanceID: instance, bindingID: "b1", plan: Self.plan, parameters: [:], state: state.state))
        #expect(first["uri"]?.hasPrefix("postgresql://") == true)
        #expect(first["jdbc_url"]?.hasPrefix("jdbc:postgresql://") == true)
        let one = try await Self.connect(first)
        try await one.query("CREATE TABLE orders (id int, item text)", logger: Self.logger)
        try await one.query("INSERT INTO orders VALUES (1, 'tea')", logger: Self.logger)
        try await one.close()
        // A later binding reads and writes what the first created
        let second = try await plugin.bind(BindRequest(instanceID: instance, bindingID: "b2", plan: Self.plan, parameters: [:], state: state.state))
        let two = try await Self.connect(second)
        try await two.query("INSERT INTO orders VALUES (2, 'cake')", logger: Self.logger)
        var items: [String] = []
        for try await row in try await two.query("SELECT item FROM orders ORDER BY id", logger: Self.logger) { items.append(try row.decode(String.self)) }
        #expect(items == ["tea", "cake"])
        try await two.close()
        // Unbinding revokes exactly that role (twice is fine)
        let unbind = UnbindRequest(instanceID: instance, bindingID: "b1", credentials: first, state: state.state)
        try await plugin.unbind(unbind)
        try await plugin.unbind(unbind)
        await #expect(throws: (any Error).self) { try await Self.connect(first) }
        let still = try await Self.connect(second)
        try await still.close()
        // Another instance's credentials cannot connect to this database
        let other = "pg-\(UUID().uuidString.lowercased().prefix(8))"
        let otherState = try await plugin.provision(ProvisionRequest(instanceID: other, name: other, offering: "postgresql", plan: Self.plan, parameters: [:]))
        var foreign = try await plugin.bind(BindRequest(instanceID: other, bindingID: "x", plan: Self.plan, parameters: [:], state: otherState.state)).values
        foreign["database"] = database
        await #expect(throws: (any Error).self) { try await Self.connect(Credentials(foreign)) }
        // Deprovision: no database, no role left (twice is fine)
        for id in [instance, other] {
            try await plugin.deprovision(DeprovisionRequest(instanceID: id, plan: Self.plan, state: [:]))
            try await plugin.deprovision(DeprovisionRequest(instanceID: id, plan: Self.plan, state: [:]))
        }
        #expect(try await Self.admin("SELECT datname::text FROM pg_database WHERE datname LIKE 'pb_pg_%'").isEmpty)
        #expect(try await Self.admin("SELECT rolname::text FROM pg_roles WHERE rolname LIKE 'pb_pg_%'").isEmpty)
        #expect(await plugin.health() == .healthy)
    }

    @Test func anUnreachableServerIsReportedWithoutItsPassword() async throws {
        let plugin = try PostgreSQLProvider.factory.make(
            ["url": "postgresql://admin:hunter2@127.0.0.1:1/postgres"], PluginEnvironment(providerID: "pg", dataDirectory: URL(fileURLWithPath: "/tmp"), logger: Self.logger))
        let health = await plugin.health()
        #expect(health == .unhealthy("PostgreSQL at 127.0.0.1:1 does not answer"))
        await #expect(throws: ProviderError.unreachable("cannot connect to PostgreSQL at 127.0.0.1:1")) {
            try await plugin.provision(ProvisionRequest(instanceID: "x", name: "x", offering: "postgresql", plan: Self.plan, parameters: [:]))
        }
        #expect(
            PostgreSQLProvider.factory.validate(["url": "mysql://x"]) == [
                "'url' is required: postgresql://ADMIN:PASSWORD@HOST:PORT/postgres[?sslmode=disable|prefer|require|verify-ca|verify-full&sslrootcert=FILE]"
            ])
        #expect(PostgreSQLProvider.factory.validate(["url": "postgresql://a:b@h/postgres?sslmode=maybe"]).count == 1)
        #expect(PostgreSQLProvider.factory.validate(["url": "postgresql://a:b@h/postgres?sslmode=verify-full"]).isEmpty)
    }

    @Test func sslModesFollowLibpqAgainstAServerWithoutTLS() async throws {
        // The throw-away server offers no TLS: prefer falls back to plain, require refuses clearly.
        let environment = PluginEnvironment(providerID: "pg", dataDirectory: URL(fileURLWithPath: "/tmp"), logger: Self.logger)
        let prefer = try PostgreSQLProvider.factory.make(["url": .string(Self.url + "?sslmode=prefer")], environment)
        #expect(await prefer.health() == .healthy)
        let require = try PostgreSQLProvider.factory.make(["url": .string(Self.url + "?sslmode=require")], environment)
        let error = await #expect(throws: ProviderError.self) {
            try await require.provision(ProvisionRequest(instanceID: "tls-1", name: "tls-1", offering: "postgresql", plan: Self.plan, parameters: [:]))
        }
        #expect(error?.description.hasSuffix("does not offer TLS (sslmode=require)") == true)
        #expect(throws: ProviderError.self) {
            try PostgreSQLProvider.factory.make(["url": .string(Self.url + "?sslmode=verify-full&sslrootcert=/nonexistent.pem")], environment)
        }
    }
}

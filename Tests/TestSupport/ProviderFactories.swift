import BrokerCore
import Foundation
import Gateway
import HummingbirdTesting
import Logging
import PostgreSQLProvider
import RedisProvider
import RemoteHTTPProvider
import SQLiteProvider
import StaticProvider
import UpstreamOSBProvider

#if canImport(Glibc)
    import Glibc
#endif

/// What a backend still holds, for tests that check nothing is left behind.
public struct BackendProbe: Sendable {
    /// What the backend holds for an instance (databases, roles, files, records), by name; empty when nothing.
    public let leftovers: @Sendable (_ instanceID: String) async throws -> [String]
    /// Params of this kind for a backend that cannot be reached (a closed loopback port).
    public let unreachableParams: JSONValue?
    /// A secret of the working params that must never show in an error or a health reason.
    public let secret: String?

    public init(
        leftovers: @escaping @Sendable (String) async throws -> [String], unreachableParams: JSONValue? = nil, secret: String? = nil
    ) {
        self.leftovers = leftovers
        self.unreachableParams = unreachableParams
        self.secret = secret
    }
}

/// A provider plugin under contract test, against its real backend.
public struct ProviderUnderTest: Sendable, CustomStringConvertible {
    /// Kind name.
    public let name: String
    /// The factory.
    public let factory: PluginFactory
    /// Whether each binding gets credentials of its own that unbinding revokes.
    public let revokesPerBinding: Bool
    /// Starts what the backend needs, builds the plugin, runs the body, stops the backend.
    let run: @Sendable (TemporaryDirectory, @escaping @Sendable (any ProviderPlugin, BackendProbe) async throws -> Void) async throws -> Void

    public var description: String { name }

    /// Runs `body` with a plugin of this kind for provider `p-test` on a live backend.
    public func withPlugin(
        in directory: TemporaryDirectory, _ body: @escaping @Sendable (any ProviderPlugin, BackendProbe) async throws -> Void
    ) async throws {
        try await run(directory, body)
    }

    static func environment(_ directory: TemporaryDirectory) -> PluginEnvironment {
        PluginEnvironment(providerID: "p-test", dataDirectory: directory.url, logger: Logger(label: "test"))
    }

    /// A loopback URL on which nothing listens.
    public static var closedPort: Int {
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Every kind whose backend this machine has: the embedded ones, `http` (the example provider
    /// in `examples/http-provider`), `osb` (a second Polybroker's /cf), and `postgresql` / `redis`
    /// when `scripts/test` started their servers.
    public static var all: [ProviderUnderTest] {
        var kinds = embedded + [http, osb]
        if let url = ProcessInfo.processInfo.environment["POLYBROKER_TEST_POSTGRESQL_URL"] { kinds.append(postgresql(url)) }
        if let url = ProcessInfo.processInfo.environment["POLYBROKER_TEST_REDIS_URL"] { kinds.append(redis(url)) }
        return kinds
    }

    /// The plugins that run without external servers.
    public static let embedded: [ProviderUnderTest] = [
        ProviderUnderTest(name: "sqlite", factory: SQLiteProvider.factory, revokesPerBinding: false) { directory, body in
            let plugin = try SQLiteProvider.factory.make(.emptyObject, environment(directory))
            let probe = BackendProbe(leftovers: { id in
                let file = (plugin as? SQLiteProvider)?.databaseFile(for: id).path ?? ""
                return FileManager.default.fileExists(atPath: file) ? [file] : []
            })
            try await body(plugin, probe)
        },
        ProviderUnderTest(name: "static", factory: StaticProvider.factory, revokesPerBinding: false) { directory, body in
            let plugin = try StaticProvider.factory.make(["credentials": ["uri": "https://api.example.com/v1", "api_key": "k-123"]], environment(directory))
            try await body(plugin, BackendProbe(leftovers: { _ in [] }))
        },
    ]

    /// PostgreSQL at an admin URL.
    public static func postgresql(_ url: String) -> ProviderUnderTest {
        ProviderUnderTest(name: "postgresql", factory: PostgreSQLProvider.factory, revokesPerBinding: true) { directory, body in
            let plugin = try PostgreSQLProvider.factory.make(["url": .string(url)], environment(directory))
            let password = PostgreSQLProvider.Admin(url: url)?.password
            let probe = BackendProbe(
                leftovers: { id in try await (plugin as! PostgreSQLProvider).leftovers(instanceID: id) },
                unreachableParams: ["url": .string("postgresql://postgres:\(password ?? "pw")@127.0.0.1:\(closedPort)/postgres")],
                secret: password)
            try await body(plugin, probe)
        }
    }

    /// Redis at an admin URL: what is left is the namespace's keys and the instance's ACL users.
    public static func redis(_ url: String) -> ProviderUnderTest {
        ProviderUnderTest(name: "redis", factory: RedisProvider.factory, revokesPerBinding: true) { directory, body in
            let plugin = try RedisProvider.factory.make(["url": .string(url)], environment(directory))
            let password = URLComponents(string: url)?.password
            let probe = BackendProbe(
                leftovers: { id in
                    let redis = plugin as! RedisProvider
                    let keys = try await redis.keyCount(instanceID: id)
                    return try await redis.users(instanceID: id).map { "user \($0)" } + (keys == 0 ? [] : ["\(keys) keys"])
                },
                unreachableParams: ["url": .string("redis://default:\(password ?? "pw")@127.0.0.1:\(closedPort)")],
                secret: password)
            try await body(plugin, probe)
        }
    }

    /// The example remote provider service, run with a bearer token.
    public static let http = ProviderUnderTest(name: "http", factory: RemoteHTTPProvider.factory, revokesPerBinding: true) { directory, body in
        let token = "provider-token-\(UUID().uuidString.prefix(8))"
        let server = try await ExampleHTTPProvider.start(state: directory.url.appendingPathComponent("provider-state.json"), token: token)
        defer { server.stop() }
        let plugin = try RemoteHTTPProvider.factory.make(
            ["url": .string(server.url), "token": .string(token), "retries": 1, "retry_delay_seconds": 0.1], environment(directory))
        let probe = BackendProbe(
            leftovers: { id in
                let instances = server.state()["instances"]?.objectValue ?? [:]
                return instances[id] == nil ? [] : ["instance \(id)"]
            },
            unreachableParams: ["url": .string("http://127.0.0.1:\(closedPort)"), "token": .string(token), "retries": 0], secret: token)
        try await body(plugin, probe)
    }

    /// A second Polybroker's /cf front-end as the upstream broker, polled every second (its sqlite
    /// offering hands every binding the same file, so bindings are not revoked one by one).
    public static let osb = ProviderUnderTest(name: "osb", factory: UpstreamOSBProvider.factory, revokesPerBinding: false) { directory, body in
        try await GatewayFixture.withUpstreamBroker { url, handle in
            let params: JSONValue = [
                "url": .string(url), "username": "polybroker", "password": .string(GatewayFixture.password),
                "service": "sqlite", "poll_interval_seconds": 1, "retries": 1, "retry_delay_seconds": 0.1,
            ]
            let plugin = try UpstreamOSBProvider.factory.make(params, environment(directory))
            var unreachable = params.objectValue ?? [:]
            unreachable["url"] = .string("http://127.0.0.1:\(closedPort)/cf")
            unreachable["retries"] = 0
            let probe = BackendProbe(
                leftovers: { id in
                    guard let aggregate = try await handle.broker.instance(.id(id)), aggregate.instance.state != .deleted else { return [] }
                    return ["upstream instance \(id) (\(aggregate.instance.state.rawValue))"]
                        + aggregate.bindings.map { "upstream binding \($0.id)" }
                },
                unreachableParams: .object(unreachable), secret: GatewayFixture.password)
            try await body(plugin, probe)
        }
    }
}

/// `examples/http-provider/provider.py`, run as a child process on a free loopback port.
public final class ExampleHTTPProvider: @unchecked Sendable {
    let process: Process
    let stateFile: URL
    /// The provider's base URL.
    public let url: String

    /// The example's path in the repository.
    public static var scriptPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/http-provider/provider.py").path
    }

    /// Debian's python3, else the first `python3` on PATH resolved to the real interpreter.
    static var pythonPath: String {
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") { return "/usr/bin/python3" }
        let which = Process()
        which.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        which.arguments = ["python3", "-c", "import sys; print(sys.executable)"]
        let output = Pipe()
        which.standardOutput = output
        try? which.run()
        which.waitUntilExit()
        let path = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? "/usr/bin/python3" : path
    }

    init(process: Process, stateFile: URL, url: String) {
        self.process = process
        self.stateFile = stateFile
        self.url = url
    }

    /// Starts the example with a bearer token and waits (up to 20 s) for its `listening on` line,
    /// on a thread of its own (the read blocks).
    public static func start(state: URL, token: String, port: Int = 0) async throws -> ExampleHTTPProvider {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try startBlocking(state: state, token: token, port: port) }) }
        }
    }

    static func startBlocking(state: URL, token: String, port: Int) throws -> ExampleHTTPProvider {
        let process = Process()
        // The interpreter itself, not a wrapper (a pyenv shim would survive `terminate()` as its parent).
        process.executableURL = URL(fileURLWithPath: pythonPath)
        process.arguments = [scriptPath, "--state", state.path, "--port", String(port)]
        var environment = ProcessInfo.processInfo.environment
        environment["PROVIDER_TOKEN"] = token
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        let deadline = Date().addingTimeInterval(20)
        while !line.contains(UInt8(ascii: "\n")) && Date() < deadline {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let address = text.split(separator: "\n").first?.split(separator: " ").last, text.hasPrefix("listening on ") else {
            process.terminate()
            throw ProviderError.unreachable("the example provider did not start: \(text)")
        }
        return ExampleHTTPProvider(process: process, stateFile: state, url: "http://\(address)")
    }

    /// The port it listens on.
    public var port: Int { Int(url.split(separator: ":").last ?? "") ?? 0 }

    /// The provider's state file as JSON.
    public func state() -> JSONValue {
        (try? Data(contentsOf: stateFile)).flatMap { JSONValue.parse($0) } ?? .emptyObject
    }

    /// Stops the process (it is reaped by Foundation once it exits).
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
    }
}

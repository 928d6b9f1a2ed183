import BrokerCore
import Foundation
import Logging
import NIOCore
import Testing

@testable import RedisProvider

/// Against a real Redis server: `./scripts/test` starts a throw-away `redis-server` on loopback and
/// sets `POLYBROKER_TEST_REDIS_URL` (the tests need a server; they do not start one themselves).
/// Every test uses instance ids of its own and checks that nothing of them is left at its end.
@Suite("Redis provider", .enabled(if: ProcessInfo.processInfo.environment["POLYBROKER_TEST_REDIS_URL"] != nil))
struct RedisProviderTests {
    static var url: String { ProcessInfo.processInfo.environment["POLYBROKER_TEST_REDIS_URL"] ?? "" }
    static let plan = PlanReference(id: "p", name: "small")
    static let environment = PluginEnvironment(providerID: "redis", dataDirectory: URL(fileURLWithPath: "/tmp"), logger: Logger(label: "redis-test"))

    /// The plugin, with a small SCAN batch so deprovisioning takes many rounds.
    static func provider(_ params: JSONValue? = nil) throws -> RedisProvider {
        let plugin = try RedisProvider.factory.make(params ?? ["url": .string(url), "scan_batch": 100], environment)
        return try #require(plugin as? RedisProvider)
    }

    /// A fresh id prefix for one test's instances.
    static func tag() -> String { "rt\(UUID().uuidString.lowercased().prefix(8))-" }

    /// A client connection with a binding's credentials, read from its `uri`.
    static func connect(_ credentials: Credentials, protocolVersion: Int = 2) async throws -> RedisConnection {
        let target = try RedisProvider.Admin(url: credentials["uri"] ?? "")
        #expect(target.host == credentials["host"] && String(target.port) == credentials["port"])
        #expect(target.username == credentials["username"] && target.password == credentials["password"])
        var configuration = RedisConnection.Configuration(host: target.host, port: target.port, username: target.username, password: target.password)
        configuration.protocolVersion = protocolVersion
        return try await RedisConnection.connect(configuration)
    }

    /// Runs commands as the server's admin.
    static func admin<T: Sendable>(_ body: (RedisConnection) async throws -> T) async throws -> T {
        let admin = try RedisProvider.Admin(url: url)
        let connection = try await RedisConnection.connect(
            .init(host: admin.host, port: admin.port, username: admin.username, password: admin.password)
        )
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// The error code a command is refused with, or nil when it is not refused.
    static func refusal(_ connection: RedisConnection, _ command: RESPCommand) async throws -> String? {
        do {
            _ = try await connection.send(command)
            return nil
        } catch let error as RedisError {
            return error.code
        }
    }

    /// What the server holds for ids starting with `tag`: keys (admin SCAN) and ACL users.
    static func leftovers(_ tag: String) async throws -> (keys: Int, users: [String]) {
        try await admin { connection in
            var cursor = "0"
            var keys = 0
            repeat {
                let reply = try await connection.send(["SCAN", cursor, "MATCH", tag + "*", "COUNT", "1000"])
                cursor = reply.elements?[0].string ?? "0"
                keys += reply.elements?[1].elements?.count ?? 0
            } while cursor != "0"
            let users = try await connection.send(["ACL", "USERS"]).elements?.compactMap(\.string) ?? []
            return (keys, users.filter { $0.hasPrefix("pb." + tag) })
        }
    }

    /// The user names in the server's ACL file, or nil when it has none.
    static func savedUsers() async throws -> [String]? {
        let path = try await admin { connection in try await connection.send(["CONFIG", "GET", "aclfile"]).elements?.last?.string }
        guard let path, !path.isEmpty else { return nil }
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { String($0.split(separator: " ")[1]) }
    }

    func provision(_ plugin: RedisProvider, _ id: String) async throws -> [String: String] {
        try await plugin.provision(ProvisionRequest(instanceID: id, name: id, offering: "redis", plan: Self.plan, parameters: [:])).state
    }

    func bind(_ plugin: RedisProvider, _ id: String, _ binding: String) async throws -> Credentials {
        try await plugin.bind(BindRequest(instanceID: id, bindingID: binding, plan: Self.plan, parameters: [:], state: [:]))
    }

    func unbind(_ plugin: RedisProvider, _ id: String, _ binding: String) async throws {
        try await plugin.unbind(UnbindRequest(instanceID: id, bindingID: binding, credentials: nil, state: [:]))
    }

    func deprovision(_ plugin: RedisProvider, _ id: String) async throws {
        try await plugin.deprovision(DeprovisionRequest(instanceID: id, plan: Self.plan, state: [:]))
    }

    @Test func aBindingWorksInsideItsNamespaceOnlyAndBindingsShareIt() async throws {
        let plugin = try Self.provider()
        let tag = Self.tag()
        let instance = tag + "one"
        // Given an instance provisioned twice
        let state = try await provision(plugin, instance)
        #expect(try await provision(plugin, instance) == state)
        #expect(state == ["key_prefix": instance + ":"])
        // When a binding's user connects with its credentials
        let first = try await bind(plugin, instance, "b1")
        #expect(first["key_prefix"] == instance + ":")
        #expect(first["username"] == "pb.\(instance).b1")
        #expect(first["uri"] == "redis://pb.\(instance).b1:\(first["password"]!)@\(first["host"]!):\(first["port"]!)")
        #expect(first["password"]?.count == 64)
        let one = try await Self.connect(first)
        // Then it reads and writes its namespace
        #expect(try await one.send(["SET", instance + ":k", "v"]) == .simpleString("OK"))
        #expect(try await one.send(["GET", instance + ":k"]) == .bulk("v"))
        #expect(try await one.send(["PUBLISH", instance + ":news", "hi"]) == .integer(0))
        // and nothing else: other keys and channels, server-wide and other-database commands
        for command: RESPCommand in [
            ["GET", "elsewhere"], ["SET", tag + "other:k", "v"], ["PUBLISH", "news", "hi"], ["FLUSHALL"], ["FLUSHDB"],
            ["CONFIG", "GET", "maxmemory"],
            ["KEYS", "*"], ["SCAN", "0"], ["RANDOMKEY"], ["DBSIZE"], ["SELECT", "1"], ["MOVE", instance + ":k", "1"],
            ["COPY", instance + ":k", instance + ":c", "DB", "1"], ["SWAPDB", "0", "1"], ["ACL", "LIST"], ["CLIENT", "LIST"], ["INFO"],
            ["FUNCTION", "FLUSH"], ["SCRIPT", "FLUSH"], ["PUBSUB", "CHANNELS"], ["MEMORY", "STATS"], ["CLIENT", "TRACKING", "ON", "BCAST"],
        ] {
            let code = try await Self.refusal(one, command)
            #expect(code == "NOPERM", "\(command.name) \(command.arguments.dropFirst().first.map { String(buffer: $0) } ?? "")")
        }
        // Scripts run with the binding's rules
        #expect(try await one.send(["EVAL", "return redis.call('GET', KEYS[1])", "1", instance + ":k"]) == .bulk("v"))
        await #expect(throws: RedisError.self) { try await one.send(["EVAL", "return redis.call('GET', 'elsewhere')", "0"]) }
        #expect(try await one.send(["MEMORY", "USAGE", instance + ":k"]).integer != nil)
        // Pipelined commands get their replies in order, a refusal among them included
        let replies = try await one.pipeline([
            ["SET", instance + ":n", "1"], ["INCR", instance + ":n"], ["GET", instance + ":n"], ["GET", "elsewhere"], ["DEL", instance + ":n"],
        ])
        #expect(replies.count == 5)
        #expect(Array(replies[0...2]) == [.simpleString("OK"), .integer(2), .bulk("2")])
        #expect(replies[3].isError(code: "NOPERM"))
        #expect(replies[4] == .integer(1))
        // A second binding sees the first one's keys, over RESP3 too
        let second = try await bind(plugin, instance, "b2")
        let two = try await Self.connect(second, protocolVersion: 3)
        #expect(try await two.send(["GET", instance + ":k"]) == .bulk("v"))
        #expect(try await two.send(["HSET", instance + ":h", "f", "x"]) == .integer(1))
        #expect(try await two.send(["HGETALL", instance + ":h"]) == .map([.init(.bulk("f"), .bulk("x"))]))
        // Another instance's binding cannot read this namespace
        let other = tag + "two"
        _ = try await provision(plugin, other)
        let foreign = try await Self.connect(try await bind(plugin, other, "b1"))
        #expect(try await Self.refusal(foreign, ["GET", instance + ":k"]) == "NOPERM")
        for connection in [one, two, foreign] { await connection.close() }
        // Deprovisioning leaves nothing
        for id in [instance, other] { try await deprovision(plugin, id) }
        let left = try await Self.leftovers(tag)
        #expect(left.keys == 0 && left.users.isEmpty)
    }

    @Test func unbindCutsTheBindingOffAndOnlyItAndTheACLFileFollows() async throws {
        let plugin = try Self.provider()
        let tag = Self.tag()
        let instance = tag + "u"
        _ = try await provision(plugin, instance)
        let first = try await bind(plugin, instance, "b1")
        let second = try await bind(plugin, instance, "b2")
        let open = try await Self.connect(first)
        #expect(try await open.send(["PING"]) == .simpleString("PONG"))
        if let saved = try await Self.savedUsers() { #expect(Set(saved).isSuperset(of: [first["username"]!, second["username"]!])) }
        // When b1 is unbound, twice
        try await unbind(plugin, instance, "b1")
        try await unbind(plugin, instance, "b1")
        try await unbind(plugin, instance, "never-bound")
        // Then its open connection is gone and its password no longer logs in
        await #expect(throws: RedisConnectionError.closed) { try await open.send(["PING"]) }
        await #expect(throws: RedisError.self) { try await Self.connect(first) }
        do {
            _ = try await Self.connect(first)
        } catch let error as RedisError {
            #expect(error.code == "WRONGPASS")
        }
        if let saved = try await Self.savedUsers() { #expect(!saved.contains(first["username"]!) && saved.contains(second["username"]!)) }
        // while b2 still works
        let still = try await Self.connect(second)
        #expect(try await still.send(["SET", instance + ":k", "1"]) == .simpleString("OK"))
        // Binding b2 again keeps the credentials already handed out and adds new ones
        let again = try await bind(plugin, instance, "b2")
        #expect(again["password"] != second["password"] && again["username"] == second["username"])
        #expect(try await still.send(["GET", instance + ":k"]) == .bulk("1"))
        let fresh = try await Self.connect(again)
        await fresh.close()
        await still.close()
        await (try await Self.connect(second)).close()
        try await deprovision(plugin, instance)
        try await deprovision(plugin, instance)
        let left = try await Self.leftovers(tag)
        #expect(left.keys == 0 && left.users.isEmpty)
        if let saved = try await Self.savedUsers() { #expect(!saved.contains { $0.hasPrefix("pb." + tag) }) }
    }

    @Test func deprovisionRemovesEveryKeyAndUserOfTheInstanceAndNothingElse() async throws {
        let plugin = try Self.provider()
        let tag = Self.tag()
        // Given two instances whose prefixes would overlap if `*` were not escaped: `…w*:` and `…wx:`
        let (star, plain) = (tag + "w*", tag + "wx")
        for id in [star, plain] { _ = try await provision(plugin, id) }
        let a1 = try await bind(plugin, star, "a1")
        _ = try await bind(plugin, star, "a2")
        let b1 = try await bind(plugin, plain, "b1")
        let writer = try await Self.connect(a1)
        let replies = try await writer.pipeline((0..<2500).map { RESPCommand(["SET", "\(star):key-\($0)", "\($0)"]) })
        #expect(replies.allSatisfy { $0 == .simpleString("OK") })
        let neighbour = try await Self.connect(b1)
        for index in 0..<10 { _ = try await neighbour.send(["SET", "\(plain):key-\(index)", "x"]) }
        #expect(try await Self.refusal(writer, ["GET", "\(plain):key-1"]) == "NOPERM")
        #expect(try await plugin.keyCount(instanceID: star) == 2500)
        #expect(try await plugin.keyCount(instanceID: plain) == 10)
        #expect(try await plugin.users(instanceID: star) == ["pb.\(tag)w_2A.a1", "pb.\(tag)w_2A.a2"])
        // When the first is deprovisioned, twice (SCAN batches of 100: many rounds)
        try await deprovision(plugin, star)
        try await deprovision(plugin, star)
        try await deprovision(plugin, tag + "never-made")
        // Then its keys and users are gone and its connections closed; the neighbour is untouched
        #expect(try await plugin.keyCount(instanceID: star) == 0)
        #expect(try await plugin.users(instanceID: star).isEmpty)
        await #expect(throws: RedisConnectionError.closed) { try await writer.send(["PING"]) }
        #expect(try await plugin.keyCount(instanceID: plain) == 10)
        #expect(try await neighbour.send(["GET", "\(plain):key-9"]) == .bulk("x"))
        await neighbour.close()
        try await deprovision(plugin, plain)
        let left = try await Self.leftovers(tag)
        #expect(left.keys == 0 && left.users.isEmpty)
    }

    @Test func healthAndErrorsNameTheServerButNeverThePassword() async throws {
        #expect(await (try Self.provider()).health() == .healthy)
        // A closed port
        let closed = try Self.provider(["url": "redis://admin:hunter2@127.0.0.1:1"])
        #expect(await closed.health() == .unhealthy("cannot connect to Redis at 127.0.0.1:1"))
        await #expect(throws: ProviderError.unreachable("cannot connect to Redis at 127.0.0.1:1")) {
            _ = try await provision(closed, "x")
        }
        // A wrong admin password
        let admin = try RedisProvider.Admin(url: Self.url)
        let wrong = try Self.provider(["url": .string("redis://default:hunter2@127.0.0.1:\(admin.port)")])
        let refusal = ProviderError.failed("Redis at 127.0.0.1:\(admin.port) refused the admin login (WRONGPASS)")
        #expect(await wrong.health() == .unhealthy(refusal.description))
        await #expect(throws: refusal) { _ = try await bind(wrong, "x", "y") }
        for plugin in [closed, wrong] {
            for attempt in 0..<3 {
                do {
                    switch attempt {
                    case 0: _ = try await provision(plugin, "x")
                    case 1: _ = try await bind(plugin, "x", "y")
                    default: try await deprovision(plugin, "x")
                    }
                    Issue.record("no error")
                } catch {
                    #expect(!"\(error)".contains("hunter2"))
                }
            }
        }
    }
}

extension RESPValue {
    fileprivate func isError(code: String) -> Bool {
        if case .error(let message) = self { return RedisError(message: message).code == code }
        return false
    }
}

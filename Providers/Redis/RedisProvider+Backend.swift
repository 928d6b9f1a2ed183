import BrokerCore
import Logging
import NIOCore

/// Connections and the commands the plugin runs, with every failure turned into a
/// client-safe `ProviderError` that names the endpoint and the Redis error code, never a
/// password or an argument.
extension RedisProvider {
    var configuration: RedisConnection.Configuration {
        var configuration = RedisConnection.Configuration(host: admin.host, port: admin.port, username: admin.username, password: admin.password)
        configuration.connectTimeout = .seconds(Int64(timeoutSeconds))
        configuration.replyTimeout = .seconds(Int64(timeoutSeconds))
        return configuration
    }

    /// Runs `body` on a fresh admin connection and closes it.
    func withConnection<T: Sendable>(_ body: (RedisConnection) async throws -> T) async throws -> T {
        let connection: RedisConnection
        do {
            connection = try await RedisConnection.connect(configuration)
        } catch let error as RedisError {
            throw ProviderError.failed("Redis at \(admin.endpoint) refused the admin login (\(error.code))")
        } catch {
            throw providerError(error)
        }
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw providerError(error)
        }
    }

    func providerError(_ error: any Error) -> ProviderError {
        switch error {
        case let error as ProviderError: error
        case RedisConnectionError.cannotConnect: .unreachable("cannot connect to Redis at \(admin.endpoint)")
        case RedisConnectionError.timedOut: .unreachable("Redis at \(admin.endpoint) did not answer within \(timeoutSeconds) s")
        case RedisConnectionError.closed: .unreachable("lost the connection to Redis at \(admin.endpoint)")
        case is RESPProtocolError: .failed("Redis at \(admin.endpoint) sent a reply that is not RESP")
        default: .failed("Redis at \(admin.endpoint) failed (\(type(of: error)))")
        }
    }

    /// Sends one command; an error reply becomes `ProviderError.failed` saying what was refused.
    func run(_ connection: RedisConnection, _ command: RESPCommand, _ purpose: String) async throws -> RESPValue {
        do {
            return try await connection.send(command)
        } catch let error as RedisError {
            throw ProviderError.failed("Redis at \(admin.endpoint) refused to \(purpose) (\(error.code))")
        }
    }

    /// The key pattern of an existing ACL user (its rules joined by spaces when it has more
    /// than one, as `bind` never sets), or nil when there is no such user.
    func keyPattern(ofUser user: String, on connection: RedisConnection) async throws -> String? {
        let reply = try await run(connection, ["ACL", "GETUSER", user], "describe an ACL user")
        if reply.isNull { return nil }
        // RESP2: a flat list of field names and values; RESP3: a map.
        var fields: [(String?, RESPValue)] = []
        if case .map(let pairs) = reply {
            fields = pairs.map { ($0.key.string, $0.value) }
        } else if let flat = reply.elements {
            fields = stride(from: 0, to: flat.count - 1, by: 2).map { (flat[$0].string, flat[$0 + 1]) }
        }
        guard let keys = fields.first(where: { $0.0 == "keys" })?.1 else { return "" }
        // Redis 7: one string of rules ("~a:* ~b:*"); Redis 6: a list of patterns.
        let rules = keys.string.map { $0.split(separator: " ").map(String.init) } ?? keys.elements?.compactMap(\.string) ?? []
        let patterns = rules.map { $0.hasPrefix("~") ? String($0.dropFirst()) : $0 }
        return patterns.joined(separator: " ")
    }

    /// The existing ACL users named for the instance whose key rule is the instance's.
    func users(of instanceID: String, on connection: RedisConnection) async throws -> [String] {
        let prefix = Self.userPrefix(instanceID)
        let pattern = Self.keyPattern(instanceID)
        let names = try await run(connection, ["ACL", "USERS"], "list the ACL users").elements?.compactMap(\.string) ?? []
        var users: [String] = []
        for name in names where name.hasPrefix(prefix) {
            if try await keyPattern(ofUser: name, on: connection) == pattern { users.append(name) }
        }
        return users
    }

    /// Disables the users, ends their connections and deletes them, in one pipeline.
    func remove(users: [String], on connection: RedisConnection) async throws {
        guard !users.isEmpty else { return }
        let commands = users.flatMap { user -> [RESPCommand] in
            [["ACL", "SETUSER", user, "off", "resetpass"], ["CLIENT", "KILL", "USER", user], ["ACL", "DELUSER", user]]
        }
        let replies = try await connection.pipeline(commands)
        for (command, reply) in zip(commands, replies) {
            guard case .error(let message) = reply else { continue }
            // A user deleted meanwhile has no clients to kill: that is the goal.
            if command.name == "CLIENT" && RedisError(message: message).code == "ERR" { continue }
            throw ProviderError.failed("Redis at \(admin.endpoint) refused to remove a binding's ACL user (\(RedisError(message: message).code))")
        }
    }

    /// Writes the users to the server's ACL file, so they survive a restart. A server without an
    /// ACL file keeps them in memory only: that is logged, not refused.
    func saveACL(on connection: RedisConnection) async throws {
        guard case .error(let message) = try await connection.pipeline([["ACL", "SAVE"]])[0] else { return }
        if message.contains("not configured to use an ACL file") {
            logger.debug("redis.acl.not-saved", metadata: ["reason": "the server has no aclfile"])
            return
        }
        throw ProviderError.failed("Redis at \(admin.endpoint) refused to save its ACL file (\(RedisError(message: message).code))")
    }

    /// Calls `body` with each `SCAN` batch of the namespace's keys until the cursor returns to 0.
    func scanKeys(of instanceID: String, on connection: RedisConnection, _ body: ([ByteBuffer]) async throws -> Void) async throws {
        let pattern = Self.keyPattern(instanceID)
        var cursor = "0"
        repeat {
            let reply = try await run(connection, ["SCAN", cursor, "MATCH", pattern, "COUNT", String(scanBatch)], "scan the keys")
            guard let parts = reply.elements, parts.count == 2, let next = parts[0].string, let keys = parts[1].elements else {
                throw ProviderError.failed("Redis at \(admin.endpoint) answered SCAN with something else than a cursor and keys")
            }
            try await body(keys.compactMap { if case .bulkString(let key) = $0 { key } else { nil } })
            cursor = next
        } while cursor != "0"
    }

    /// Unlinks every key of the namespace, one `UNLINK` per `SCAN` batch.
    func deleteKeys(of instanceID: String, on connection: RedisConnection) async throws {
        try await scanKeys(of: instanceID, on: connection) { keys in
            guard !keys.isEmpty else { return }
            _ = try await run(connection, RESPCommand(arguments: [ByteBuffer(string: "UNLINK")] + keys), "delete the instance's keys")
        }
    }
}

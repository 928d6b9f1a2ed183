import NIOCore
import NIOPosix

/// An error reply from the server, e.g. `NOPERM this user has no permissions…` or
/// `WRONGPASS invalid username-password pair…`.
struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The whole message, code first.
    var message: String

    /// The first word: `ERR`, `NOPERM`, `WRONGPASS`, `NOAUTH`, …
    var code: String { String(message.prefix { $0 != " " }) }

    var description: String { message }
}

/// Why a connection could not be made or used. Never carries a password.
enum RedisConnectionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No TCP connection within the connect timeout.
    case cannotConnect(host: String, port: Int)
    /// The connection closed before the replies came.
    case closed
    /// No reply within the reply timeout; the connection was closed.
    case timedOut

    var description: String {
        switch self {
        case .cannotConnect(let host, let port): "cannot connect to Redis at \(host):\(port)"
        case .closed: "the Redis connection closed"
        case .timedOut: "Redis did not answer in time"
        }
    }
}

/// One client connection speaking RESP2, or RESP3 after `HELLO 3`.
///
/// Commands can be sent from any task; replies come back in the order the commands were
/// written; `pipeline` writes several commands at once and collects their replies.
struct RedisConnection: Sendable {
    /// Where and how to connect.
    struct Configuration: Sendable, CustomStringConvertible {
        var host: String
        var port: Int
        /// The ACL user; nil authenticates the default user with `password` alone.
        var username: String?
        /// nil sends no AUTH.
        var password: String?
        var connectTimeout: TimeAmount = .seconds(10)
        /// How long to wait for the next reply before giving up on the connection.
        var replyTimeout: TimeAmount = .seconds(10)
        /// 2, or 3 to send `HELLO 3` (with the credentials) instead of `AUTH`.
        var protocolVersion = 2

        init(host: String, port: Int, username: String? = nil, password: String? = nil) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
        }

        /// Where to, without the password.
        var description: String { "\(username ?? "default")@\(host):\(port)" }
    }

    let channel: any Channel

    /// Connects and authenticates. An AUTH or HELLO refusal is thrown as its `RedisError`.
    static func connect(
        _ configuration: Configuration,
        on group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> RedisConnection {
        let replyTimeout = configuration.replyTimeout
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder()))
                    try channel.pipeline.syncOperations.addHandler(RESPHandler(replyTimeout: replyTimeout))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            throw RedisConnectionError.cannotConnect(host: configuration.host, port: configuration.port)
        }
        let connection = RedisConnection(channel: channel)
        do {
            try await connection.handshake(configuration)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    private func handshake(_ configuration: Configuration) async throws {
        if configuration.protocolVersion == 3 {
            var hello = ["HELLO", "3"]
            if let password = configuration.password { hello += ["AUTH", configuration.username ?? "default", password] }
            _ = try await send(RESPCommand(hello))
        } else if let password = configuration.password {
            _ = try await send(RESPCommand(["AUTH"] + (configuration.username.map { [$0] } ?? []) + [password]))
        }
    }

    /// Sends the commands in one write and returns one reply per command, in order. Error
    /// replies are returned as `.error` values, so one refused command does not hide the others.
    func pipeline(_ commands: [RESPCommand]) async throws -> [RESPValue] {
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        channel.writeAndFlush(RESPRequest(commands: commands, promise: promise)).whenFailure { _ in
            promise.fail(RedisConnectionError.closed)
        }
        return try await promise.futureResult.get()
    }

    /// Sends one command; an error reply is thrown as `RedisError`.
    func send(_ command: RESPCommand) async throws -> RESPValue {
        let reply = try await pipeline([command])[0]
        if case .error(let message) = reply { throw RedisError(message: message) }
        return reply
    }

    /// Whether the connection is still open.
    var isOpen: Bool { channel.isActive }

    /// Closes the connection; closing a closed one does nothing.
    func close() async {
        try? await channel.close()
    }
}

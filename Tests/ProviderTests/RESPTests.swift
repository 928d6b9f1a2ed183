import NIOCore
import NIOPosix
import Testing

@testable import RedisProvider

/// The RESP decoder and encoder on byte strings, no server needed.
@Suite("RESP")
struct RESPTests {
    /// Every RESP2 and RESP3 type: its wire form and the value it decodes to.
    static let samples: [(String, RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("+\r\n", .simpleString("")),
        (
            "-NOPERM this user has no permissions to run the 'keys' command\r\n",
            .error("NOPERM this user has no permissions to run the 'keys' command")
        ),
        (":0\r\n", .integer(0)),
        (":-9223372036854775808\r\n", .integer(.min)),
        ("$5\r\nhello\r\n", .bulk("hello")),
        ("$0\r\n\r\n", .bulk("")),
        ("$4\r\na\r\nb\r\n", .bulk("a\r\nb")),
        ("$-1\r\n", .null),
        ("*-1\r\n", .null),
        ("*0\r\n", .array([])),
        ("*3\r\n:1\r\n$1\r\nx\r\n$-1\r\n", .array([.integer(1), .bulk("x"), .null])),
        ("*2\r\n*2\r\n:1\r\n:2\r\n*1\r\n*0\r\n", .array([.array([.integer(1), .integer(2)]), .array([.array([])])])),
        ("_\r\n", .null),
        ("#t\r\n", .boolean(true)),
        ("#f\r\n", .boolean(false)),
        (",3.25\r\n", .double(3.25)),
        (",-1.5e-05\r\n", .double(-1.5e-05)),
        (",inf\r\n", .double(.infinity)),
        (",-inf\r\n", .double(-.infinity)),
        ("(3492890328409238509324850943850943825024385\r\n", .bigNumber("3492890328409238509324850943850943825024385")),
        ("(-12\r\n", .bigNumber("-12")),
        ("!21\r\nSYNTAX invalid syntax\r\n", .error("SYNTAX invalid syntax")),
        ("=15\r\ntxt:Some string\r\n", .verbatim(format: "txt", text: "Some string")),
        (
            "%2\r\n+server\r\n$5\r\nredis\r\n+proto\r\n:3\r\n",
            .map([.init(.simpleString("server"), .bulk("redis")), .init(.simpleString("proto"), .integer(3))])
        ),
        ("%0\r\n", .map([])),
        ("~3\r\n:1\r\n#t\r\n_\r\n", .set([.integer(1), .boolean(true), .null])),
        (">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", .push([.bulk("message"), .bulk("ch"), .bulk("hi")])),
    ]

    static func parseAll(_ text: String) throws -> [RESPValue] {
        var buffer = ByteBuffer(string: text)
        var values: [RESPValue] = []
        while let value = try RESPDecoder.parse(&buffer) { values.append(value) }
        #expect(buffer.readableBytes == 0)
        return values
    }

    @Test(arguments: samples)
    func everyTypeDecodes(wire: String, expected: RESPValue) throws {
        #expect(try Self.parseAll(wire) == [expected])
    }

    @Test(arguments: samples)
    func aValueSplitAtEveryByteDecodesOnlyWhenComplete(wire: String, expected: RESPValue) throws {
        // Given the bytes arriving one at a time into the decoder's buffer
        var buffer = ByteBuffer()
        let bytes = Array(wire.utf8)
        for (index, byte) in bytes.enumerated() {
            buffer.writeInteger(byte)
            let value = try RESPDecoder.parse(&buffer)
            if index < bytes.count - 1 {
                // Then nothing decodes and nothing is consumed until the last byte
                #expect(value == nil)
                #expect(buffer.readableBytes == index + 1)
            } else {
                #expect(value == expected)
                #expect(buffer.readableBytes == 0)
            }
        }
    }

    @Test func nanDecodes() throws {
        let values = try Self.parseAll(",nan\r\n")
        guard case .double(let value) = values.first else {
            Issue.record("not a double: \(values)")
            return
        }
        #expect(value.isNaN)
    }

    /// RESP2 nulls encode as RESP3's `_`, blob errors as simple ones; the rest encode as they were sent.
    @Test(arguments: samples.filter { !$0.0.contains("-1\r\n") && !$0.0.hasPrefix("!") && !$0.0.hasPrefix(",-1.5") })
    func encodingGivesTheWireFormBack(wire: String, value: RESPValue) {
        var buffer = ByteBuffer()
        value.encode(into: &buffer)
        #expect(String(buffer: buffer) == wire)
    }

    @Test func encodedValuesDecodeToThemselves() throws {
        let all = RESPValue.array(Self.samples.map(\.1) + [.double(-1.5e-05), .map([.init(.array([.null]), .set([]))])])
        var buffer = ByteBuffer()
        all.encode(into: &buffer)
        #expect(try RESPDecoder.parse(&buffer) == all)
    }

    @Test func pipelinedRepliesInOneBufferDecodeInOrder() throws {
        // Replies to SET, GET, a refused KEYS and a missing GET, as one read
        let wire = "+OK\r\n$3\r\nbar\r\n-NOPERM no\r\n$-1\r\n"
        #expect(try Self.parseAll(wire) == [.simpleString("OK"), .bulk("bar"), .error("NOPERM no"), .null])
    }

    @Test func aReplySplitAcrossReadsKeepsTheRestForLater() throws {
        // Given an array whose bulk string is cut in the middle, followed later by the rest and another reply
        var buffer = ByteBuffer(string: "*2\r\n$5\r\nhel")
        #expect(try RESPDecoder.parse(&buffer) == nil)
        buffer.writeString("lo\r\n:7\r\n+NEXT")
        #expect(try RESPDecoder.parse(&buffer) == .array([.bulk("hello"), .integer(7)]))
        #expect(try RESPDecoder.parse(&buffer) == nil)
        buffer.writeString("\r\n")
        #expect(try RESPDecoder.parse(&buffer) == .simpleString("NEXT"))
    }

    @Test func attributesAreDroppedAndTheAnnotatedValueReturned() throws {
        #expect(try Self.parseAll("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:2039123\r\n") == [.array([.integer(2_039_123)])])
    }

    @Test func bulkStringsAreBinarySafe() throws {
        var buffer = ByteBuffer(string: "$3\r\n")
        buffer.writeBytes([0xff, 0x00, 0x0d])
        buffer.writeString("\r\n")
        #expect(try RESPDecoder.parse(&buffer) == .bulkString(ByteBuffer(bytes: [0xff, 0x00, 0x0d])))
    }

    @Test(arguments: [
        "?x\r\n", ":12a\r\n", "+OK\rX", "$3\r\nabcXY", "#x\r\n", ",1.2.3\r\n", "(12x\r\n", "%-1\r\n", "$-2\r\n", "_x\r\n", "=3\r\ntxt\r\n",
        "$?\r\n", "$600000000\r\n",
    ])
    func malformedInputIsAProtocolError(wire: String) {
        var buffer = ByteBuffer(string: wire)
        #expect(throws: RESPProtocolError.self) { try RESPDecoder.parse(&buffer) }
    }

    @Test func nestingIsBounded() {
        var buffer = ByteBuffer(string: String(repeating: "*1\r\n", count: 200) + ":1\r\n")
        #expect(throws: RESPProtocolError.self) { try RESPDecoder.parse(&buffer) }
    }

    @Test func commandsAreArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        let command: RESPCommand = ["SET", "k", "välue"]
        command.encode(into: &buffer)
        #expect(String(buffer: buffer) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\nvälue\r\n")
        #expect(RESPCommand(["acl", "setuser", "u", ">secret"]).name == "ACL")
    }

    @Test func errorRepliesCarryTheirMessageAndCode() {
        let error = RedisError(message: "WRONGPASS invalid username-password pair or user is disabled.")
        #expect(error.code == "WRONGPASS")
        #expect("\(error)" == "WRONGPASS invalid username-password pair or user is disabled.")
    }

    @Test func aClosedPortIsReportedWithoutCredentials() async throws {
        await #expect(throws: RedisConnectionError.cannotConnect(host: "127.0.0.1", port: 1)) {
            try await RedisConnection.connect(.init(host: "127.0.0.1", port: 1, username: "u", password: "hunter2"))
        }
    }

    @Test func aServerThatNeverAnswersTimesOutAndClosesTheConnection() async throws {
        // Given a server that accepts and stays silent
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        var configuration = RedisConnection.Configuration(host: "127.0.0.1", port: port)
        configuration.replyTimeout = .milliseconds(300)
        let connection = try await RedisConnection.connect(configuration)
        // When two pipelined commands get no reply, then they fail with the timeout, the connection is closed,
        // and later commands fail at once
        await #expect(throws: RedisConnectionError.timedOut) { try await connection.pipeline([["PING"], ["PING"]]) }
        try await connection.channel.closeFuture.get()
        await #expect(throws: (any Error).self) { try await connection.send(["PING"]) }
        await connection.close()
        try await server.close()
    }
}

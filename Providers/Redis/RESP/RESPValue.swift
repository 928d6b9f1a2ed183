import NIOCore

/// One RESP2 or RESP3 value, as a Redis server sends it.
///
/// RESP2's null bulk string (`$-1`) and null array (`*-1`) and RESP3's null (`_`) all decode
/// to `.null`. A blob error (`!`) decodes to `.error` like a simple one (`-`).
enum RESPValue: Sendable, Equatable {
    /// `+OK`
    case simpleString(String)
    /// `-ERR message` or `!<length>` blob error: the whole message, code first.
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$<length>` binary-safe string.
    case bulkString(ByteBuffer)
    /// `*<count>`
    case array([RESPValue])
    /// `_`, `$-1`, `*-1`
    case null
    /// `#t`, `#f`
    case boolean(Bool)
    /// `,3.14`, `,inf`, `,-inf`, `,nan`
    case double(Double)
    /// `(3492890328409238509324850943850943825024385`, kept as its digits.
    case bigNumber(String)
    /// `=<length>` with a three-letter format (`txt`, `mkd`) and the text.
    case verbatim(format: String, text: String)
    /// `%<count>` key-value pairs, in the server's order.
    case map([Pair])
    /// `~<count>`
    case set([RESPValue])
    /// `><count>` out-of-band data (pub/sub messages, invalidations).
    case push([RESPValue])

    /// One entry of a RESP3 map.
    struct Pair: Sendable, Equatable {
        var key: RESPValue
        var value: RESPValue

        init(_ key: RESPValue, _ value: RESPValue) {
            self.key = key
            self.value = value
        }
    }

    /// A bulk string of UTF-8 text.
    static func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }

    /// The text of a simple, bulk or verbatim string or a big number (bulk strings decoded as UTF-8).
    var string: String? {
        switch self {
        case .simpleString(let text), .bigNumber(let text): text
        case .bulkString(let buffer): String(buffer: buffer)
        case .verbatim(_, let text): text
        default: nil
        }
    }

    /// The value of an integer.
    var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The elements of an array, set or push.
    var elements: [RESPValue]? {
        switch self {
        case .array(let values), .set(let values), .push(let values): values
        default: nil
        }
    }

    /// Whether this is a null of either protocol version.
    var isNull: Bool { self == .null }
}

extension RESPValue {
    /// Appends the RESP3 form of the value (RESP2 form for the RESP2 types).
    func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .simpleString(let text): buffer.writeLine("+", text)
        case .error(let message): buffer.writeLine("-", message)
        case .integer(let value): buffer.writeLine(":", String(value))
        case .bulkString(let bytes):
            buffer.writeLine("$", String(bytes.readableBytes))
            buffer.writeImmutableBuffer(bytes)
            buffer.writeStaticString("\r\n")
        case .array(let values): buffer.writeAggregate("*", values)
        case .null: buffer.writeStaticString("_\r\n")
        case .boolean(let value): buffer.writeLine("#", value ? "t" : "f")
        case .double(let value): buffer.writeLine(",", Self.text(of: value))
        case .bigNumber(let digits): buffer.writeLine("(", digits)
        case .verbatim(let format, let text):
            let body = format + ":" + text
            buffer.writeLine("=", String(body.utf8.count))
            buffer.writeString(body)
            buffer.writeStaticString("\r\n")
        case .map(let pairs):
            buffer.writeLine("%", String(pairs.count))
            for pair in pairs {
                pair.key.encode(into: &buffer)
                pair.value.encode(into: &buffer)
            }
        case .set(let values): buffer.writeAggregate("~", values)
        case .push(let values): buffer.writeAggregate(">", values)
        }
    }

    /// RESP3's spelling of a double.
    static func text(of value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return "\(value)"
    }
}

extension ByteBuffer {
    fileprivate mutating func writeLine(_ type: StaticString, _ text: String) {
        writeStaticString(type)
        writeString(text)
        writeStaticString("\r\n")
    }

    fileprivate mutating func writeAggregate(_ type: StaticString, _ values: [RESPValue]) {
        writeLine(type, String(values.count))
        for value in values { value.encode(into: &self) }
    }
}

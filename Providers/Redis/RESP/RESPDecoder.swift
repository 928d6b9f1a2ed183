import NIOCore

/// The stream is not valid RESP; the connection cannot be used any more.
struct RESPProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong.
    var reason: String

    var description: String { "invalid RESP: \(reason)" }
}

/// Decodes RESP2 and RESP3 values from a byte stream, one complete value at a time.
///
/// Attributes (`|`) are read and dropped; the value they annotate is returned. Streamed
/// strings and aggregates (`?` lengths) are not supported: Redis does not send them.
struct RESPDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = RESPValue

    /// The longest line (a simple string, error or length header) accepted.
    static let maximumLineLength = 1 << 20
    /// The longest bulk string accepted (Redis' own default `proto-max-bulk-len`).
    static let maximumBulkLength = 512 << 20
    /// How deeply aggregates may nest.
    static let maximumDepth = 100

    mutating func decode(buffer: inout ByteBuffer) throws -> RESPValue? {
        try Self.parse(&buffer)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RESPValue? {
        try Self.parse(&buffer)
    }

    /// Reads one complete value, or returns nil and consumes nothing when more bytes are needed.
    static func parse(_ buffer: inout ByteBuffer) throws -> RESPValue? {
        var copy = buffer
        guard let value = try value(from: &copy, depth: 0) else { return nil }
        buffer.moveReaderIndex(to: copy.readerIndex)
        return value
    }

    // MARK: Grammar

    private static func value(from buffer: inout ByteBuffer, depth: Int) throws -> RESPValue? {
        guard depth <= maximumDepth else { throw RESPProtocolError(reason: "aggregates nested deeper than \(maximumDepth)") }
        guard let type = buffer.readInteger(as: UInt8.self) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            return try line(from: &buffer).map(RESPValue.simpleString)
        case UInt8(ascii: "-"):
            return try line(from: &buffer).map(RESPValue.error)
        case UInt8(ascii: ":"):
            guard let text = try line(from: &buffer) else { return nil }
            guard let value = Int64(text) else { throw RESPProtocolError(reason: "integer '\(text.prefix(40))'") }
            return .integer(value)
        case UInt8(ascii: "$"):
            guard let length = try length(from: &buffer) else { return nil }
            if length < 0 { return .null }
            return try blob(from: &buffer, length: length).map(RESPValue.bulkString)
        case UInt8(ascii: "!"):
            guard let length = try length(from: &buffer, nullable: false) else { return nil }
            return try blob(from: &buffer, length: length).map { .error(String(buffer: $0)) }
        case UInt8(ascii: "="):
            guard let length = try length(from: &buffer, nullable: false) else { return nil }
            guard let body = try blob(from: &buffer, length: length) else { return nil }
            let text = String(buffer: body)
            guard length >= 4, text.utf8.dropFirst(3).first == UInt8(ascii: ":") else {
                throw RESPProtocolError(reason: "verbatim string without a format")
            }
            return .verbatim(format: String(text.prefix(3)), text: String(text.dropFirst(4)))
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"):
            guard let count = try length(from: &buffer) else { return nil }
            if count < 0 { return .null }
            guard let values = try elements(from: &buffer, count: count, depth: depth) else { return nil }
            switch type {
            case UInt8(ascii: "*"): return .array(values)
            case UInt8(ascii: "~"): return .set(values)
            default: return .push(values)
            }
        case UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard let count = try length(from: &buffer, nullable: false) else { return nil }
            guard let flat = try elements(from: &buffer, count: count * 2, depth: depth) else { return nil }
            let pairs = stride(from: 0, to: flat.count, by: 2).map { RESPValue.Pair(flat[$0], flat[$0 + 1]) }
            if type == UInt8(ascii: "%") { return .map(pairs) }
            // An attribute: drop it and return the value it annotates.
            return try value(from: &buffer, depth: depth)
        case UInt8(ascii: "_"):
            guard let text = try line(from: &buffer) else { return nil }
            guard text.isEmpty else { throw RESPProtocolError(reason: "null with a payload") }
            return .null
        case UInt8(ascii: "#"):
            guard let text = try line(from: &buffer) else { return nil }
            switch text {
            case "t": return .boolean(true)
            case "f": return .boolean(false)
            default: throw RESPProtocolError(reason: "boolean '\(text.prefix(40))'")
            }
        case UInt8(ascii: ","):
            guard let text = try line(from: &buffer) else { return nil }
            guard let value = Double(text) else { throw RESPProtocolError(reason: "double '\(text.prefix(40))'") }
            return .double(value)
        case UInt8(ascii: "("):
            guard let text = try line(from: &buffer) else { return nil }
            let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw RESPProtocolError(reason: "big number '\(text.prefix(40))'")
            }
            return .bigNumber(text)
        default:
            throw RESPProtocolError(reason: "unknown type byte \(type)")
        }
    }

    /// `count` values, or nil when the buffer ends before the last one.
    private static func elements(from buffer: inout ByteBuffer, count: Int, depth: Int) throws -> [RESPValue]? {
        var values: [RESPValue] = []
        values.reserveCapacity(min(count, 1024))
        for _ in 0..<count {
            guard let value = try value(from: &buffer, depth: depth + 1) else { return nil }
            values.append(value)
        }
        return values
    }

    /// The text up to the next CRLF, consumed with it.
    private static func line(from buffer: inout ByteBuffer) throws -> String? {
        let view = buffer.readableBytesView
        guard let carriageReturn = view.firstIndex(of: UInt8(ascii: "\r")) else {
            if view.count > maximumLineLength { throw RESPProtocolError(reason: "line longer than \(maximumLineLength) bytes") }
            return nil
        }
        let length = carriageReturn - view.startIndex
        guard length <= maximumLineLength else { throw RESPProtocolError(reason: "line longer than \(maximumLineLength) bytes") }
        guard view.count > length + 1 else { return nil }
        guard view[carriageReturn + 1] == UInt8(ascii: "\n") else { throw RESPProtocolError(reason: "CR without LF") }
        let text = buffer.readString(length: length)
        buffer.moveReaderIndex(forwardBy: 2)
        return text
    }

    /// A length header: -1 for null (where `nullable`), otherwise a count or byte length.
    private static func length(from buffer: inout ByteBuffer, nullable: Bool = true) throws -> Int? {
        guard let text = try line(from: &buffer) else { return nil }
        guard let value = Int(text), value >= (nullable ? -1 : 0) else {
            if text == "?" { throw RESPProtocolError(reason: "streamed values are not supported") }
            throw RESPProtocolError(reason: "length '\(text.prefix(40))'")
        }
        guard value <= maximumBulkLength else { throw RESPProtocolError(reason: "length \(value) exceeds \(maximumBulkLength)") }
        return value
    }

    /// `length` bytes followed by CRLF.
    private static func blob(from buffer: inout ByteBuffer, length: Int) throws -> ByteBuffer? {
        guard buffer.readableBytes >= length + 2 else { return nil }
        let bytes = buffer.readSlice(length: length)!
        guard buffer.readInteger(as: UInt8.self) == UInt8(ascii: "\r"), buffer.readInteger(as: UInt8.self) == UInt8(ascii: "\n") else {
            throw RESPProtocolError(reason: "string not followed by CRLF")
        }
        return bytes
    }
}

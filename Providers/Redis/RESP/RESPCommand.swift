import NIOCore

/// One command: its name and arguments, sent as an array of bulk strings.
struct RESPCommand: Sendable, Equatable, ExpressibleByArrayLiteral {
    /// The name first, then the arguments, binary-safe.
    var arguments: [ByteBuffer]

    /// A command from binary-safe arguments.
    init(arguments: [ByteBuffer]) {
        self.arguments = arguments
    }

    /// A command from text arguments.
    init(_ arguments: [String]) {
        self.arguments = arguments.map { ByteBuffer(string: $0) }
    }

    init(arrayLiteral arguments: String...) {
        self.init(arguments)
    }

    /// The upper-cased command name, safe to show: never an argument.
    var name: String {
        arguments.first.map { String(buffer: $0).uppercased() } ?? ""
    }

    /// Appends the command as a RESP array of bulk strings.
    func encode(into buffer: inout ByteBuffer) {
        RESPValue.array(arguments.map(RESPValue.bulkString)).encode(into: &buffer)
    }
}

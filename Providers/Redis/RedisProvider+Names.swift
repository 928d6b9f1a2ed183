import BrokerCore

/// Key prefixes, ACL user names and ACL rules, all derived from canonical ids alone, so every
/// call finds what an earlier one made without keeping state.
extension RedisProvider {
    /// The key prefix of an instance: `<instance-id>:`, with `%`, `:`, blanks and control
    /// characters percent-encoded so that no instance's prefix starts with another's.
    public static func keyPrefix(_ instanceID: String) -> String {
        var bytes: [UInt8] = []
        for byte in instanceID.utf8 {
            if byte == UInt8(ascii: "%") || byte == UInt8(ascii: ":") || byte <= 0x20 || byte == 0x7f {
                bytes += Array("%\(hex(byte))".utf8)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self) + ":"
    }

    /// The glob pattern of an instance's keys and channels, for `SCAN MATCH` and ACL `~`/`&` rules.
    static func keyPattern(_ instanceID: String) -> String {
        globEscaped(keyPrefix(instanceID)) + "*"
    }

    /// Backslash-escapes the glob characters `* ? [ ] \`.
    static func globEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// The start of every ACL user name of an instance: `pb.<instance>.`.
    static func userPrefix(_ instanceID: String) -> String {
        "pb." + nameComponent(instanceID) + "."
    }

    /// The ACL user of a binding: `pb.<instance>.<binding>`.
    static func username(_ instanceID: String, _ bindingID: String) -> String {
        userPrefix(instanceID) + nameComponent(bindingID)
    }

    /// An id as URL-safe characters that never contain `.`: letters, digits and `-` stay,
    /// other bytes become `_XX`. Longer than 64 characters: the first 40 and `~` and a 64-bit
    /// hash, like `PostgreSQLProvider.identifier`. A hash collision cannot hand one instance
    /// another's keys: every user's key pattern is checked before it is changed or removed.
    static func nameComponent(_ id: String) -> String {
        var safe = ""
        for byte in id.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if byte < 0x80 && (character.isLetter || character.isNumber || character == "-") {
                safe.append(character)
            } else {
                safe += "_" + hex(byte)
            }
        }
        guard safe.count > 64 else { return safe }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return safe.prefix(40) + "~" + String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// What a binding user may not run, after `+@all`. `@dangerous` covers FLUSHALL, FLUSHDB,
    /// KEYS, CONFIG, SWAPDB, MIGRATE, SORT, INFO, MONITOR, DEBUG and CLIENT LIST/KILL. The rest:
    /// SELECT, MOVE and COPY (DB option) would escape to other databases, which deprovision does
    /// not scan; SCAN, RANDOMKEY and DBSIZE see every namespace; PUBSUB lists every channel;
    /// FUNCTION, SCRIPT FLUSH and SCRIPT KILL change state all tenants share; CLIENT TRACKING
    /// in broadcast mode reports other namespaces' keys; MEMORY reports on the whole server
    /// except `MEMORY USAGE <key>`, which the key rule checks.
    static let deniedCommands = [
        "-@dangerous", "-@admin", "-select", "-move", "-copy", "-swapdb", "-scan", "-randomkey", "-dbsize", "-pubsub",
        "-function", "-script|flush", "-script|kill", "-client|tracking", "-memory", "+memory|usage",
    ]

    /// `ACL SETUSER` for a binding: enabled, the password added, exactly the instance's keys
    /// and channels, and the command rules. Passwords set by earlier binds of the same id stay
    /// valid (see `bind`).
    static func setUser(_ user: String, password: String, instanceID: String) -> RESPCommand {
        let pattern = keyPattern(instanceID)
        return RESPCommand(
            ["ACL", "SETUSER", user, "on", ">" + password, "resetkeys", "~" + pattern, "resetchannels", "&" + pattern, "+@all"]
                + deniedCommands
        )
    }

    /// A 256-bit random password in hex.
    static func newPassword() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let digits = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined()
    }

    /// Percent-encodes everything but ASCII letters, digits and `-._~`, for a URI's user info.
    static func percentEncoded(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if byte < 0x80 && (character.isLetter || character.isNumber || "-._~".contains(character)) {
                encoded.append(character)
            } else {
                encoded += "%" + hex(byte)
            }
        }
        return encoded
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return byte < 16 ? "0" + digits : digits
    }
}

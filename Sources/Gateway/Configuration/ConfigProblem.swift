import BrokerCore
/// One thing wrong with a configuration, named by its key path (`offerings[1].plans[0].name`).
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    /// Key path.
    public var path: String
    /// What is wrong.
    public var message: String

    /// Creates a problem.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// A configuration that cannot be used, with every problem found.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The problems.
    public var problems: [ConfigProblem]

    /// Creates the error.
    public init(problems: [ConfigProblem]) {
        self.problems = problems
    }

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}

/// Typed reads from a JSON document that collect problems instead of stopping at the first.
struct ConfigReader {
    var problems: [ConfigProblem] = []

    mutating func problem(_ path: String, _ message: String) {
        problems.append(ConfigProblem(path: path, message: message))
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// The members of an object; a problem when present but not an object.
    mutating func object(_ value: JSONValue?, at path: String) -> [String: JSONValue]? {
        guard let value, !value.isNull else { return nil }
        guard let members = value.objectValue else {
            problem(path, "must be a mapping, not \(value.typeName)")
            return nil
        }
        return members
    }

    mutating func checkKeys(_ members: [String: JSONValue], allowed: Set<String>, at path: String) {
        for key in members.keys.sorted() where !allowed.contains(key) {
            problem(Self.join(path, key), "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    mutating func string(_ members: [String: JSONValue], _ key: String, at path: String) -> String? {
        guard let value = members[key], !value.isNull else { return nil }
        switch value {
        case .string(let string): return string
        case .int, .double, .bool: return value.canonicalText()
        default:
            problem(Self.join(path, key), "must be a string, not \(value.typeName)")
            return nil
        }
    }

    mutating func requiredString(_ members: [String: JSONValue], _ key: String, at path: String) -> String? {
        guard let string = string(members, key, at: path) else {
            if members[key] == nil || members[key]?.isNull == true { problem(Self.join(path, key), "is required") }
            return nil
        }
        if string.isEmpty {
            problem(Self.join(path, key), "must not be empty")
            return nil
        }
        return string
    }

    mutating func int(_ members: [String: JSONValue], _ key: String, at path: String, range: ClosedRange<Int>) -> Int? {
        guard let value = members[key], !value.isNull else { return nil }
        let number = value.integerValue ?? value.stringValue.flatMap { Int64($0) }
        guard let number, range.contains(Int(clamping: number)) else {
            problem(Self.join(path, key), "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return Int(number)
    }

    mutating func double(_ members: [String: JSONValue], _ key: String, at path: String, minimum: Double) -> Double? {
        guard let value = members[key], !value.isNull else { return nil }
        let number = value.numberValue ?? value.stringValue.flatMap { Double($0) }
        guard let number, number >= minimum else {
            problem(Self.join(path, key), "must be a number of at least \(minimum)")
            return nil
        }
        return number
    }

    mutating func bool(_ members: [String: JSONValue], _ key: String, at path: String) -> Bool? {
        guard let value = members[key], !value.isNull else { return nil }
        if let bool = value.boolValue { return bool }
        if let string = value.stringValue?.lowercased(), ["true", "false"].contains(string) { return string == "true" }
        problem(Self.join(path, key), "must be true or false")
        return nil
    }

    mutating func strings(_ members: [String: JSONValue], _ key: String, at path: String) -> [String] {
        guard let value = members[key], !value.isNull else { return [] }
        guard let items = value.arrayValue else {
            problem(Self.join(path, key), "must be a list of strings")
            return []
        }
        var strings: [String] = []
        for (index, item) in items.enumerated() {
            guard let string = item.stringValue else {
                problem("\(Self.join(path, key))[\(index)]", "must be a string")
                continue
            }
            strings.append(string)
        }
        return strings
    }

    mutating func stringMap(_ members: [String: JSONValue], _ key: String, at path: String) -> [String: String] {
        guard let object = object(members[key], at: Self.join(path, key)) else { return [:] }
        var map: [String: String] = [:]
        for (name, value) in object {
            guard let string = value.stringValue else {
                problem(Self.join(Self.join(path, key), name), "must be a string")
                continue
            }
            map[name] = string
        }
        return map
    }

    mutating func list(_ value: JSONValue?, at path: String) -> [JSONValue] {
        guard let value, !value.isNull else { return [] }
        guard let items = value.arrayValue else {
            problem(path, "must be a list, not \(value.typeName)")
            return []
        }
        return items
    }
}

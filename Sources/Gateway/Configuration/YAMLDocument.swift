import BrokerCore
import Foundation
import Yams

/// Reads YAML into `JSONValue`, resolving scalars by their YAML 1.1 core tags.
enum YAMLDocument {
    struct SyntaxError: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ text: String) throws -> JSONValue {
        do {
            guard let node = try Yams.compose(yaml: text) else { return .emptyObject }
            return convert(node)
        } catch let error as YamlError {
            throw SyntaxError(description: "\(error)")
        }
    }

    static func convert(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case .int: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case .float: return node.float.map(JSONValue.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            return .array(sequence.map(convert))
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                members[key.scalar?.string ?? "\(key)"] = convert(value)
            }
            return .object(members)
        case .alias:
            return .null
        }
    }
}

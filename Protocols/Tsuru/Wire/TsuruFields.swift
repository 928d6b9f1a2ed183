import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

/// A tsuru request body, form-encoded (tsuru's default) or JSON (`encoding: json` services),
/// read through one interface that knows both spellings of each field.
struct TsuruFields {
    private let form: [String: [String]]
    private let json: [String: JSONValue]?

    /// Whether the body was JSON (parameters keep their types) or a form (every leaf a string).
    var isJSON: Bool { json != nil }

    /// Reads the body by its Content-Type; a missing body is an empty form.
    static func read(_ request: Request) async throws -> TsuruFields {
        let data = try await BodyReader.bytes(request)
        let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        switch mediaType {
        case "application/json":
            guard !data.isEmpty else { return TsuruFields(form: [:], json: [:]) }
            guard let value = JSONValue.parse(data) else { throw TsuruError(.badRequest, "the request body is not valid JSON") }
            guard let members = value.objectValue else { throw TsuruError(.badRequest, "the request body must be a JSON object") }
            return TsuruFields(form: [:], json: members)
        case "application/x-www-form-urlencoded", "":
            guard let text = String(data: data, encoding: .utf8), let pairs = parseForm(text) else {
                throw TsuruError(.badRequest, "the request body is not a valid form")
            }
            var form: [String: [String]] = [:]
            for (key, value) in pairs { form[key, default: []].append(value) }
            return TsuruFields(form: form, json: nil)
        default:
            throw TsuruError(.badRequest, "unsupported Content-Type '\(mediaType)': send application/x-www-form-urlencoded or application/json")
        }
    }

    /// `application/x-www-form-urlencoded` pairs; nil when the percent-encoding is broken.
    static func parseForm(_ text: String) -> [(String, String)]? {
        var pairs: [(String, String)] = []
        for item in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String? {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let key = decode(parts[0]), let value = parts.count > 1 ? decode(parts[1]) : "" else { return nil }
            pairs.append((key, value))
        }
        return pairs
    }

    /// A single string field (first value); empty strings count as absent.
    func string(_ formKey: String, json jsonKey: String) throws -> String? {
        if let json {
            guard let value = json[jsonKey], !value.isNull else { return nil }
            guard let string = value.stringValue else { throw TsuruError(.badRequest, "\(jsonKey) must be a string") }
            return string.isEmpty ? nil : string
        }
        guard let first = form[formKey]?.first, !first.isEmpty else { return nil }
        return first
    }

    /// A repeated field; JSON `null` counts as an empty list.
    func strings(_ formKey: String, json jsonKey: String) throws -> [String] {
        if let json {
            guard let value = json[jsonKey], !value.isNull else { return [] }
            guard let items = value.arrayValue?.compactMap(\.stringValue), items.count == value.arrayValue?.count else {
                throw TsuruError(.badRequest, "\(jsonKey) must be a list of strings")
            }
            return items.filter { !$0.isEmpty }
        }
        return (form[formKey] ?? []).filter { !$0.isEmpty }
    }

    /// Every form field whose name starts with a prefix (`app-pool-`, `app-cluster-`), for the record.
    func prefixed(_ prefix: String) -> [String: JSONValue] {
        var found: [String: JSONValue] = [:]
        if let json {
            for (key, value) in json where key.hasPrefix(prefix) { found[key] = value }
        } else {
            for (key, values) in form where key.hasPrefix(prefix) {
                found[key] = values.count == 1 ? .string(values[0]) : .array(values.map(JSONValue.string))
            }
        }
        return found
    }

    /// `tags` (repeated or a JSON list) and the legacy `tag`, trimmed and de-duplicated.
    func tags() throws -> [String] {
        var seen: [String] = []
        for tag in try strings("tags", json: "tags") + strings("tag", json: "tag") {
            let trimmed = tag.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty && !seen.contains(trimmed) { seen.append(trimmed) }
        }
        return seen
    }

    /// The parameters: JSON `parameters` as they come, or form `parameters.*` keys nested back
    /// into an object (dots split keys, `\.` is a literal dot, numeric runs become lists).
    func parameters() throws -> JSONValue {
        if let json {
            guard let value = json["parameters"], !value.isNull else { return .emptyObject }
            guard value.objectValue != nil else { throw TsuruError(.badRequest, "parameters must be a JSON object") }
            return value
        }
        var root = Node.object([:])
        for (key, values) in form.sorted(by: { $0.key < $1.key }) where key.hasPrefix("parameters.") {
            let path = Self.splitKey(String(key.dropFirst("parameters.".count)))
            guard !path.isEmpty, !path.contains(where: \.isEmpty) else { throw TsuruError(.badRequest, "invalid parameter name '\(key)'") }
            guard root.insert(path[...], value: values.last ?? "") else {
                throw TsuruError(.badRequest, "parameter '\(path.joined(separator: "."))' is given both as a value and as an object")
            }
        }
        return root.json
    }

    /// Splits a flattened key on unescaped dots.
    static func splitKey(_ key: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for character in key {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "." {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        if escaped { current.append("\\") }
        parts.append(current)
        return parts
    }

    /// A tree being rebuilt from flattened keys.
    private indirect enum Node {
        case leaf(String)
        case object([String: Node])

        mutating func insert(_ path: ArraySlice<String>, value: String) -> Bool {
            guard case .object(var children) = self, let head = path.first else { return false }
            if path.count == 1 {
                guard children[head] == nil else { return false }
                children[head] = .leaf(value)
            } else {
                var child = children[head] ?? .object([:])
                guard child.insert(path.dropFirst(), value: value) else { return false }
                children[head] = child
            }
            self = .object(children)
            return true
        }

        var json: JSONValue {
            switch self {
            case .leaf(let value):
                return .string(value)
            case .object(let children):
                let indexes = children.keys.compactMap { Int($0) }
                if !children.isEmpty, indexes.count == children.count, Set(indexes) == Set(0..<children.count) {
                    return .array((0..<children.count).map { children[String($0)]!.json })
                }
                return .object(children.mapValues(\.json))
            }
        }
    }
}

/// Form leaves are strings: where a plan's schema asks for numbers or booleans, read them as such,
/// so `-p size=2` validates alike in both encodings.
enum SchemaCoercion {
    static func coerce(_ value: JSONValue, to schema: JSONValue?) -> JSONValue {
        guard let schema else { return value }
        let types = schema["type"]?.arrayValue?.compactMap(\.stringValue) ?? [schema["type"]?.stringValue].compactMap { $0 }
        switch value {
        case .string(let text):
            if types.contains("integer"), let number = Int64(text) { return .int(number) }
            if types.contains("number"), let number = Double(text) { return .double(number) }
            if types.contains("boolean"), text == "true" || text == "false" { return .bool(text == "true") }
            return value
        case .object(let members):
            let properties = schema["properties"]?.objectValue ?? [:]
            let additional = schema["additionalProperties"]
            return .object(members.reduce(into: [:]) { result, member in
                result[member.key] = coerce(member.value, to: properties[member.key] ?? (additional?.objectValue != nil ? additional : nil))
            })
        case .array(let items):
            return .array(items.map { coerce($0, to: schema["items"]) })
        default:
            return value
        }
    }
}

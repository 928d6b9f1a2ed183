/// Validates parameters against a plan's JSON schema: the draft-04 subset of `type`,
/// `properties`, `required`, `enum`, `minimum`/`maximum`, `minLength`/`maxLength`,
/// `pattern`, `items` and `additionalProperties`.
public enum SchemaValidator {
    /// Throws `.invalidParameters` naming the first offending parameter.
    public static func validate(_ value: JSONValue, against schema: JSONValue?) throws(BrokerError) {
        guard let schema else { return }
        if let problem = check(value, schema, path: "") {
            throw .invalidParameters(problem)
        }
    }

    /// The first problem found, or nil.
    static func check(_ value: JSONValue, _ schema: JSONValue, path: String) -> String? {
        let name = path.isEmpty ? "parameters" : "parameter '\(path)'"
        if let types = schema["type"] {
            let allowed = types.arrayValue?.compactMap(\.stringValue) ?? [types.stringValue].compactMap { $0 }
            if !allowed.isEmpty && !allowed.contains(where: { matches(value, type: $0) }) {
                return "\(name) must be of type \(allowed.joined(separator: " or ")), not \(value.typeName)"
            }
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(value) {
            return "\(name) must be one of \(options.map { $0.canonicalText() }.joined(separator: ", "))"
        }
        if let number = value.numberValue {
            if let minimum = schema["minimum"]?.numberValue {
                let exclusive = schema["exclusiveMinimum"]?.boolValue == true
                if exclusive ? number <= minimum : number < minimum {
                    return "\(name) must be \(exclusive ? "greater than" : "at least") \(format(minimum))"
                }
            }
            if let maximum = schema["maximum"]?.numberValue {
                let exclusive = schema["exclusiveMaximum"]?.boolValue == true
                if exclusive ? number >= maximum : number > maximum {
                    return "\(name) must be \(exclusive ? "less than" : "at most") \(format(maximum))"
                }
            }
        }
        if let string = value.stringValue {
            if let minimum = schema["minLength"]?.integerValue, string.count < minimum {
                return "\(name) must be at least \(minimum) characters long"
            }
            if let maximum = schema["maxLength"]?.integerValue, string.count > maximum {
                return "\(name) must be at most \(maximum) characters long"
            }
            if let pattern = schema["pattern"]?.stringValue {
                guard let regex = try? Regex(pattern) else { return "the schema's pattern for \(name) is invalid" }
                if (try? regex.firstMatch(in: string)) == nil {
                    return "\(name) must match the pattern \(pattern)"
                }
            }
        }
        if let items = value.arrayValue, let itemSchema = schema["items"], itemSchema.objectValue != nil {
            for (index, item) in items.enumerated() {
                if let problem = check(item, itemSchema, path: "\(path)[\(index)]") { return problem }
            }
        }
        if let members = value.objectValue {
            let prefix = path.isEmpty ? "" : "\(path)."
            for required in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[required] == nil {
                return "parameter '\(prefix)\(required)' is required"
            }
            let properties = schema["properties"]?.objectValue ?? [:]
            for key in members.keys.sorted() {
                let member = members[key]!
                if let propertySchema = properties[key] {
                    if let problem = check(member, propertySchema, path: prefix + key) { return problem }
                } else if let additional = schema["additionalProperties"] {
                    if additional.boolValue == false {
                        return "parameter '\(prefix)\(key)' is not allowed"
                    }
                    if additional.objectValue != nil, let problem = check(member, additional, path: prefix + key) {
                        return problem
                    }
                }
            }
        }
        return nil
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch type {
        case "object": value.objectValue != nil
        case "array": value.arrayValue != nil
        case "string": value.stringValue != nil
        case "boolean": value.boolValue != nil
        case "null": value.isNull
        case "number": value.numberValue != nil
        case "integer": value.integerValue != nil
        default: true
        }
    }

    static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}

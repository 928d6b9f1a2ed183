import BrokerCore
import Foundation
import GRDB

/// Conversions between core values and column values.
enum Columns {
    static func millis(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func date(_ millis: Int64) -> Date {
        Date(timeIntervalSince1970: Double(millis) / 1000)
    }

    static func json(_ value: JSONValue) -> String {
        value.canonicalText()
    }

    static func json(_ strings: [String]) -> String {
        JSONValue.array(strings.map { .string($0) }).canonicalText()
    }

    static func json(_ map: [String: String]) -> String {
        JSONValue(map).canonicalText()
    }

    static func value(_ text: String) -> JSONValue {
        JSONValue.parse(text) ?? .null
    }

    static func strings(_ text: String) -> [String] {
        value(text).arrayValue?.compactMap(\.stringValue) ?? []
    }

    static func map(_ text: String) -> [String: String] {
        value(text).stringMap ?? [:]
    }

    /// The field a unique violation names (`instance.name`, `binding.app`, …), if it is one.
    static func uniqueField(_ error: DatabaseError) -> String? {
        guard error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
        else { return nil }
        let message = error.message ?? ""
        for (needle, field) in [
            ("binding.appKey", "binding.app"), ("instance.name", "instance.name"), ("instance.id", "instance.id"),
            ("binding.id", "binding.id"), ("provider.name", "provider.name"), ("provider.id", "provider.id"), ("operation.id", "operation.id"),
            ("session.id", "session.id"),
        ] where message.contains(needle) {
            return field
        }
        return "record"
    }
}

import BrokerCore
import Foundation

/// A ledger as versioned JSON lines: what `polybroker ledger export` writes and `ledger import` reads.
///
/// The first line is the header, `{"counts":{…},"format":"polybroker-ledger","version":1}`; every
/// other line is one record, `{"record":"<table>", <column>: <value>, …}`, in a fixed order:
/// offerings (the catalog entries the instances refer to, for checking only), then providers,
/// sessions, instances, bindings (each by id), operations (in journal order) and events (by
/// sequence). Each line is canonical JSON (sorted keys, no blanks), so exporting the same ledger
/// twice gives the same bytes. Sealed columns (provider params, binding credentials) are the
/// stored AES-GCM blobs in base64; JSON columns are embedded as JSON; times are Unix milliseconds.
public struct LedgerArchive: Sendable {
    /// The `format` of the header.
    public static let format = "polybroker-ledger"
    /// The version this build writes and reads.
    public static let version: Int64 = 1

    /// The offerings and plans the instances refer to, as named in the exporting catalog.
    public var offerings: [ArchivedOffering]
    /// Table rows, by table.
    var rows: [ArchiveTable: [ArchiveRow]]

    /// The number of records of a table.
    public func count(_ table: ArchiveTable) -> Int {
        table == .offering ? offerings.count : rows[table]?.count ?? 0
    }

    /// The instance records: id, name, offering and plan ids, provider, state, provider state.
    public var instances: [ArchivedInstance] {
        (rows[.instance] ?? []).map { row in
            ArchivedInstance(
                id: row.text("id"), name: row.text("name"), offeringID: row.text("offeringID"), planID: row.text("planID"),
                providerID: row.text("providerID"), state: row.text("state"),
                providerState: row.values["providerState"]?.stringMap ?? [:])
        }
    }

    /// The provider records: id, kind and source.
    public var providers: [(id: String, kind: String, source: String)] {
        (rows[.provider] ?? []).map { ($0.text("id"), $0.text("kind"), $0.text("source")) }
    }
}

/// An offering line of an archive: ids with the names the exporting catalog gave them (nil when
/// the catalog no longer had them).
public struct ArchivedOffering: Sendable, Equatable {
    /// Offering id.
    public var id: String
    /// Offering name.
    public var name: String?
    /// The plans instances use.
    public var plans: [ArchivedPlan]
}

/// A plan of an offering line.
public struct ArchivedPlan: Sendable, Equatable {
    /// Plan id.
    public var id: String
    /// Plan name.
    public var name: String?
}

/// What an import needs to know of an archived instance to check it against a configuration.
public struct ArchivedInstance: Sendable, Equatable {
    /// Canonical id.
    public var id: String
    /// Name.
    public var name: String
    /// Offering id.
    public var offeringID: String
    /// Plan id.
    public var planID: String
    /// Provider id.
    public var providerID: String
    /// State (`ready`, `deleted`, …).
    public var state: String
    /// What the provider returned at provision time (e.g. the sqlite file's `path`).
    public var providerState: [String: String]
}

/// The tables of an archive, in the order they are written.
public enum ArchiveTable: String, Sendable, CaseIterable, Comparable {
    case offering, provider, session, instance, binding, operation, event

    public static func < (lhs: ArchiveTable, rhs: ArchiveTable) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The columns of the table's records (offerings are not a table of the ledger).
    var columns: [ArchiveColumn] {
        switch self {
        case .offering:
            []
        case .provider:
            [
                .text("id"), .text("name"), .text("kind"), .sealed("sealedParams"), .json("tags"), .json("metadata"),
                .optionalText("tenant"), .optionalText("sessionID"), .text("source"), .text("status"),
                .optionalText("statusReason"), .integer("createdAt"), .integer("updatedAt"), .optionalInteger("removedAt"),
            ]
        case .session:
            [
                .text("id"), .text("tenant"), .integer("heartbeatTimeout"), .text("tokenHash"), .integer("deadline"),
                .json("metadata"), .integer("createdAt"), .optionalInteger("lastSeen"),
            ]
        case .instance:
            [
                .text("id"), .text("name"), .text("offeringID"), .text("planID"), .text("providerID"), .text("tenant"),
                .text("createdBy"), .text("state"), .optionalText("failure"), .json("parameters"), .json("context"),
                .json("identity"), .json("tags"), .json("metadata"), .optionalText("user"), .optionalText("dashboardURL"),
                .json("providerState"), .integer("createdAt"), .integer("updatedAt"),
            ]
        case .binding:
            [
                .text("id"), .text("instanceID"), .optionalText("appKey"), .text("createdBy"), .text("state"),
                .optionalText("failure"), .json("parameters"), .json("context"), .json("identity"),
                .optionalSealed("sealedCredentials"), .json("units"), .integer("createdAt"), .integer("updatedAt"),
            ]
        case .operation:
            [
                .text("id"), .text("kind"), .text("instanceID"), .optionalText("bindingID"), .text("state"),
                .optionalText("description"), .json("origin"), .json("request"), .integer("startedAt"),
                .optionalInteger("finishedAt"),
            ]
        case .event:
            [
                .integer("sequence"), .integer("timestamp"), .text("type"), .text("tenant"), .text("protocol"),
                .text("subject"), .json("payload"),
            ]
        }
    }

    /// The primary key column.
    var key: String { self == .event ? "sequence" : "id" }

    /// The order rows are read in: by key, operations in journal (insertion) order.
    var order: String { self == .operation ? "rowid" : key }
}

/// How a column is written in an archive.
enum ArchiveColumn: Sendable {
    case text(String), optionalText(String), integer(String), optionalInteger(String), json(String)
    case sealed(String), optionalSealed(String)

    var name: String {
        switch self {
        case .text(let name), .optionalText(let name), .integer(let name), .optionalInteger(let name), .json(let name),
            .sealed(let name), .optionalSealed(let name):
            name
        }
    }

    var isSealed: Bool {
        switch self {
        case .sealed, .optionalSealed: true
        default: false
        }
    }
}

/// One record of a table, as JSON values keyed by column (sealed columns as base64 strings).
struct ArchiveRow: Sendable, Equatable {
    var values: [String: JSONValue]

    func text(_ column: String) -> String {
        values[column]?.stringValue ?? ""
    }
}

/// A file that is not a ledger archive this build can read. Names the line; never shows a secret.
public struct ArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line, when the problem is on one line.
    public var line: Int?
    /// What is wrong.
    public var message: String

    public var description: String {
        line.map { "line \($0): \(message)" } ?? message
    }

    init(line: Int? = nil, _ message: String) {
        self.line = line
        self.message = message
    }
}

extension LedgerArchive {
    /// Reads and checks an archive: the header, the version, every record's fields and types, the
    /// order of the records and the counts the header announces (a truncated file is refused).
    public static func parse(_ data: Data) throws(ArchiveError) -> LedgerArchive {
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first else { throw ArchiveError("the file is empty: not a polybroker ledger export") }
        guard let header = JSONValue.parse(Data(first))?.objectValue, header["format"]?.stringValue == format else {
            throw ArchiveError(line: 1, "not a polybroker ledger export (the first line must be the header {\"format\":\"\(format)\",…})")
        }
        guard let version = header["version"]?.integerValue else { throw ArchiveError(line: 1, "the header has no version") }
        guard version == Self.version else {
            throw ArchiveError(
                line: 1, "format version \(version) is not supported: this polybroker reads version \(Self.version) only")
        }
        guard let counts = header["counts"]?.objectValue else { throw ArchiveError(line: 1, "the header has no counts") }
        var archive = LedgerArchive(offerings: [], rows: [:])
        var current = ArchiveTable.offering
        for (index, bytes) in lines.enumerated().dropFirst() {
            let number = index + 1
            guard let object = JSONValue.parse(Data(bytes))?.objectValue else { throw ArchiveError(line: number, "not a JSON object") }
            guard let name = object["record"]?.stringValue else { throw ArchiveError(line: number, "the record has no \"record\" type") }
            guard let table = ArchiveTable(rawValue: name) else { throw ArchiveError(line: number, "unknown record type '\(name)'") }
            guard table >= current else {
                throw ArchiveError(line: number, "a \(table.rawValue) record after \(current.rawValue) records: the file is out of order")
            }
            current = table
            if table == .offering {
                archive.offerings.append(try offering(object, line: number))
            } else {
                archive.rows[table, default: []].append(try row(object, of: table, line: number))
            }
        }
        for table in ArchiveTable.allCases {
            let announced = counts[table.rawValue]?.integerValue ?? 0
            guard announced == Int64(archive.count(table)) else {
                throw ArchiveError(
                    "the header announces \(announced) \(table.rawValue) record(s) but the file holds \(archive.count(table)): it is truncated or was edited")
            }
        }
        try archive.checkKeys()
        return archive
    }

    static func offering(_ object: [String: JSONValue], line: Int) throws(ArchiveError) -> ArchivedOffering {
        guard let id = object["id"]?.stringValue, let plans = object["plans"]?.arrayValue else {
            throw ArchiveError(line: line, "an offering record needs an id and plans")
        }
        var parsed: [ArchivedPlan] = []
        for plan in plans {
            guard let planID = plan["id"]?.stringValue else { throw ArchiveError(line: line, "a plan of offering \(id) has no id") }
            parsed.append(ArchivedPlan(id: planID, name: plan["name"]?.stringValue))
        }
        return ArchivedOffering(id: id, name: object["name"]?.stringValue, plans: parsed)
    }

    static func row(_ object: [String: JSONValue], of table: ArchiveTable, line: Int) throws(ArchiveError) -> ArchiveRow {
        var values: [String: JSONValue] = [:]
        for column in table.columns {
            guard let value = object[column.name] else {
                throw ArchiveError(line: line, "the \(table.rawValue) record has no '\(column.name)'")
            }
            let valid: Bool
            switch column {
            case .text: valid = value.stringValue != nil
            case .optionalText: valid = value.isNull || value.stringValue != nil
            case .integer: valid = value.integerValue != nil
            case .optionalInteger: valid = value.isNull || value.integerValue != nil
            case .json: valid = true
            case .sealed: valid = value.stringValue.flatMap { Data(base64Encoded: $0) } != nil
            case .optionalSealed: valid = value.isNull || value.stringValue.flatMap { Data(base64Encoded: $0) } != nil
            }
            guard valid else {
                throw ArchiveError(line: line, "'\(column.name)' of the \(table.rawValue) record has the wrong type")
            }
            values[column.name] = value
        }
        let known = Set(table.columns.map(\.name) + ["record"])
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw ArchiveError(line: line, "unknown field '\(unknown)' in a \(table.rawValue) record")
        }
        return ArchiveRow(values: values)
    }

    /// Keys are unique within a table.
    func checkKeys() throws(ArchiveError) {
        for (table, rows) in rows {
            var seen = Set<JSONValue>()
            for row in rows where !seen.insert(row.values[table.key] ?? .null).inserted {
                throw ArchiveError("two \(table.rawValue) records have the key \((row.values[table.key] ?? .null).canonicalText())")
            }
        }
    }

    /// The header line.
    static func header(counts: [ArchiveTable: Int]) -> String {
        var members: [String: JSONValue] = [:]
        for table in ArchiveTable.allCases { members[table.rawValue] = .int(Int64(counts[table] ?? 0)) }
        let header: JSONValue = ["format": .string(format), "version": .int(version), "counts": .object(members)]
        return header.canonicalText()
    }
}

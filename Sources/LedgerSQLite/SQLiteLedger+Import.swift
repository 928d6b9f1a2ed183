import BrokerCore
import Foundation
import GRDB

/// What an import did, per table.
public struct ImportReport: Sendable, Equatable {
    /// Records written.
    public var inserted: [ArchiveTable: Int] = [:]
    /// Records the ledger already held identically (`--merge` only).
    public var skipped: [ArchiveTable: Int] = [:]
}

/// An import that was refused; nothing was written. Its details name records and columns, never values.
public struct ImportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why.
    public var message: String
    /// One line per record concerned.
    public var details: [String]

    public var description: String {
        ([message] + details.prefix(50).map { "  \($0)" } + (details.count > 50 ? ["  … and \(details.count - 50) more"] : []))
            .joined(separator: "\n")
    }
}

extension SQLiteLedger {
    /// Writes an archive into this ledger, in one write transaction: all of it or nothing.
    ///
    /// Without `merge` the ledger must be empty (no row in any table), and every record keeps its
    /// key, event sequences included. With `merge`, a record whose key is already present is
    /// skipped when it is identical (sealed columns compared by their opened contents) and is a
    /// conflict otherwise; a record that breaks a unique rule (a live name in use) or refers to
    /// something neither side has is a conflict too. Any conflict refuses the whole import, listing
    /// them all. Events are matched by content (time, type, tenant, protocol, subject, payload):
    /// those already present are skipped, the others appended after this ledger's last event, in
    /// the file's order, with new sequence numbers.
    ///
    /// Every sealed blob must open with this ledger's key, else nothing is written.
    public func importArchive(_ archive: LedgerArchive, merge: Bool) throws -> ImportReport {
        try archive.checkSeals(with: sealer)
        let sealer = self.sealer
        let path = self.path
        return try pool.write { db in
            if !merge {
                let counts = try Self.counts(in: db)
                let held = ArchiveTable.allCases.filter { $0 != .offering && counts[$0, default: 0] > 0 }
                guard held.isEmpty else {
                    throw ImportError(
                        message: "the ledger at \(path) is not empty: import into a new data directory, or merge with --merge",
                        details: held.map { "\(counts[$0, default: 0]) \($0.rawValue) record(s)" })
                }
            }
            var report = ImportReport()
            var conflicts: [String] = []
            for table in ArchiveTable.allCases where table != .offering {
                for row in archive.rows[table] ?? [] {
                    if let problem = try Self.insert(row, into: table, merge: merge, in: db, sealer: sealer, report: &report) {
                        conflicts.append(problem)
                    }
                }
            }
            guard conflicts.isEmpty else {
                throw ImportError(message: "\(conflicts.count) record(s) conflict with this ledger; nothing was imported", details: conflicts)
            }
            return report
        }
    }

    /// Inserts one record, or skips it when merging and it is there already; returns a conflict.
    static func insert(
        _ row: ArchiveRow, into table: ArchiveTable, merge: Bool, in db: Database, sealer: any SecretSealer, report: inout ImportReport
    ) throws -> String? {
        let label = "\(table.rawValue) \(table == .event ? (row.values["sequence"] ?? .null).canonicalText() : row.text(table.key))"
        var columns = table.columns
        if merge && table == .event {
            // Events are matched by what they say, whatever their sequence; new ones are appended.
            columns.removeFirst()
            let values = try columns.map { try databaseValue(row.values[$0.name] ?? .null, $0) }
            let match = columns.map { "\"\($0.name)\" = ?" }.joined(separator: " AND ")
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM event WHERE \(match))", arguments: StatementArguments(values)) == true {
                report.skipped[table, default: 0] += 1
                return nil
            }
        } else if merge, let existing = try Row.fetchOne(
            db, sql: "SELECT * FROM \"\(table.rawValue)\" WHERE \(table.key) = ?",
            arguments: [try databaseValue(row.values[table.key] ?? .null, columns[0])])
        {
            let differing = try columns.filter { column in
                try !same(archived(existing, column, table: table, sealer: sealer, resealer: nil), row.values[column.name] ?? .null, column, sealer)
            }
            guard differing.isEmpty else {
                return "\(label): differs from the record this ledger holds (\(differing.map(\.name).joined(separator: ", ")))"
            }
            report.skipped[table, default: 0] += 1
            return nil
        }
        let names = columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
        let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        let values = try columns.map { try databaseValue(row.values[$0.name] ?? .null, $0) }
        do {
            try db.execute(sql: "INSERT INTO \"\(table.rawValue)\" (\(names)) VALUES (\(marks))", arguments: StatementArguments(values))
        } catch let error as DatabaseError {
            return "\(label): \(reason(error, table: table, row: row))"
        }
        report.inserted[table, default: 0] += 1
        return nil
    }

    /// Whether two archive values of a column are the same; sealed ones by what they hold.
    static func same(_ held: JSONValue, _ imported: JSONValue, _ column: ArchiveColumn, _ sealer: any SecretSealer) -> Bool {
        guard column.isSealed, let a = held.stringValue.flatMap({ Data(base64Encoded: $0) }),
            let b = imported.stringValue.flatMap({ Data(base64Encoded: $0) })
        else { return held == imported }
        guard let openedA = try? sealer.open(a), let openedB = try? sealer.open(b) else { return a == b }
        return JSONValue.parse(openedA).map { $0 == JSONValue.parse(openedB) } ?? (openedA == openedB)
    }

    /// An archive value as the column stores it.
    static func databaseValue(_ value: JSONValue, _ column: ArchiveColumn) throws -> DatabaseValue {
        switch column {
        case .text, .optionalText:
            return value.stringValue.map { $0.databaseValue } ?? .null
        case .integer, .optionalInteger:
            return value.integerValue.map { $0.databaseValue } ?? .null
        case .json:
            return Columns.json(value).databaseValue
        case .sealed, .optionalSealed:
            return value.stringValue.flatMap { Data(base64Encoded: $0) }.map { $0.databaseValue } ?? .null
        }
    }

    /// Why SQLite refused a record, without its values.
    static func reason(_ error: DatabaseError, table: ArchiveTable, row: ArchiveRow) -> String {
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_FOREIGNKEY:
            switch table {
            case .instance: return "its provider \(row.text("providerID")) is in neither the file nor this ledger"
            case .binding: return "its instance \(row.text("instanceID")) is in neither the file nor this ledger"
            default: return "it refers to an instance or binding that is in neither the file nor this ledger"
            }
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            switch table {
            case .instance: return "the name '\(row.text("name"))' belongs to another live instance of this ledger"
            case .provider: return "the name '\(row.text("name"))' belongs to another live provider of this ledger"
            case .binding: return "instance \(row.text("instanceID")) already has a live binding for app '\(row.text("appKey"))'"
            default: return "it breaks a unique rule of this ledger"
            }
        default:
            return "SQLite refused it (\(error.resultCode))"
        }
    }
}

extension LedgerArchive {
    /// Checks that every sealed blob opens with `sealer` (the importing ledger's key); throws
    /// `ImportError` naming the records that do not.
    public func checkSeals(with sealer: any SecretSealer) throws {
        var unreadable: [String] = []
        for table in ArchiveTable.allCases {
            for row in rows[table] ?? [] {
                for column in table.columns where column.isSealed {
                    guard let text = row.values[column.name]?.stringValue, let blob = Data(base64Encoded: text) else { continue }
                    if (try? sealer.open(blob)) == nil { unreadable.append("\(table.rawValue) \(row.text(table.key)): \(column.name)") }
                }
            }
        }
        guard unreadable.isEmpty else {
            throw ImportError(
                message: """
                    \(unreadable.count) sealed value(s) do not open with this ledger's key: run with the key of the exporting \
                    ledger (its secrets/ledger.key, or POLYBROKER_LEDGER_KEY), or export again with --reseal-key-file and this \
                    ledger's key; nothing was imported
                    """,
                details: unreadable)
        }
    }
}

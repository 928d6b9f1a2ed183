import BrokerCore
import Foundation
import GRDB

extension SQLiteLedger {
    /// The number of rows of each table (offerings: the distinct offerings instances refer to).
    public func counts() throws -> [ArchiveTable: Int] {
        try pool.read { db in try Self.counts(in: db) }
    }

    static func counts(in db: Database) throws -> [ArchiveTable: Int] {
        var counts: [ArchiveTable: Int] = [:]
        for table in ArchiveTable.allCases where table != .offering {
            counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \"\(table.rawValue)\"") ?? 0
        }
        counts[.offering] = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT offeringID) FROM instance") ?? 0
        return counts
    }

    /// Writes the whole ledger as an archive (see `LedgerArchive`), line by line, from one read
    /// transaction: a consistent snapshot, also while a server writes.
    ///
    /// Sealed blobs are written as stored, unless `resealer` is given: then each is opened with
    /// this ledger's key and sealed again with the resealer's, so the archive opens only with that
    /// key. `catalog` names the offerings and plans the instances refer to. Returns the counts.
    @discardableResult
    public func export(
        catalog: Catalog, resealingWith resealer: (any SecretSealer)? = nil, write: (String) throws -> Void
    ) throws -> [ArchiveTable: Int] {
        let sealer = self.sealer
        return try pool.read { db in
            let counts = try Self.counts(in: db)
            try write(LedgerArchive.header(counts: counts))
            for offering in try Self.offerings(in: db, catalog: catalog) {
                try write(offering.canonicalText())
            }
            for table in ArchiveTable.allCases where table != .offering {
                let rows = try Row.fetchCursor(db, sql: "SELECT * FROM \"\(table.rawValue)\" ORDER BY \(table.order)")
                while let row = try rows.next() {
                    var members: [String: JSONValue] = ["record": .string(table.rawValue)]
                    for column in table.columns {
                        members[column.name] = try Self.archived(row, column, table: table, sealer: sealer, resealer: resealer)
                    }
                    try write(JSONValue.object(members).canonicalText())
                }
            }
            return counts
        }
    }

    /// The offering lines: each offering instances refer to, with the plans they use, named by the catalog.
    static func offerings(in db: Database, catalog: Catalog) throws -> [JSONValue] {
        let pairs = try Row.fetchAll(db, sql: "SELECT DISTINCT offeringID, planID FROM instance ORDER BY offeringID, planID")
        var plans: [String: [String]] = [:]
        var order: [String] = []
        for pair in pairs {
            let offering: String = pair["offeringID"]
            if plans[offering] == nil { order.append(offering) }
            plans[offering, default: []].append(pair["planID"])
        }
        return order.map { id in
            let offering = catalog.offering(id: id)
            let planLines: [JSONValue] = (plans[id] ?? []).map { planID in
                let name = offering?.plans.first { $0.id == planID }?.name
                return ["id": .string(planID), "name": name.map(JSONValue.string) ?? .null]
            }
            return [
                "record": "offering", "id": .string(id), "name": offering.map { .string($0.name) } ?? .null, "plans": .array(planLines),
            ]
        }
    }

    /// One column of a row as an archive value.
    static func archived(
        _ row: Row, _ column: ArchiveColumn, table: ArchiveTable, sealer: any SecretSealer, resealer: (any SecretSealer)?
    ) throws -> JSONValue {
        let name = column.name
        switch column {
        case .text:
            return .string(row[name])
        case .optionalText:
            return (row[name] as String?).map(JSONValue.string) ?? .null
        case .integer:
            return .int(row[name])
        case .optionalInteger:
            return (row[name] as Int64?).map(JSONValue.int) ?? .null
        case .json:
            return Columns.value(row[name])
        case .sealed, .optionalSealed:
            guard var blob = row[name] as Data? else { return .null }
            if let resealer {
                do {
                    blob = try resealer.seal(try sealer.open(blob))
                } catch {
                    throw ArchiveError("the sealed \(name) of \(table.rawValue) \(row[table.key] as String? ?? "?") cannot be opened with this ledger's key")
                }
            }
            return .string(blob.base64EncodedString())
        }
    }
}

extension SQLiteLedger {
    /// SQLite's own check of the file (`PRAGMA integrity_check`) and of the foreign keys; empty when sound.
    public func integrityProblems() throws -> [String] {
        try pool.read { db in
            let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
            let foreignKeys = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").map { row in
                "a \(row[0] as String? ?? "?") row refers to a missing \(row[2] as String? ?? "?") row"
            }
            return integrity + foreignKeys
        }
    }
}

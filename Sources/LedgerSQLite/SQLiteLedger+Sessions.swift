import BrokerCore
import Foundation
import GRDB

extension SQLiteLedger {
    public func mutateSession<Result: Sendable>(
        _ id: String, _ body: @escaping @Sendable (Session?, [Provider]) throws -> (SessionWrite, Result)
    ) async throws -> Result {
        let sealer = self.sealer
        return try await write { db in
            let session = try Row.fetchOne(db, sql: "SELECT * FROM session WHERE id = ?", arguments: [id]).map(SessionRecord.decode)
            let providers = try Row.fetchAll(
                db, sql: "SELECT * FROM provider WHERE sessionID = ? AND removedAt IS NULL ORDER BY id", arguments: [id]
            ).map { try ProviderRecord.decode($0, sealer: sealer) }
            let (changes, result) = try body(session, providers)
            if changes.deleteSession {
                try db.execute(sql: "DELETE FROM session WHERE id = ?", arguments: [id])
            } else if let session = changes.session {
                try SessionRecord.upsert(session, in: db)
            }
            for provider in changes.providers { try ProviderRecord.upsert(provider, in: db, sealer: sealer) }
            for event in changes.events { try EventRecord.insert(event, in: db) }
            return result
        }
    }

    public func session(id: String) async throws -> Session? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM session WHERE id = ?", arguments: [id]).map(SessionRecord.decode)
        }
    }

    public func sessions(tenant: String, page: PageRequest) async throws -> Page<Session> {
        var query = Query(table: "session", key: "id")
        query.where("tenant = ?", tenant)
        let finalQuery = query
        return try await pool.read { db in
            try finalQuery.page(page, in: db, marker: { $0.id }, decode: SessionRecord.decode)
        }
    }

    public func earliestSessionDeadline() async throws -> Date? {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT MIN(deadline) FROM session").map(Columns.date)
        }
    }

    public func sessionsDue(at time: Date, limit: Int) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM session WHERE deadline <= ? ORDER BY deadline LIMIT ?", arguments: [Columns.millis(time), limit])
        }
    }

    public func reviveOverdueSessions(at time: Date) async throws -> Int {
        try await write { db in
            try db.execute(
                sql: "UPDATE session SET deadline = ? + heartbeatTimeout * 1000 WHERE deadline < ?",
                arguments: [Columns.millis(time), Columns.millis(time)])
            return db.changesCount
        }
    }
}

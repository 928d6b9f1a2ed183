import BrokerCore
import Foundation
import GRDB
import Logging

/// The SQLite implementation of the `Ledger` port: one file, WAL, one write transaction
/// per port method, credentials and provider params sealed at rest.
public final class SQLiteLedger: Ledger {
    let pool: DatabasePool
    let sealer: any SecretSealer
    /// The database file.
    public let path: String

    /// How hard SQLite syncs to disk.
    public enum Durability: String, Sendable {
        /// fsync on every commit: an acknowledged change survives a power cut.
        case full
        /// fsync at checkpoints: survives a process crash, faster.
        case normal
    }

    /// Opens (creating if needed) and migrates the ledger at `path`.
    public init(path: String, sealer: any SecretSealer, durability: Durability = .full) throws {
        var configuration = GRDB.Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.label = "polybroker.ledger"
        self.path = path
        self.sealer = sealer
        pool = try DatabasePool(path: path, configuration: configuration)
        // DatabasePool sets synchronous=NORMAL on the writer after prepareDatabase: set ours after opening.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
        }
        try Migrations.migrator.migrate(pool)
    }

    /// The names of the migrations applied, in order.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Migrations.migrator.appliedMigrations(db) }
    }

    // MARK: Writes

    public func mutate<Result: Sendable>(
        _ key: InstanceKey, _ body: @escaping @Sendable (InstanceAggregate?) throws -> (LedgerWrite, Result)
    ) async throws -> Result {
        let sealer = self.sealer
        return try await write { db in
            let aggregate = try Self.aggregate(key, in: db, sealer: sealer)
            let (changes, result) = try body(aggregate)
            if let instance = changes.instance { try InstanceRecord.upsert(instance, in: db) }
            for binding in changes.bindings { try BindingRecord.upsert(binding, in: db, sealer: sealer) }
            for operation in changes.operations { try OperationRecord.upsert(operation, in: db) }
            for event in changes.events { try EventRecord.insert(event, in: db) }
            return result
        }
    }

    public func saveProvider(_ provider: Provider, events: [NewEvent]) async throws {
        let sealer = self.sealer
        try await write { db in
            try ProviderRecord.upsert(provider, in: db, sealer: sealer)
            for event in events { try EventRecord.insert(event, in: db) }
        }
    }

    /// One write transaction, with unique violations turned into `LedgerError`.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(updates)
        } catch let error as DatabaseError {
            if let field = Columns.uniqueField(error) { throw LedgerError.uniqueViolation(field: field) }
            throw error
        }
    }

    // MARK: Reads

    public func aggregate(_ key: InstanceKey) async throws -> InstanceAggregate? {
        let sealer = self.sealer
        return try await pool.read { db in try Self.aggregate(key, in: db, sealer: sealer) }
    }

    static func aggregate(_ key: InstanceKey, in db: Database, sealer: any SecretSealer) throws -> InstanceAggregate? {
        let row: Row?
        switch key {
        case .id(let id):
            row = try Row.fetchOne(db, sql: "SELECT * FROM instance WHERE id = ?", arguments: [id])
        case .name(let name):
            row = try Row.fetchOne(db, sql: "SELECT * FROM instance WHERE name = ? AND state <> 'deleted'", arguments: [name])
        }
        guard let row else { return nil }
        let instance = InstanceRecord.decode(row)
        let bindings = try Row.fetchAll(
            db, sql: "SELECT * FROM binding WHERE instanceID = ? AND state <> 'deleted' ORDER BY createdAt, id",
            arguments: [instance.id]
        ).map { try BindingRecord.decode($0, sealer: sealer) }
        let operations = try Row.fetchAll(
            db, sql: "SELECT * FROM operation WHERE instanceID = ? AND state = 'in progress' ORDER BY startedAt, rowid",
            arguments: [instance.id]
        ).map(OperationRecord.decode)
        return InstanceAggregate(instance: instance, bindings: bindings, openOperations: operations)
    }

    public func binding(id: String) async throws -> Binding? {
        let sealer = self.sealer
        return try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM binding WHERE id = ?", arguments: [id]).map {
                try BindingRecord.decode($0, sealer: sealer)
            }
        }
    }

    public func operation(id: String) async throws -> BrokerOperation? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM operation WHERE id = ?", arguments: [id]).map(OperationRecord.decode)
        }
    }

    public func latestOperation(instanceID: String, bindingID: String?) async throws -> BrokerOperation? {
        try await pool.read { db in
            if let bindingID {
                return try Row.fetchOne(
                    db, sql: "SELECT * FROM operation WHERE bindingID = ? ORDER BY startedAt DESC, rowid DESC LIMIT 1",
                    arguments: [bindingID]
                ).map(OperationRecord.decode)
            }
            return try Row.fetchOne(
                db,
                sql: "SELECT * FROM operation WHERE instanceID = ? AND bindingID IS NULL ORDER BY startedAt DESC, rowid DESC LIMIT 1",
                arguments: [instanceID]
            ).map(OperationRecord.decode)
        }
    }

    public func openOperations() async throws -> [BrokerOperation] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM operation WHERE state = 'in progress' ORDER BY startedAt, rowid")
                .map(OperationRecord.decode)
        }
    }

    public func instances(_ filter: InstanceFilter, page: PageRequest) async throws -> Page<Instance> {
        var query = Query(table: "instance", key: "name")
        if !filter.includeDeleted { query.where("state <> 'deleted'") }
        if let tenant = filter.tenant { query.where("tenant = ?", tenant) }
        if let offering = filter.offeringID { query.where("offeringID = ?", offering) }
        if let provider = filter.providerID { query.where("providerID = ?", provider) }
        if let user = filter.user { query.where("user = ?", user) }
        if let tag = filter.tag { query.where("EXISTS (SELECT 1 FROM json_each(instance.tags) WHERE json_each.value = ?)", tag) }
        let finalQuery = query
        return try await pool.read { db in
            try finalQuery.page(page, in: db, marker: { $0.name }, decode: InstanceRecord.decode)
        }
    }

    public func bindings(_ filter: BindingFilter, page: PageRequest) async throws -> Page<Binding> {
        var query = Query(table: "binding", key: "id")
        if !filter.includeDeleted { query.where("state <> 'deleted'") }
        if let instance = filter.instanceID { query.where("instanceID = ?", instance) }
        if let tenant = filter.tenant {
            query.where("instanceID IN (SELECT id FROM instance WHERE tenant = ?)", tenant)
        }
        let sealer = self.sealer
        let finalQuery = query
        return try await pool.read { db in
            try finalQuery.page(page, in: db, marker: { $0.id }, decode: { try BindingRecord.decode($0, sealer: sealer) })
        }
    }

    public func events(_ filter: EventFilter, page: PageRequest) async throws -> Page<Event> {
        var query = Query(table: "event", key: "sequence", numericKey: true)
        if let tenant = filter.tenant { query.where("tenant = ?", tenant) }
        if let type = filter.type { query.where("type = ?", type) }
        if let subject = filter.subject { query.where("subject = ?", subject) }
        let finalQuery = query
        return try await pool.read { db in
            try finalQuery.page(page, in: db, marker: { String($0.sequence) }, decode: EventRecord.decode)
        }
    }

    public func provider(id: String) async throws -> Provider? {
        let sealer = self.sealer
        return try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM provider WHERE id = ?", arguments: [id]).map {
                try ProviderRecord.decode($0, sealer: sealer)
            }
        }
    }

    public func providers(_ filter: ProviderFilter, page: PageRequest) async throws -> Page<Provider> {
        var query = Query(table: "provider", key: "id")
        if !filter.includeRemoved { query.where("removedAt IS NULL") }
        if let kind = filter.kind { query.where("kind = ?", kind) }
        if let tenant = filter.tenant { query.where("(tenant IS NULL OR tenant = ?)", tenant) }
        if let tag = filter.tag { query.where("EXISTS (SELECT 1 FROM json_each(provider.tags) WHERE json_each.value = ?)", tag) }
        let sealer = self.sealer
        let finalQuery = query
        return try await pool.read { db in
            try finalQuery.page(page, in: db, marker: { $0.id }, decode: { try ProviderRecord.decode($0, sealer: sealer) })
        }
    }

    public func ping() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func close() async throws {
        try pool.close()
    }

    /// Copies the whole ledger, consistently, to another file while it stays online.
    public func backup(to destination: String) throws {
        let target = try DatabaseQueue(path: destination)
        try pool.backup(to: target)
        try target.close()
    }
}

/// A filtered, marker-paged `SELECT`.
struct Query: Sendable {
    let table: String
    let key: String
    var numericKey = false
    private var conditions: [String] = []
    private var arguments: [any DatabaseValueConvertible & Sendable] = []

    init(table: String, key: String, numericKey: Bool = false) {
        self.table = table
        self.key = key
        self.numericKey = numericKey
    }

    mutating func `where`(_ condition: String, _ argument: (any DatabaseValueConvertible & Sendable)? = nil) {
        conditions.append(condition)
        if let argument { arguments.append(argument) }
    }

    /// Reads one page: items from the marker on (inclusive), and the next page's first key.
    func page<Item>(
        _ request: PageRequest, in db: Database, marker: (Item) -> String, decode: (Row) throws -> Item
    ) throws -> Page<Item> {
        var conditions = self.conditions
        var arguments = self.arguments
        if let start = request.marker {
            conditions.append("\(key) >= ?")
            arguments.append(numericKey ? (Int64(start) ?? 0) as any DatabaseValueConvertible & Sendable : start)
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = max(1, request.limit)
        let rows = try Row.fetchAll(
            db, sql: "SELECT * FROM \(table) \(filter) ORDER BY \(key), rowid LIMIT ?",
            arguments: StatementArguments(arguments.map { $0 as any DatabaseValueConvertible } + [limit + 1]))
        let items = try rows.prefix(limit).map(decode)
        let next = rows.count > limit ? try marker(decode(rows[limit])) : nil
        return Page(items: items, nextMarker: next)
    }
}

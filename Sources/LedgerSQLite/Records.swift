import BrokerCore
import Foundation
import GRDB

/// The `instance` table.
enum InstanceRecord {
    static func decode(_ row: Row) -> Instance {
        Instance(
            id: row["id"], name: row["name"], offeringID: row["offeringID"], planID: row["planID"],
            providerID: row["providerID"], tenant: row["tenant"], createdBy: row["createdBy"],
            state: InstanceState(rawValue: row["state"]) ?? .failed, failure: row["failure"],
            parameters: Columns.value(row["parameters"]), context: Columns.value(row["context"]),
            identity: Columns.value(row["identity"]), tags: Columns.strings(row["tags"]),
            metadata: Columns.map(row["metadata"]), user: row["user"], dashboardURL: row["dashboardURL"],
            providerState: Columns.map(row["providerState"]), createdAt: Columns.date(row["createdAt"]),
            updatedAt: Columns.date(row["updatedAt"]))
    }

    static func upsert(_ instance: Instance, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO instance (id, name, offeringID, planID, providerID, tenant, createdBy, state, failure,
                    parameters, context, identity, tags, metadata, user, dashboardURL, providerState, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, offeringID = excluded.offeringID,
                    createdBy = excluded.createdBy, createdAt = excluded.createdAt,
                    planID = excluded.planID, providerID = excluded.providerID, tenant = excluded.tenant,
                    state = excluded.state, failure = excluded.failure, parameters = excluded.parameters,
                    context = excluded.context, identity = excluded.identity, tags = excluded.tags,
                    metadata = excluded.metadata, user = excluded.user, dashboardURL = excluded.dashboardURL,
                    providerState = excluded.providerState, updatedAt = excluded.updatedAt
                """,
            arguments: [
                instance.id, instance.name, instance.offeringID, instance.planID, instance.providerID, instance.tenant,
                instance.createdBy, instance.state.rawValue, instance.failure, Columns.json(instance.parameters),
                Columns.json(instance.context), Columns.json(instance.identity), Columns.json(instance.tags),
                Columns.json(instance.metadata), instance.user, instance.dashboardURL, Columns.json(instance.providerState),
                Columns.millis(instance.createdAt), Columns.millis(instance.updatedAt),
            ])
    }
}

/// The `binding` table; credentials are sealed.
enum BindingRecord {
    static func decode(_ row: Row, sealer: any SecretSealer) throws -> Binding {
        var credentials: Credentials?
        if let sealed: Data = row["sealedCredentials"] {
            let opened = try sealer.open(sealed)
            credentials = Credentials(JSONValue.parse(opened)?.stringMap ?? [:])
        }
        return Binding(
            id: row["id"], instanceID: row["instanceID"], appKey: row["appKey"], createdBy: row["createdBy"],
            state: BindingState(rawValue: row["state"]) ?? .failed, failure: row["failure"],
            parameters: Columns.value(row["parameters"]), context: Columns.value(row["context"]),
            identity: Columns.value(row["identity"]), credentials: credentials, units: Columns.strings(row["units"]),
            createdAt: Columns.date(row["createdAt"]), updatedAt: Columns.date(row["updatedAt"]))
    }

    static func upsert(_ binding: Binding, in db: Database, sealer: any SecretSealer) throws {
        let sealed = try binding.credentials.map { try sealer.seal(Data(JSONValue($0.values).canonicalText().utf8)) }
        try db.execute(
            sql: """
                INSERT INTO binding (id, instanceID, appKey, createdBy, state, failure, parameters, context, identity,
                    sealedCredentials, units, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET appKey = excluded.appKey, state = excluded.state,
                    failure = excluded.failure, parameters = excluded.parameters, context = excluded.context,
                    identity = excluded.identity, sealedCredentials = excluded.sealedCredentials,
                    units = excluded.units, updatedAt = excluded.updatedAt
                WHERE binding.instanceID = excluded.instanceID
                """,
            arguments: [
                binding.id, binding.instanceID, binding.appKey, binding.createdBy, binding.state.rawValue, binding.failure,
                Columns.json(binding.parameters), Columns.json(binding.context), Columns.json(binding.identity), sealed,
                Columns.json(binding.units), Columns.millis(binding.createdAt), Columns.millis(binding.updatedAt),
            ])
        if db.changesCount == 0 {
            // The id belongs to a binding of another instance.
            throw LedgerError.uniqueViolation(field: "binding.id")
        }
    }
}

/// The `operation` table.
enum OperationRecord {
    static func decode(_ row: Row) -> BrokerOperation {
        let originText: String = row["origin"]
        let origin = (try? JSONDecoder().decode(RequestOrigin.self, from: Data(originText.utf8))) ?? .system
        let finished: Int64? = row["finishedAt"]
        return BrokerOperation(
            id: row["id"], kind: OperationKind(rawValue: row["kind"]) ?? .provision, instanceID: row["instanceID"],
            bindingID: row["bindingID"], state: OperationState(rawValue: row["state"]) ?? .failed,
            description: row["description"], origin: origin, request: Columns.value(row["request"]),
            startedAt: Columns.date(row["startedAt"]), finishedAt: finished.map(Columns.date))
    }

    static func upsert(_ operation: BrokerOperation, in db: Database) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let origin = String(decoding: try encoder.encode(operation.origin), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO operation (id, kind, instanceID, bindingID, state, description, origin, request, startedAt, finishedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET state = excluded.state, description = excluded.description,
                    finishedAt = excluded.finishedAt
                """,
            arguments: [
                operation.id, operation.kind.rawValue, operation.instanceID, operation.bindingID, operation.state.rawValue,
                operation.description, origin, Columns.json(operation.request), Columns.millis(operation.startedAt),
                operation.finishedAt.map(Columns.millis),
            ])
    }
}

/// The `event` table; the sequence is assigned on insert.
enum EventRecord {
    static func decode(_ row: Row) -> Event {
        Event(
            sequence: row["sequence"], timestamp: Columns.date(row["timestamp"]), type: row["type"], tenant: row["tenant"],
            protocolName: row["protocol"], subject: row["subject"], payload: Columns.value(row["payload"]))
    }

    static func insert(_ event: NewEvent, in db: Database) throws {
        try db.execute(
            sql: "INSERT INTO event (timestamp, type, tenant, protocol, subject, payload) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                Columns.millis(event.timestamp), event.type, event.tenant, event.protocolName, event.subject,
                Columns.json(event.payload),
            ])
    }
}

/// The `provider` table; params are sealed.
enum ProviderRecord {
    static func decode(_ row: Row, sealer: any SecretSealer) throws -> Provider {
        let sealed: Data = row["sealedParams"]
        let params = JSONValue.parse(try sealer.open(sealed)) ?? .emptyObject
        return Provider(
            id: row["id"], name: row["name"], kind: row["kind"], params: params, tags: Columns.strings(row["tags"]),
            metadata: Columns.map(row["metadata"]), tenant: row["tenant"], sessionID: row["sessionID"],
            source: ProviderSource(rawValue: row["source"]) ?? .config, status: ProviderStatus(rawValue: row["status"]) ?? .offline,
            statusReason: row["statusReason"], createdAt: Columns.date(row["createdAt"]), updatedAt: Columns.date(row["updatedAt"]),
            removedAt: (row["removedAt"] as Int64?).map(Columns.date))
    }

    static func upsert(_ provider: Provider, in db: Database, sealer: any SecretSealer) throws {
        let sealed = try sealer.seal(Data(Columns.json(provider.params).utf8))
        try db.execute(
            sql: """
                INSERT INTO provider (id, name, kind, sealedParams, tags, metadata, tenant, sessionID, source, status,
                    statusReason, createdAt, updatedAt, removedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                    sealedParams = excluded.sealedParams, tags = excluded.tags, metadata = excluded.metadata,
                    tenant = excluded.tenant, sessionID = excluded.sessionID, source = excluded.source,
                    status = excluded.status, statusReason = excluded.statusReason, updatedAt = excluded.updatedAt,
                    removedAt = excluded.removedAt
                """,
            arguments: [
                provider.id, provider.name, provider.kind, sealed, Columns.json(provider.tags), Columns.json(provider.metadata),
                provider.tenant, provider.sessionID, provider.source.rawValue, provider.status.rawValue,
                provider.statusReason, Columns.millis(provider.createdAt), Columns.millis(provider.updatedAt),
                provider.removedAt.map(Columns.millis),
            ])
    }
}

/// The `session` table: the deadline queue is its `deadline` index.
enum SessionRecord {
    static func decode(_ row: Row) -> Session {
        Session(
            id: row["id"], tenant: row["tenant"], heartbeatTimeout: row["heartbeatTimeout"], tokenHash: row["tokenHash"],
            deadline: Columns.date(row["deadline"]), metadata: Columns.map(row["metadata"]), createdAt: Columns.date(row["createdAt"]),
            lastSeen: (row["lastSeen"] as Int64?).map(Columns.date))
    }

    static func upsert(_ session: Session, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO session (id, tenant, heartbeatTimeout, tokenHash, deadline, metadata, createdAt, lastSeen)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET heartbeatTimeout = excluded.heartbeatTimeout, tokenHash = excluded.tokenHash,
                    deadline = excluded.deadline, metadata = excluded.metadata, lastSeen = excluded.lastSeen
                """,
            arguments: [
                session.id, session.tenant, session.heartbeatTimeout, session.tokenHash, Columns.millis(session.deadline),
                Columns.json(session.metadata), Columns.millis(session.createdAt), session.lastSeen.map(Columns.millis),
            ])
    }
}

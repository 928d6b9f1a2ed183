import GRDB

/// The ledger's schema, as named append-only migrations. Never edit a merged migration:
/// add the next one.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-initial-schema") { db in
            try db.execute(
                sql: """
                    CREATE TABLE provider (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        sealedParams BLOB NOT NULL,
                        tags TEXT NOT NULL,
                        metadata TEXT NOT NULL,
                        tenant TEXT,
                        sessionID TEXT,
                        source TEXT NOT NULL,
                        status TEXT NOT NULL,
                        statusReason TEXT,
                        createdAt INTEGER NOT NULL,
                        updatedAt INTEGER NOT NULL
                    );
                    CREATE INDEX provider_kind ON provider(kind);

                    CREATE TABLE instance (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        offeringID TEXT NOT NULL,
                        planID TEXT NOT NULL,
                        providerID TEXT NOT NULL REFERENCES provider(id),
                        tenant TEXT NOT NULL,
                        createdBy TEXT NOT NULL,
                        state TEXT NOT NULL,
                        failure TEXT,
                        parameters TEXT NOT NULL,
                        context TEXT NOT NULL,
                        identity TEXT NOT NULL,
                        tags TEXT NOT NULL,
                        metadata TEXT NOT NULL,
                        user TEXT,
                        dashboardURL TEXT,
                        providerState TEXT NOT NULL,
                        createdAt INTEGER NOT NULL,
                        updatedAt INTEGER NOT NULL
                    );
                    CREATE UNIQUE INDEX instance_live_name ON instance(name) WHERE state <> 'deleted';
                    CREATE INDEX instance_tenant ON instance(tenant, name);
                    CREATE INDEX instance_provider ON instance(providerID);

                    CREATE TABLE binding (
                        id TEXT PRIMARY KEY NOT NULL,
                        instanceID TEXT NOT NULL REFERENCES instance(id),
                        appKey TEXT,
                        createdBy TEXT NOT NULL,
                        state TEXT NOT NULL,
                        failure TEXT,
                        parameters TEXT NOT NULL,
                        context TEXT NOT NULL,
                        identity TEXT NOT NULL,
                        sealedCredentials BLOB,
                        units TEXT NOT NULL,
                        createdAt INTEGER NOT NULL,
                        updatedAt INTEGER NOT NULL
                    );
                    CREATE INDEX binding_instance ON binding(instanceID, state);
                    CREATE UNIQUE INDEX binding_live_app ON binding(instanceID, appKey)
                        WHERE state <> 'deleted' AND appKey IS NOT NULL;

                    CREATE TABLE operation (
                        id TEXT PRIMARY KEY NOT NULL,
                        kind TEXT NOT NULL,
                        instanceID TEXT NOT NULL REFERENCES instance(id),
                        bindingID TEXT REFERENCES binding(id),
                        state TEXT NOT NULL,
                        description TEXT,
                        origin TEXT NOT NULL,
                        request TEXT NOT NULL,
                        startedAt INTEGER NOT NULL,
                        finishedAt INTEGER
                    );
                    CREATE INDEX operation_instance ON operation(instanceID, startedAt);
                    CREATE INDEX operation_binding ON operation(bindingID, startedAt);
                    CREATE INDEX operation_open ON operation(state) WHERE state = 'in progress';

                    CREATE TABLE event (
                        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                        timestamp INTEGER NOT NULL,
                        type TEXT NOT NULL,
                        tenant TEXT NOT NULL,
                        protocol TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        payload TEXT NOT NULL
                    );
                    CREATE INDEX event_tenant ON event(tenant, sequence);
                    CREATE INDEX event_subject ON event(subject, sequence);

                    CREATE TABLE session (
                        id TEXT PRIMARY KEY NOT NULL,
                        tenant TEXT NOT NULL,
                        heartbeatTimeout INTEGER NOT NULL,
                        token TEXT NOT NULL,
                        deadline INTEGER NOT NULL,
                        metadata TEXT NOT NULL,
                        createdAt INTEGER NOT NULL
                    );
                    CREATE INDEX session_deadline ON session(deadline);
                    """)
        }
        migrator.registerMigration("v2-provider-removal") { db in
            try db.execute(
                sql: """
                    ALTER TABLE provider ADD COLUMN removedAt INTEGER;
                    CREATE UNIQUE INDEX provider_live_name ON provider(name) WHERE removedAt IS NULL;
                    """)
        }
        migrator.registerMigration("v3-session-heartbeats") { db in
            try db.execute(
                sql: """
                    ALTER TABLE session RENAME COLUMN token TO tokenHash;
                    ALTER TABLE session ADD COLUMN lastSeen INTEGER;
                    CREATE INDEX provider_session ON provider(sessionID) WHERE sessionID IS NOT NULL;
                    """)
        }
        return migrator
    }
}

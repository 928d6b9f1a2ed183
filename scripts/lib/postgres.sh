# start_postgres: a throw-away PostgreSQL cluster on a free loopback port, run as the postgres
# user (it refuses root); exports POLYBROKER_TEST_POSTGRESQL_URL. stop_postgres removes it.
start_postgres() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$bin" ] || { echo "PostgreSQL binaries not found" >&2; return 1; }
    PG_TMP=$(mktemp -d /tmp/polybroker-pg.XXXXXX)
    chmod 755 "$PG_TMP"
    chown postgres "$PG_TMP"
    local password port
    password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf '%s\n' "$password" > "$PG_TMP/pw"
    chown postgres "$PG_TMP/pw"
    runuser -u postgres -- "$bin/initdb" -D "$PG_TMP/data" -U postgres --pwfile="$PG_TMP/pw" -A scram-sha-256 >"$PG_TMP/initdb.log" 2>&1
    runuser -u postgres -- "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w \
        -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1" start >/dev/null
    PG_BIN=$bin
    export POLYBROKER_TEST_POSTGRESQL_URL="postgresql://postgres:$password@127.0.0.1:$port/postgres"
}

stop_postgres() {
    [ -n "${PG_TMP:-}" ] || return 0
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
}

# postgres_leftovers: prints the databases and roles Polybroker's provider made (pb_*) that are
# still on the throw-away server; nothing when the tests cleaned up after themselves.
postgres_leftovers() {
    local url=${POLYBROKER_TEST_POSTGRESQL_URL#postgresql://}
    local password=${url#*:}; password=${password%%@*}
    local port=${url##*:}; port=${port%%/*}
    PGPASSWORD=$password psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atc \
        "SELECT 'database ' || datname FROM pg_database WHERE datname LIKE 'pb\_%' UNION ALL SELECT 'role ' || rolname FROM pg_roles WHERE rolname LIKE 'pb\_%'"
}

# start_redis: a throw-away redis-server on a free loopback port with a random password for the
# default user, kept in an ACL file in a 0700 folder (never on a command line), so the plugin's
# ACL SAVE is exercised; exports POLYBROKER_TEST_REDIS_URL. stop_redis shuts it down and removes
# its folder.
start_redis() {
    command -v redis-server >/dev/null || { echo "redis-server not found" >&2; return 1; }
    REDIS_TMP=$(mktemp -d /tmp/polybroker-redis.XXXXXX)
    local password port
    password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    REDIS_PORT=$port
    REDIS_PASSWORD=$password
    (
        umask 077
        cat >"$REDIS_TMP/redis.conf" <<CONF
bind 127.0.0.1
port $port
save ""
appendonly no
daemonize yes
dir $REDIS_TMP
pidfile $REDIS_TMP/redis.pid
logfile $REDIS_TMP/redis.log
aclfile $REDIS_TMP/users.acl
CONF
        printf 'user default on >%s ~* &* +@all\n' "$password" >"$REDIS_TMP/users.acl"
    )
    redis-server "$REDIS_TMP/redis.conf" >/dev/null
    local tries=0
    until REDISCLI_AUTH=$password redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; do
        tries=$((tries + 1))
        if [ $tries -gt 100 ]; then
            echo "redis-server did not answer on 127.0.0.1:$port (log: $REDIS_TMP/redis.log)" >&2
            return 1
        fi
        sleep 0.1
    done
    export POLYBROKER_TEST_REDIS_URL="redis://default:$password@127.0.0.1:$port"
}

stop_redis() {
    [ -n "${REDIS_TMP:-}" ] || return 0
    REDISCLI_AUTH=${REDIS_PASSWORD:-} redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-0}" shutdown nosave >/dev/null 2>&1 || true
    if [ -f "$REDIS_TMP/redis.pid" ]; then
        kill "$(cat "$REDIS_TMP/redis.pid")" 2>/dev/null || true
    fi
    rm -rf "$REDIS_TMP"
    REDIS_TMP=
}

# redis_leftovers: prints the ACL users Polybroker's provider made (pb.*) and the number of keys
# still on the throw-away server; nothing when the tests cleaned up after themselves.
redis_leftovers() {
    local keys
    REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --no-auth-warning ACL USERS | grep '^pb\.' | sed 's/^/user /' || true
    keys=$(REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --no-auth-warning DBSIZE)
    [ "$keys" = "0" ] || echo "$keys keys"
}

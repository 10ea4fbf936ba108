#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests (docs/schema.sql, tests/sql/).
#
#   scripts/pg-cluster.sh start [DIR]   initdb + start; prints export lines
#   scripts/pg-cluster.sh stop DIR      stop it and remove DIR
#   scripts/pg-cluster.sh status DIR    exit 0 when it accepts connections
#
# start creates DIR (default: a fresh mktemp directory under ${TMPDIR:-/tmp}),
# runs initdb there (trust authentication, superuser "postgres", UTF8, C
# locale, no fsync: the data is thrown away), and starts the server on a free
# TCP port of 127.0.0.1 with its unix socket in DIR. On success it prints
#
#   export PGHOST=DIR PGPORT=N PGUSER=postgres PGDATABASE=postgres
#   export STAGEKV_PG_DIR=DIR
#
# (also written to DIR/env), so `eval "$(scripts/pg-cluster.sh start)"` sets
# up psql. Everything else goes to stderr. Any failure stops what was
# started, removes DIR and exits non-zero.
#
# PostgreSQL refuses to run as root. As root the cluster runs as the system
# user $STAGEKV_PG_USER (default stagekv-pg, created with useradd when
# missing; if that fails, nobody) and DIR is chowned to it; commands run
# through runuser. As any other user they run as that user.
#
# Every wait is bounded: pg_ctl -w -t $STAGEKV_PG_TIMEOUT (default 30 s).
# stop refuses a directory that start did not create (no marker file), so a
# wrong argument cannot remove anything else.
set -euo pipefail

PG_BIN=${PG_BIN:-}
if [[ -z $PG_BIN ]]; then
    for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        [[ -x $d/pg_ctl ]] && { PG_BIN=$d; break; }
    done
fi
[[ -n $PG_BIN && -x $PG_BIN/pg_ctl ]] || { echo "pg-cluster: no PostgreSQL binaries (set PG_BIN)" >&2; exit 2; }
TIMEOUT=${STAGEKV_PG_TIMEOUT:-30}
MARKER=.stagekv-pg-cluster
SUPERUSER=postgres

log() { echo "pg-cluster: $*" >&2; }

# The account the server runs as ("" = the current user).
run_user() {
    if [[ $(id -u) -ne 0 ]]; then echo ""; return; fi
    local u=${STAGEKV_PG_USER:-stagekv-pg}
    if ! id -u "$u" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u" >/dev/null 2>&1 ||
            true
    fi
    id -u "$u" >/dev/null 2>&1 || u=nobody
    echo "$u"
}

# as USER cmd...: run cmd as USER ("" = directly).
as() {
    local u=$1
    shift
    if [[ -z $u ]]; then "$@"; else runuser -u "$u" -- "$@"; fi
}

port_free() {
    local p=$1
    if command -v ss >/dev/null 2>&1; then
        if ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then return 1; fi
    elif (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        return 1
    fi
    return 0
}

pick_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 20000))
        if port_free "$p"; then echo "$p"; return 0; fi
    done
    return 1
}

cmd_start() {
    # globals, not locals: the EXIT trap runs after this function returned
    dir=${1:-} created=0 user="" port="" started=0
    if [[ -z $dir ]]; then
        dir=$(mktemp -d "${TMPDIR:-/tmp}/stagekv-pg.XXXXXX")
        created=1
    else
        [[ -e $dir ]] && { log "$dir exists; start wants a new directory"; return 2; }
        mkdir -p "$dir"
        created=1
    fi
    dir=$(cd "$dir" && pwd)
    touch "$dir/$MARKER"
    user=$(run_user)
    # shellcheck disable=SC2317  # called through the trap
    cleanup() {
        local rc=$?
        if [[ $rc -ne 0 ]]; then
            log "start failed; cleaning up $dir"
            if [[ -f $dir/server.log ]]; then tail -n 20 "$dir/server.log" >&2; fi
            if [[ $started -eq 1 ]]; then
                as "$user" "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t "$TIMEOUT" stop >/dev/null 2>&1 || true
            fi
            [[ $created -eq 1 ]] && rm -rf "$dir"
        fi
        return $rc
    }
    trap cleanup EXIT
    if [[ -n $user ]]; then
        chown "$user" "$dir" "$dir/$MARKER"
        chmod 700 "$dir"
        # the user must reach DIR through its parents
        as "$user" test -x "$dir" || { log "user $user cannot enter $dir (parent permissions)"; return 1; }
    fi
    as "$user" "$PG_BIN/initdb" -D "$dir/data" -U "$SUPERUSER" -A trust -E UTF8 --locale=C --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$dir'"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
        echo "max_connections = 40"
        echo "shared_buffers = 32MB"
        echo "log_min_messages = warning"
    } >>"$dir/data/postgresql.conf"
    local attempt
    for attempt in 1 2 3 4 5; do
        port=$(pick_port) || { log "no free port"; return 1; }
        if as "$user" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t "$TIMEOUT" start \
            >/dev/null 2>&1; then
            started=1
            break
        fi
        # a lost race for the port (or a real failure): make sure it is down
        as "$user" "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t "$TIMEOUT" stop >/dev/null 2>&1 || true
        log "start on port $port failed (attempt $attempt)"
    done
    [[ $started -eq 1 ]] || return 1
    "$PG_BIN/pg_isready" -q -h "$dir" -p "$port" -t "$TIMEOUT" || { log "server not ready"; return 1; }
    env="export PGHOST=$dir PGPORT=$port PGUSER=$SUPERUSER PGDATABASE=postgres
export STAGEKV_PG_DIR=$dir"
    printf '%s\n' "$env" >"$dir/env"
    [[ -n $user ]] && chown "$user" "$dir/env"
    trap - EXIT
    log "PostgreSQL on port $port, socket in $dir${user:+ (running as $user)}"
    printf '%s\n' "$env"
}

cmd_stop() {
    local dir=${1:?stop DIR}
    [[ -d $dir ]] || { log "$dir: no such directory"; return 0; }
    [[ -f $dir/$MARKER ]] || { log "$dir was not created by pg-cluster.sh start; refusing"; return 2; }
    local owner="" rc=0
    if [[ $(id -u) -eq 0 ]]; then
        owner=$(stat -c %U "$dir")
        [[ $owner == root ]] && owner=""
    fi
    if [[ -f $dir/data/postmaster.pid ]]; then
        if ! as "$owner" "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t "$TIMEOUT" stop >/dev/null 2>&1; then
            log "fast stop failed; immediate stop"
            as "$owner" "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t "$TIMEOUT" stop >/dev/null 2>&1 || {
                local pid
                pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
                if [[ $pid =~ ^[0-9]+$ ]] && [[ $(ps -o args= -p "$pid" 2>/dev/null) == *postgres* ]]; then
                    kill -KILL "$pid" 2>/dev/null || true
                fi
                rc=1
            }
        fi
    fi
    rm -rf "$dir"
    return $rc
}

cmd_status() {
    local dir=${1:?status DIR}
    [[ -f $dir/env ]] || return 1
    # shellcheck disable=SC1091
    (source "$dir/env" && "$PG_BIN/pg_isready" -q -t 5)
}

case ${1:-} in
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
status) shift; cmd_status "$@" ;;
*) echo "usage: $0 start [DIR] | stop DIR | status DIR" >&2; exit 2 ;;
esac

#!/bin/bash
# The baseline paxosql is compared with: PostgreSQL 15 with a primary and two
# synchronous standbys on loopback, commits acknowledged once one of the two
# standbys has flushed them (synchronous_standby_names = 'ANY 1 (s1, s2)',
# synchronous_commit = on): like a 3-node paxosql cluster, a commit survives
# the loss of any one machine. fsync stays on, as paxosql's log is fsynced.
#
#   bench/baselines/postgres-quorum.sh start   # prints the primary's URL (last line of stdout)
#   bench/baselines/postgres-quorum.sh status
#   bench/baselines/postgres-quorum.sh stop    # stops the servers and removes everything
#
# Then run the same workload against both, e.g.:
#   node dist/src/cli/main.js bench --workload insert --clients 64 --duration 30s --out /tmp/pg --target "$URL"
#   node dist/src/cli/main.js bench --workload insert --clients 64 --duration 30s --out /tmp/px
#
# Environment: PGQ_DIR (default /tmp/paxosql-pg-quorum), PGQ_PORT (primary,
# default 55432; standbys PGQ_PORT+1 and +2), PGQ_BIN (default
# /usr/lib/postgresql/15/bin; apt-get install -y postgresql-15 if missing).
# Run as root, the servers run as the user "postgres" (Postgres refuses root).
set -euo pipefail

DIR=${PGQ_DIR:-/tmp/paxosql-pg-quorum}
PORT=${PGQ_PORT:-55432}
BIN=${PGQ_BIN:-/usr/lib/postgresql/15/bin}
STANDBYS=(s1 s2)

if [ "$(id -u)" = 0 ]; then RUN_AS=(runuser -u postgres --); OWNER=postgres; else RUN_AS=(); OWNER=$(id -un); fi
as_owner() { "${RUN_AS[@]}" "$@"; }

die() { echo "postgres-quorum: $*" >&2; exit 1; }

[ -x "$BIN/postgres" ] || die "no PostgreSQL 15 in $BIN (apt-get install -y postgresql-15, or set PGQ_BIN)"

url() { echo "postgres://postgres@127.0.0.1:$1/paxosql"; }

psql_at() { # port, sql
  as_owner "$BIN/psql" -X -q -t -A -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "$2"
}

start_primary() {
  as_owner "$BIN/initdb" -D "$DIR/primary" -U postgres -A trust --no-instructions >"$DIR/initdb.log"
  cat >>"$DIR/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
max_connections = 200
wal_level = replica
max_wal_senders = 10
synchronous_commit = on
CONF
  as_owner "$BIN/pg_ctl" -D "$DIR/primary" -l "$DIR/primary.log" -w start >/dev/null
  psql_at "$PORT" "CREATE DATABASE paxosql" >/dev/null
}

start_standby() { # name, port
  local name=$1 port=$2
  as_owner "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PORT" -U postgres -D "$DIR/$name" -X stream -c fast -R
  # Later lines win: the standby's port, and an application_name the primary's quorum list names.
  cat >>"$DIR/$name/postgresql.auto.conf" <<CONF
port = $port
primary_conninfo = 'host=127.0.0.1 port=$PORT user=postgres application_name=$name'
CONF
  as_owner "$BIN/pg_ctl" -D "$DIR/$name" -l "$DIR/$name.log" -w start >/dev/null
}

# Only once the standbys stream: before, every commit (CREATE DATABASE too) would wait for them.
require_quorum() {
  echo "synchronous_standby_names = 'ANY 1 (s1, s2)'" >>"$DIR/primary/postgresql.conf"
  as_owner "$BIN/pg_ctl" -D "$DIR/primary" reload >/dev/null
}

wait_for_quorum() {
  for _ in $(seq 1 100); do
    local n
    n=$(psql_at "$PORT" "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'quorum' AND state = 'streaming'")
    [ "$n" = 2 ] && return 0
    sleep 0.1
  done
  die "the standbys did not reach streaming quorum state (logs in $DIR)"
}

stop_all() {
  for name in "${STANDBYS[@]}" primary; do
    if [ -f "$DIR/$name/postmaster.pid" ]; then as_owner "$BIN/pg_ctl" -D "$DIR/$name" -m immediate -w stop >/dev/null || true; fi
  done
  rm -rf "$DIR"
}

case "${1:-start}" in
  start)
    [ -e "$DIR" ] && die "$DIR exists: run '$0 stop' first"
    mkdir -p "$DIR"
    chown "$OWNER" "$DIR"
    start_primary
    i=1
    for name in "${STANDBYS[@]}"; do start_standby "$name" $((PORT + i)); i=$((i + 1)); done
    require_quorum
    wait_for_quorum
    echo "primary $(url "$PORT") with synchronous standbys s1 :$((PORT + 1)) and s2 :$((PORT + 2)), ANY 1 (s1, s2); stop: $0 stop" >&2
    url "$PORT"
    ;;
  status)
    psql_at "$PORT" "SELECT application_name, state, sync_state FROM pg_stat_replication ORDER BY 1"
    ;;
  stop)
    stop_all
    ;;
  *)
    die "usage: $0 [start|status|stop]"
    ;;
esac

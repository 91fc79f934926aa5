#!/usr/bin/env bash
# PostgreSQL for the backend tests: Debian's package, one throwaway cluster on 127.0.0.1.
#
#   scripts/engines/postgres.sh install   apt-get install postgresql when its binaries are missing
#   scripts/engines/postgres.sh start     initdb (once) and start; waits until it answers; idempotent
#   scripts/engines/postgres.sh stop      fast shutdown of the cluster this script started; idempotent
#   scripts/engines/postgres.sh url       prints the test database URL
#
# Settings (environment): TRIGGERS_PG_PORT (54329), TRIGGERS_ENGINES_DIR (/tmp/triggers-engines).
# The cluster trusts every local connection and runs with fsync off: it holds test data only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PORT="${TRIGGERS_PG_PORT:-54329}"
engine_files postgres
DATA="$ROOT/data"
SOCKETS="$ROOT/sockets"
DATABASE=triggers_test
URL="postgres://postgres@127.0.0.1:$PORT/$DATABASE"

bin_dir() {
  # The newest installed major version, e.g. /usr/lib/postgresql/15/bin.
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

# PostgreSQL refuses to run as root: as root, run its programs as the `postgres` user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install() {
  if bin_dir >/dev/null; then return 0; fi
  apt_install PostgreSQL postgresql
  bin_dir >/dev/null || { echo "postgresql installed but no initdb found under /usr/lib/postgresql" >&2; exit 1; }
}

answers() {
  "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres
}

start() {
  BIN=$(bin_dir) || { echo "PostgreSQL is not installed (run: $0 install)" >&2; exit 1; }
  if ! already_answers PostgreSQL "127.0.0.1:$PORT"; then
    mkdir -p "$ROOT"
    # The postgres user must reach its folder through the parent, whatever the umask made it.
    if [ "$(id -u)" = 0 ]; then chmod o+x "$(dirname "$ROOT")"; chown postgres:postgres "$ROOT"; chmod 755 "$ROOT"; fi
    as_owner mkdir -p "$SOCKETS"
    if [ ! -f "$DATA/PG_VERSION" ]; then
      as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$ROOT/initdb.log" 2>&1 \
        || { cat "$ROOT/initdb.log" >&2; exit 1; }
    fi
    # A crash can leave a stale pid file behind; pg_ctl start handles that itself.
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start \
      -o "-p $PORT -c listen_addresses=127.0.0.1 -k $SOCKETS -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      >/dev/null || { tail -n 30 "$LOG" >&2; exit 1; }
    wait_until_answers PostgreSQL "127.0.0.1:$PORT" 100 0.1 "$LOG"
    echo "== PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') started on 127.0.0.1:$PORT (data in $DATA)"
  fi
  if [ -z "$("$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" ]; then
    "$BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -c "CREATE DATABASE $DATABASE" 2>/dev/null \
      || [ -n "$("$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" ]
  fi
}

stop() {
  BIN=$(bin_dir) || return 0
  if [ -f "$DATA/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    echo "== PostgreSQL stopped"
  fi
}

engine_cli url "$URL" "$@"

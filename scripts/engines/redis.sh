#!/usr/bin/env bash
# Redis for the backend tests: Debian's package, one throwaway server on 127.0.0.1.
#
#   scripts/engines/redis.sh install   apt-get install redis-server when it is missing
#   scripts/engines/redis.sh start     starts a daemon; waits until it answers PING; idempotent
#   scripts/engines/redis.sh stop      shuts down the server this script started; idempotent
#   scripts/engines/redis.sh url       prints the URL
#
# Settings (environment): TRIGGERS_REDIS_PORT (63799), TRIGGERS_ENGINES_DIR (/tmp/triggers-engines).
# No persistence (no RDB snapshots, no AOF): it holds test data only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PORT="${TRIGGERS_REDIS_PORT:-63799}"
engine_files redis
URL="redis://127.0.0.1:$PORT"

install() {
  if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then return 0; fi
  apt_install Redis redis-server
}

answers() {
  [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = PONG ]
}

start() {
  command -v redis-server >/dev/null || { echo "Redis is not installed (run: $0 install)" >&2; exit 1; }
  already_answers Redis "127.0.0.1:$PORT" && return 0
  mkdir -p "$ROOT"
  redis-server --bind 127.0.0.1 --port "$PORT" --daemonize yes --pidfile "$PIDFILE" --logfile "$LOG" \
    --dir "$ROOT" --save '' --appendonly no --protected-mode yes
  wait_until_answers Redis "127.0.0.1:$PORT" 100 0.1 "$LOG"
  echo "== Redis $(redis-server --version | sed -E 's/.* v=([^ ]+).*/\1/') started on 127.0.0.1:$PORT"
}

stop() {
  stop_started Redis "$PIDFILE" redis-cli -h 127.0.0.1 -p "$PORT" shutdown nosave
}

engine_cli url "$URL" "$@"

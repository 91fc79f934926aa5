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

PORT="${TRIGGERS_REDIS_PORT:-63799}"
ROOT="${TRIGGERS_ENGINES_DIR:-/tmp/triggers-engines}/redis"
PIDFILE="$ROOT/redis.pid"
LOG="$ROOT/redis.log"
URL="redis://127.0.0.1:$PORT"

install() {
  if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then return 0; fi
  echo "== installing Redis (Debian package redis-server)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q redis-server >/dev/null
}

answers() {
  [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = PONG ]
}

start() {
  command -v redis-server >/dev/null || { echo "Redis is not installed (run: $0 install)" >&2; exit 1; }
  if answers; then
    echo "== Redis already answers on 127.0.0.1:$PORT"
    return 0
  fi
  mkdir -p "$ROOT"
  redis-server --bind 127.0.0.1 --port "$PORT" --daemonize yes --pidfile "$PIDFILE" --logfile "$LOG" \
    --dir "$ROOT" --save '' --appendonly no --protected-mode yes
  for _ in $(seq 1 100); do answers && break; sleep 0.1; done
  answers || { echo "Redis did not answer on 127.0.0.1:$PORT" >&2; tail -n 30 "$LOG" >&2; exit 1; }
  echo "== Redis $(redis-server --version | sed -E 's/.* v=([^ ]+).*/\1/') started on 127.0.0.1:$PORT"
}

stop() {
  [ -f "$PIDFILE" ] || return 0
  local pid
  pid=$(cat "$PIDFILE")
  # Only the server this script started: its pid file names it.
  if kill -0 "$pid" 2>/dev/null; then
    redis-cli -h 127.0.0.1 -p "$PORT" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "== Redis stopped"
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 install|start|stop|url" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# bench/ingest-slices.sh [SLICES] [SECONDS] [--bare]: one fresh all-in-one (or with --bare the bare
# node:http server of bench/bare-server.ts) pinned to CPU 0, loaded by wrk on CPU 1 (64
# connections, single-event POSTs) in SLICES back-to-back slices of SECONDS each (default 12 × 2),
# printing each slice's requests/s and the server's CPU per request (utime + stime from /proc).
# It shows how much one server's figures move from one slice to the next on this machine
# (docs/benchmarks.md, "Eighth pass"). Extra environment for the server: export it beforehand.
set -euo pipefail
SLICES=${1:-12}
SECONDS_PER_SLICE=${2:-2}
MODE=${3:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/triggers-ingest-slices.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cd "$ROOT"
# shellcheck source=lib/single-event-wrk.sh
source bench/lib/single-event-wrk.sh
if [[ "$MODE" == "--bare" ]]; then
  PORT=$PORT taskset -c 0 node --import tsx bench/bare-server.ts > "$WORK/server.log" 2>&1 &
else
  TRIGGERS_DATA_DIR="$WORK/data" PORT=$PORT TRIGGERS_HOST=127.0.0.1 TRIGGERS_ADMIN_TOKEN=$ADMIN TRIGGERS_LOG_LEVEL=warn \
    TRIGGERS_RATE_LIMIT_PER_SECOND=10000000 TRIGGERS_DEMO=0 taskset -c 0 node --import tsx services/all-in-one/src/main.ts > "$WORK/server.log" 2>&1 &
fi
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 300); do
  if [[ "$MODE" == "--bare" ]]; then (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
  else curl -sf "http://127.0.0.1:$PORT/health" > /dev/null 2>&1 && break; fi
  kill -0 $PID 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.3
done
KEY=none
if [[ "$MODE" != "--bare" ]]; then
  KEY=$(test_customer_key "$PORT" slices)
fi
single_event_lua "$KEY" "$WORK/post.lua"
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
for s in $(seq 1 "$SLICES"); do
  c0=$(cpu)
  out=$(taskset -c 1 wrk -t1 -c64 -d"${SECONDS_PER_SLICE}s" -s "$WORK/post.lua" "http://127.0.0.1:$PORT/api/v1/events")
  c1=$(cpu)
  rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
  bad=$(awk '/Non-2xx/ {print $5}' <<< "$out")
  # CLK_TCK is 100: ticks × 10,000 µs over the requests of the slice.
  echo "slice $s: $rps req/s, server $((c1 - c0)) ticks, $(awk -v t=$((c1 - c0)) -v r="$rps" -v d="$SECONDS_PER_SLICE" 'BEGIN { printf "%.0f", t * 10000 / (r * d) }') µs CPU per request${bad:+, $bad answers not 2xx}"
done

#!/usr/bin/env bash
# bench/ingest-allocation.sh [off|on] [SECONDS]: what one single-event ingest request allocates
# and promotes on the V8 heap. Starts one all-in-one with --trace-gc-nvp (tracing `on`: exporting
# every span to a sink in a child process; `off`: no OTEL_*), warms it up 5 s with wrk (64
# connections), then loads it SECONDS (default 8) and sums the `allocated=` and `promoted=` of
# every collection during that load, over the requests wrk counted. Bytes are far less disturbed
# by other load than CPU time is (they move with request lifetimes, not with the core's speed), so
# this runs on a busy machine too. Extra server environment (OTEL_TRACES_SAMPLER, OTEL_BSP_*, …):
# export it beforehand; NODE_FLAGS adds node flags. With HEAP_SAMPLING_OUT=FILE the load is also
# sampled by V8's allocation sampler (bench/lib/heap-sampling.mjs) into FILE, for
# bench/heap-sampling-diff.mjs (give it the requests printed here). Used in docs/benchmarks.md
# ("Eighth pass").
set -euo pipefail
MODE=${1:-off}
LOAD_S=${2:-8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/triggers-ingest-allocation.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
cd "$ROOT"
# shellcheck source=lib/single-event-wrk.sh
source bench/lib/single-event-wrk.sh
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
TRACE_ENV=()
if [[ "$MODE" == "on" ]]; then
  SINK_PORT=$(free_port)
  node -e "require('node:http').createServer((q,r)=>{q.resume();q.on('end',()=>r.end())}).listen($SINK_PORT,'127.0.0.1')" &
  PIDS+=($!)
  TRACE_ENV=(OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$SINK_PORT OTEL_SERVICE_NAME=ingest-allocation)
elif [[ "$MODE" != "off" ]]; then
  echo "usage: bench/ingest-allocation.sh [off|on] [SECONDS]" >&2
  exit 2
fi
env "${TRACE_ENV[@]}" TRIGGERS_DATA_DIR="$WORK/data" PORT=$PORT TRIGGERS_HOST=127.0.0.1 TRIGGERS_ADMIN_TOKEN=$ADMIN \
  TRIGGERS_LOG_LEVEL=warn TRIGGERS_RATE_LIMIT_PER_SECOND=10000000 TRIGGERS_DEMO=0 \
  node --trace-gc-nvp ${NODE_FLAGS:-} ${HEAP_SAMPLING_OUT:+--import ./bench/lib/heap-sampling.mjs} --import tsx services/all-in-one/src/main.ts > "$WORK/server.log" 2>&1 &
SERVER=$!
PIDS+=($SERVER)
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$PORT/health" > /dev/null 2>&1 && break
  sleep 0.3
done
KEY=$(test_customer_key "$PORT" allocation)
single_event_lua "$KEY" "$WORK/post.lua"
wrk -t1 -c64 -d5s -s "$WORK/post.lua" "http://127.0.0.1:$PORT/api/v1/events" > /dev/null
sample() {
  [[ -z "${HEAP_SAMPLING_OUT:-}" ]] && return
  kill -USR2 $SERVER
  for _ in $(seq 1 100); do grep -q "heap-sampling: $1" "$WORK/server.log" && return; sleep 0.1; done
  echo "the allocation sampler did not report '$1'" >&2
  exit 1
}
sample started
FROM=$(wc -l < "$WORK/server.log")
OUT=$(wrk -t1 -c64 -d"${LOAD_S}s" -s "$WORK/post.lua" "http://127.0.0.1:$PORT/api/v1/events")
sample written
REQUESTS=$(awk '/requests in/ {print $1}' <<< "$OUT")
tail -n +"$((FROM + 1))" "$WORK/server.log" | MODE=$MODE REQUESTS=$REQUESTS node -e '
  let allocated = 0, promoted = 0, scavenges = 0, others = 0;
  for (const line of require("fs").readFileSync(0, "utf8").split("\n")) {
    const a = / allocated=(\d+)/.exec(line);
    if (!a) continue;
    allocated += Number(a[1]);
    promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
    if (/ gc=s /.test(line)) scavenges++; else others++;
  }
  const n = Number(process.env.REQUESTS);
  console.log(`${process.env.MODE}: ${n} requests; per request allocated ${Math.round(allocated / n)} B, promoted ${Math.round(promoted / n)} B; ${scavenges} scavenges, ${others} other collections`);'

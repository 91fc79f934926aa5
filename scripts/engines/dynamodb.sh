#!/usr/bin/env bash
# A DynamoDB-compatible server for the DynamoDB adapter's tests: moto (Apache-2.0, from PyPI)
# serving its DynamoDB emulation on 127.0.0.1, tables in memory.
#
# Why not DynamoDB Local (com.amazonaws:DynamoDBLocal from Maven Central)? It is under AWS's own
# licence terms, not an open-source licence, and this project may not use it. moto implements what
# the adapter needs: transactions (up to 100 items, conditions, cancellation reasons), GSIs,
# conditional writes, TTL settings. See docs/engines.md for what differs.
#
#   scripts/engines/dynamodb.sh install    creates a virtualenv with moto in the cache (once per version); idempotent
#   scripts/engines/dynamodb.sh start      starts the server, waits until ListTables answers; idempotent
#   scripts/engines/dynamodb.sh stop       stops the server this script started; idempotent
#   scripts/engines/dynamodb.sh endpoint   prints the endpoint URL
#
# Settings (environment): TRIGGERS_DYNAMODB_PORT (18000), TRIGGERS_MOTO_VERSION (5.2.5),
# TRIGGERS_ENGINES_DIR (/tmp/triggers-engines), TRIGGERS_ENGINES_CACHE (~/.cache/triggers-engines).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VERSION="${TRIGGERS_MOTO_VERSION:-5.2.5}"
PORT="${TRIGGERS_DYNAMODB_PORT:-18000}"
CACHE="$(engine_cache "moto/$VERSION")"
engine_files dynamodb
ENDPOINT="http://127.0.0.1:$PORT"

install() {
  # The cached virtualenv is reused while its interpreter still runs moto (a removed Python breaks it).
  if [ -f "$CACHE/venv/.complete" ] && "$CACHE/venv/bin/python" -c 'import moto' >/dev/null 2>&1; then return 0; fi
  command -v python3 >/dev/null || { echo "python3 is missing (it runs moto's DynamoDB server)" >&2; exit 1; }
  echo "== installing moto[dynamodb]==$VERSION (PyPI) into $CACHE/venv"
  rm -rf "$CACHE/venv"
  mkdir -p "$CACHE"
  : >"$CACHE/venv.log"
  make_venv "$CACHE/venv" "$CACHE/venv.log"
  # The server needs Flask and flask-cors besides the DynamoDB extra (moto[server] would add every service's dependencies).
  "$CACHE/venv/bin/pip" install -q --disable-pip-version-check "moto[dynamodb]==$VERSION" "flask==3.1.3" "flask-cors==6.0.5" >"$CACHE/pip.log" 2>&1 \
    || { tail -n 40 "$CACHE/pip.log" >&2; exit 1; }
  touch "$CACHE/venv/.complete"
}

running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

# A DynamoDB ListTables request, not just an open port.
answers() {
  node -e "
    fetch('$ENDPOINT/', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
      signal: AbortSignal.timeout(2000),
    }).then(async (r) => process.exit(r.ok && 'TableNames' in (await r.json()) ? 0 : 1), () => process.exit(1));
  " >/dev/null 2>&1
}

start() {
  install
  already_answers "DynamoDB (moto)" "$ENDPOINT" && return 0
  if running; then stop; fi
  mkdir -p "$ROOT"
  start_background "$PIDFILE" "$LOG" "$CACHE/venv/bin/python" "$ENGINES_SCRIPTS/moto-dynamodb-server.py" --host 127.0.0.1 --port "$PORT"
  wait_until_answers moto "$ENDPOINT" 120 0.25 "$LOG"
  echo "== DynamoDB (moto $VERSION) started on $ENDPOINT"
}

stop() {
  stop_started "DynamoDB (moto)" "$PIDFILE"
}

engine_cli endpoint "$ENDPOINT" "$@"

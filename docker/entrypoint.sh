#!/bin/sh
# The image's command: `<role> [node options...]` starts one role of Triggers in this container.
#
#   ingest      POST /api/v1/events[/batch]
#   matcher     events queue → matching → deliveries queue (and the pending sweeper)
#   deliverer   deliveries queue → signed webhooks
#   inbox       read API, subscriptions, admin, OpenAPI (and the console with TRIGGERS_DEMO=1)
#   controller  the Subscription operator (Kubernetes custom resources → subscriptions)
#   all         every service in one process on SQLite in TRIGGERS_DATA_DIR (the embedded mode)
#
# Each role is one esbuild bundle under dist/ (docker/bundle.mjs), run by plain node: no tsx, no
# dev dependency. Settings come from TRIGGERS_* variables only (packages/core/src/config.ts). Every
# role answers /health, /ready and /metrics on PORT. PID 1 is tini (the Dockerfile's ENTRYPOINT);
# this script execs node, so signals reach the process directly.
set -eu

app_dir=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)

usage() {
  echo "usage: entrypoint.sh ingest|matcher|deliverer|inbox|controller|all [node options]" >&2
}

role="${1:-}"
case "$role" in
  ingest) entry=services/ingest/src/main.mjs ;;
  matcher) entry=services/matcher/src/main.mjs ;;
  deliverer) entry=services/deliverer/src/main.mjs ;;
  inbox) entry=services/inbox/src/main.mjs ;;
  controller) entry=services/controller/src/main.mjs ;;
  all) entry=services/all-in-one/src/main.mjs ;;
  -h | --help | help)
    usage
    exit 0
    ;;
  *)
    echo "entrypoint.sh: unknown role '$role'" >&2
    usage
    exit 64
    ;;
esac
shift

if [ ! -f "$app_dir/dist/$entry" ]; then
  echo "entrypoint.sh: $app_dir/dist/$entry is missing (the image's bundle step did not run: node docker/bundle.mjs)" >&2
  exit 70
fi

# Source maps turn stack traces back into TypeScript lines; they cost nothing until an error is printed.
exec node --enable-source-maps "$@" "$app_dir/dist/$entry"

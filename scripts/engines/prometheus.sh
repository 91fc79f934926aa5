#!/usr/bin/env bash
# Prometheus and promtool for the observability tests: Debian's `prometheus` package (it ships both).
#
#   scripts/engines/prometheus.sh install   apt-get install prometheus when prometheus or promtool is missing
#   scripts/engines/prometheus.sh bin       prints the folder holding prometheus and promtool
#   scripts/engines/prometheus.sh start     a throwaway server on 127.0.0.1 scraping every second the
#                                           targets listed in $(targets)/*.json (file_sd); idempotent
#   scripts/engines/prometheus.sh stop      stops the server this script started; idempotent
#   scripts/engines/prometheus.sh url       prints its URL
#   scripts/engines/prometheus.sh targets   prints the file_sd folder (write {"targets":["127.0.0.1:8080"]} lists there)
#
# The tests read TRIGGERS_TEST_PROMETHEUS (the prometheus binary; each test starts its own server
# on a free loopback port with a temp TSDB and stops it) and TRIGGERS_TEST_PROMTOOL (promtool).
# Settings (environment): TRIGGERS_PROMETHEUS_PORT (19090), TRIGGERS_ENGINES_DIR (/tmp/triggers-engines).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PORT="${TRIGGERS_PROMETHEUS_PORT:-19090}"
engine_files prometheus
URL="http://127.0.0.1:$PORT"

install() {
  if command -v prometheus >/dev/null && command -v promtool >/dev/null; then return 0; fi
  apt_install Prometheus prometheus
  # Debian's package may start its own service where an init system runs; the tests never use it.
}

bin() {
  local prometheus
  prometheus=$(command -v prometheus) || { echo "Prometheus is not installed (run: $0 install)" >&2; exit 1; }
  dirname "$prometheus"
}

answers() {
  curl -fsS "$URL/-/ready" >/dev/null 2>&1
}

running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

start() {
  command -v prometheus >/dev/null || { echo "Prometheus is not installed (run: $0 install)" >&2; exit 1; }
  already_answers Prometheus "127.0.0.1:$PORT" && return 0
  mkdir -p "$ROOT/data" "$ROOT/targets"
  cat >"$ROOT/prometheus.yml" <<YAML
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ['$REPO_ROOT/charts/triggers/rules/triggers.rules.yaml']
scrape_configs:
  - job_name: triggers
    file_sd_configs: [{ files: ['$ROOT/targets/*.json'], refresh_interval: 1s }]
YAML
  start_background "$PIDFILE" "$LOG" prometheus --config.file="$ROOT/prometheus.yml" --storage.tsdb.path="$ROOT/data" \
    --web.listen-address="127.0.0.1:$PORT" --storage.tsdb.retention.time=1d
  wait_until_answers Prometheus "127.0.0.1:$PORT" 100 0.2 "$LOG"
  echo "== Prometheus $(prometheus --version 2>&1 | sed -nE '1s/.*version ([^ ]+).*/\1/p') started on 127.0.0.1:$PORT"
}

stop() {
  stop_started Prometheus "$PIDFILE"
}

case "${1:-}" in
  bin) bin ;;
  targets) echo "$ROOT/targets" ;;
  *) engine_cli url "$URL" "$@" ;;
esac

#!/usr/bin/env bash
# ElasticMQ (an SQS-compatible queue server, Apache-2.0) for the SQS adapter's tests:
# org.elasticmq:elasticmq-server_2.13 and its runtime dependencies from Maven Central, run as
# `java -cp 'lib/*' org.elasticmq.server.Main` bound to 127.0.0.1, messages in memory.
#
#   scripts/engines/elasticmq.sh install    fetches the jars into the cache (once per version); idempotent
#   scripts/engines/elasticmq.sh start      starts the server, waits until ListQueues answers; idempotent
#   scripts/engines/elasticmq.sh stop       stops the server this script started; idempotent
#   scripts/engines/elasticmq.sh endpoint   prints the endpoint URL
#
# Settings (environment): TRIGGERS_ELASTICMQ_PORT (19324), TRIGGERS_ELASTICMQ_VERSION (1.7.1),
# TRIGGERS_ENGINES_DIR (/tmp/triggers-engines), TRIGGERS_ENGINES_CACHE (~/.cache/triggers-engines).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VERSION="${TRIGGERS_ELASTICMQ_VERSION:-1.7.1}"
PORT="${TRIGGERS_ELASTICMQ_PORT:-19324}"
CACHE="$(engine_cache "elasticmq/$VERSION")"
engine_files elasticmq
ENDPOINT="http://127.0.0.1:$PORT"

install() {
  maven_fetch "$CACHE" org.elasticmq.server.Main "org.elasticmq:elasticmq-server_2.13:$VERSION"
}

running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

# An SQS ListQueues request (query protocol), not just an open port.
answers() {
  node -e "
    fetch('$ENDPOINT/', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=ListQueues', signal: AbortSignal.timeout(2000) })
      .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));
  " >/dev/null 2>&1
}

start() {
  install
  already_answers ElasticMQ "$ENDPOINT" && return 0
  if running; then stop; fi
  mkdir -p "$ROOT"
  # Bind to loopback; queue URLs name the same address. Queues live in memory: a restart empties them.
  cat >"$ROOT/elasticmq.conf" <<CONF
include classpath("application.conf")
node-address { protocol = "http", host = "127.0.0.1", port = $PORT, context-path = "" }
rest-sqs { enabled = true, bind-port = $PORT, bind-hostname = "127.0.0.1", sqs-limits = strict }
generate-node-address = false
CONF
  cat >"$ROOT/logback.xml" <<XML
<configuration>
  <appender name="file" class="ch.qos.logback.core.FileAppender">
    <file>$ROOT/server.log</file>
    <encoder><pattern>%d %-5level %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="file"/></root>
  <logger name="org.elasticmq.server.Main" level="INFO"/>
</configuration>
XML
  start_background "$PIDFILE" "$LOG" java -Xms64m -Xmx512m -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dconfig.file="$ROOT/elasticmq.conf" -Dlogback.configurationFile="$ROOT/logback.xml" \
    -cp "$CACHE/lib/*" org.elasticmq.server.Main
  wait_until_answers ElasticMQ "$ENDPOINT" 120 0.5 "$LOG" "$ROOT/server.log"
  echo "== ElasticMQ $VERSION started on $ENDPOINT"
}

stop() {
  stop_started ElasticMQ "$PIDFILE"
}

engine_cli endpoint "$ENDPOINT" "$@"

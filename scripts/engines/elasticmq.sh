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

VERSION="${TRIGGERS_ELASTICMQ_VERSION:-1.7.1}"
PORT="${TRIGGERS_ELASTICMQ_PORT:-19324}"
CACHE="${TRIGGERS_ENGINES_CACHE:-$HOME/.cache/triggers-engines}/elasticmq/$VERSION"
ROOT="${TRIGGERS_ENGINES_DIR:-/tmp/triggers-engines}/elasticmq"
PIDFILE="$ROOT/elasticmq.pid"
LOG="$ROOT/elasticmq.log"
ENDPOINT="http://127.0.0.1:$PORT"

install() {
  if [ -f "$CACHE/lib/.complete" ]; then return 0; fi
  command -v java >/dev/null || { echo "java is missing (Java 17+ runs ElasticMQ)" >&2; exit 1; }
  command -v mvn >/dev/null || { echo "mvn is missing (Maven fetches the ElasticMQ jars)" >&2; exit 1; }
  echo "== fetching org.elasticmq:elasticmq-server_2.13:$VERSION and its runtime dependencies into $CACHE"
  mkdir -p "$CACHE"
  cat >"$CACHE/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.triggers</groupId>
  <artifactId>elasticmq-engine</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.elasticmq</groupId><artifactId>elasticmq-server_2.13</artifactId><version>$VERSION</version></dependency>
  </dependencies>
</project>
POM
  rm -rf "$CACHE/lib"
  (cd "$CACHE" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$CACHE/lib") >"$CACHE/mvn.log" 2>&1 \
    || { tail -n 40 "$CACHE/mvn.log" >&2; exit 1; }
  unzip -l "$CACHE/lib/elasticmq-server_2.13-$VERSION.jar" >"$CACHE/server-jar.txt"
  grep -q 'org/elasticmq/server/Main.class' "$CACHE/server-jar.txt" \
    || { echo "elasticmq-server_2.13-$VERSION.jar has no org.elasticmq.server.Main" >&2; exit 1; }
  touch "$CACHE/lib/.complete"
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
  if answers; then
    echo "== ElasticMQ already answers on $ENDPOINT"
    return 0
  fi
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
  nohup java -Xms64m -Xmx512m -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dconfig.file="$ROOT/elasticmq.conf" -Dlogback.configurationFile="$ROOT/logback.xml" \
    -cp "$CACHE/lib/*" org.elasticmq.server.Main >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 120); do
    answers && break
    running || { echo "ElasticMQ exited during start-up" >&2; tail -n 30 "$LOG" "$ROOT/server.log" >&2 || true; exit 1; }
    sleep 0.5
  done
  answers || { echo "ElasticMQ did not answer on $ENDPOINT" >&2; tail -n 30 "$LOG" "$ROOT/server.log" >&2 || true; exit 1; }
  echo "== ElasticMQ $VERSION started on $ENDPOINT"
}

stop() {
  [ -f "$PIDFILE" ] || return 0
  local pid
  pid=$(cat "$PIDFILE")
  # Only the server this script started: its pid file names it.
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    echo "== ElasticMQ stopped"
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  endpoint) echo "$ENDPOINT" ;;
  *) echo "usage: $0 install|start|stop|endpoint" >&2; exit 2 ;;
esac

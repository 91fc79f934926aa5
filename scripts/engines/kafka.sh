#!/usr/bin/env bash
# Apache Kafka for the backend tests: org.apache.kafka:kafka_2.13 and its runtime dependencies from
# Maven Central, one single-node KRaft broker (broker and controller in one JVM) on 127.0.0.1.
#
#   scripts/engines/kafka.sh install   fetches the jars into the cache (once per version); idempotent
#   scripts/engines/kafka.sh start     formats a fresh log dir, starts the broker, waits until a
#                                      metadata request answers; idempotent
#   scripts/engines/kafka.sh stop      stops the broker this script started; idempotent
#   scripts/engines/kafka.sh brokers   prints the bootstrap address
#
# Settings (environment): TRIGGERS_KAFKA_PORT (19092; the controller listens on the next port),
# TRIGGERS_KAFKA_VERSION (4.1.1), TRIGGERS_ENGINES_DIR (/tmp/triggers-engines),
# TRIGGERS_ENGINES_CACHE (~/.cache/triggers-engines). Test data only: one replica, a fresh log dir
# on every start.
set -euo pipefail

VERSION="${TRIGGERS_KAFKA_VERSION:-4.1.1}"
LOG4J_VERSION=2.24.3
PORT="${TRIGGERS_KAFKA_PORT:-19092}"
CONTROLLER_PORT=$((PORT + 1))
CACHE="${TRIGGERS_ENGINES_CACHE:-$HOME/.cache/triggers-engines}/kafka/$VERSION"
ROOT="${TRIGGERS_ENGINES_DIR:-/tmp/triggers-engines}/kafka"
PIDFILE="$ROOT/kafka.pid"
LOG="$ROOT/kafka.log"
BROKERS="127.0.0.1:$PORT"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

install() {
  if [ -f "$CACHE/lib/.complete" ]; then return 0; fi
  command -v java >/dev/null || { echo "java is missing (Java 17+ runs the Kafka broker)" >&2; exit 1; }
  command -v mvn >/dev/null || { echo "mvn is missing (Maven fetches the Kafka jars)" >&2; exit 1; }
  echo "== fetching org.apache.kafka:kafka_2.13:$VERSION and its runtime dependencies into $CACHE"
  mkdir -p "$CACHE"
  # The broker logs through SLF4J 1.7; log4j-slf4j-impl routes that to log4j2 (configured in start).
  cat >"$CACHE/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.triggers</groupId>
  <artifactId>kafka-engine</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$CACHE/lib"
  (cd "$CACHE" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$CACHE/lib") >"$CACHE/mvn.log" 2>&1 \
    || { tail -n 40 "$CACHE/mvn.log" >&2; exit 1; }
  unzip -l "$CACHE/lib/kafka_2.13-$VERSION.jar" >"$CACHE/kafka-jar.txt"
  grep -q 'kafka/Kafka.class' "$CACHE/kafka-jar.txt" \
    || { echo "kafka_2.13-$VERSION.jar has no kafka.Kafka main class" >&2; exit 1; }
  touch "$CACHE/lib/.complete"
}

# The pid file names our broker only while that pid still runs kafka.Kafka (pids get reused).
running() {
  [ -f "$PIDFILE" ] && grep -qa 'kafka.Kafka' "/proc/$(cat "$PIDFILE")/cmdline" 2>/dev/null
}

# A metadata request through kafkajs (the client the adapter uses), not just an open port; before
# `npm install` only the port can be checked.
answers() {
  if [ ! -d "$REPO_ROOT/node_modules/kafkajs" ]; then
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
    return
  fi
  (cd "$REPO_ROOT" && node --input-type=module -e "
    import kafkajs from 'kafkajs';
    const kafka = new kafkajs.Kafka({ brokers: ['$BROKERS'], logLevel: kafkajs.logLevel.NOTHING, connectionTimeout: 1000, retry: { retries: 0 } });
    const admin = kafka.admin();
    try { await admin.connect(); const { brokers } = await admin.describeCluster(); process.exitCode = brokers.length > 0 ? 0 : 1; }
    catch { process.exitCode = 1; }
    finally { await admin.disconnect().catch(() => {}); }
  ") >/dev/null 2>&1
}

start() {
  install
  if answers; then
    echo "== Kafka already answers on $BROKERS"
    return 0
  fi
  if running; then stop; fi
  rm -rf "$ROOT"
  mkdir -p "$ROOT/data"
  cat >"$ROOT/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$ROOT/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
log.index.size.max.bytes=1048576
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
EOF
  cat >"$ROOT/log4j2.properties" <<EOF
status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = $ROOT/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
EOF
  local java=(java -Xms128m -Xmx512m -XX:+UseSerialGC -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$ROOT/log4j2.properties" -cp "$CACHE/lib/*")
  # A cluster id is 16 random bytes in base64url. One that starts with "-" would be read as an
  # option, so it is passed as --cluster-id=ID.
  local cluster_id
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  "${java[@]}" kafka.tools.StorageTool format --ignore-formatted --cluster-id="$cluster_id" \
    -c "$ROOT/server.properties" >"$ROOT/format.log" 2>&1 || { cat "$ROOT/format.log" >&2; exit 1; }
  nohup "${java[@]}" kafka.Kafka "$ROOT/server.properties" >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 120); do
    answers && break
    running || { echo "Kafka exited during start-up" >&2; tail -n 30 "$LOG" "$ROOT/server.log" >&2 || true; exit 1; }
    sleep 0.5
  done
  answers || { echo "Kafka did not answer on $BROKERS" >&2; tail -n 30 "$LOG" "$ROOT/server.log" >&2 || true; exit 1; }
  echo "== Kafka $VERSION (KRaft, single node) started on $BROKERS"
}

stop() {
  [ -f "$PIDFILE" ] || return 0
  local pid
  pid=$(cat "$PIDFILE")
  # Only the broker this script started: its pid file names it.
  if running; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    echo "== Kafka stopped"
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  brokers) echo "$BROKERS" ;;
  *) echo "usage: $0 install|start|stop|brokers" >&2; exit 2 ;;
esac

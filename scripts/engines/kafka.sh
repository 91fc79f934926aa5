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
source "$(dirname "$0")/lib.sh"

VERSION="${TRIGGERS_KAFKA_VERSION:-4.1.1}"
LOG4J_VERSION=2.24.3
PORT="${TRIGGERS_KAFKA_PORT:-19092}"
CONTROLLER_PORT=$((PORT + 1))
CACHE="$(engine_cache "kafka/$VERSION")"
engine_files kafka
BROKERS="127.0.0.1:$PORT"

install() {
  # The broker logs through SLF4J 1.7; log4j-slf4j-impl routes that to log4j2 (configured in start).
  maven_fetch "$CACHE" kafka.Kafka "org.apache.kafka:kafka_2.13:$VERSION" "org.apache.logging.log4j:log4j-slf4j-impl:$LOG4J_VERSION"
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
  already_answers Kafka "$BROKERS" && return 0
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
  start_background "$PIDFILE" "$LOG" "${java[@]}" kafka.Kafka "$ROOT/server.properties"
  wait_until_answers Kafka "$BROKERS" 120 0.5 "$LOG" "$ROOT/server.log"
  echo "== Kafka $VERSION (KRaft, single node) started on $BROKERS"
}

stop() {
  stop_started Kafka "$PIDFILE"
}

engine_cli brokers "$BROKERS" "$@"

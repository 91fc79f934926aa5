# Shared by scripts/engines/{postgres,redis,kafka,elasticmq,dynamodb,prometheus,python-sdk,schemathesis,kubernetes}.sh (sourced, not run): where
# an engine keeps its files, installing it (apt or Maven Central), starting it in the background
# with a pid file, waiting until it answers, stopping only what the script started, and the CLI.
#
# A script defines `install`, `start`, `stop` and `answers` (a real request, not just an open
# port); it may define `running` (true while the process its pid file names still runs), which
# the helpers below then use to fail fast and to recognise the process as theirs.
#
# Settings (environment): TRIGGERS_ENGINES_DIR (/tmp/triggers-engines), TRIGGERS_ENGINES_CACHE
# (~/.cache/triggers-engines).

ENGINES_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$ENGINES_SCRIPTS/../.." && pwd)"

# engine_files NAME: sets ROOT, the engine's working folder (engine_files kafka →
# /tmp/triggers-engines/kafka), and in it PIDFILE (NAME.pid) and LOG (NAME.log, its output).
engine_files() {
  ROOT="${TRIGGERS_ENGINES_DIR:-/tmp/triggers-engines}/$1"
  PIDFILE="$ROOT/$1.pid"
  LOG="$ROOT/$1.log"
}

# Where downloads are kept across runs: engine_cache kafka/4.1.1 → ~/.cache/triggers-engines/kafka/4.1.1
engine_cache() {
  echo "${TRIGGERS_ENGINES_CACHE:-$HOME/.cache/triggers-engines}/$1"
}

# apt_install LABEL PACKAGE: installs a Debian package, quietly.
apt_install() {
  echo "== installing $1 (Debian package $2)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q "$2" >/dev/null
}

# make_venv VENV LOG: a fresh Python virtualenv at VENV, its output appended to LOG. Debian's
# python3 creates virtualenvs only with its python3-venv package, installed here when missing.
make_venv() {
  local venv=$1 log=$2
  if ! python3 -m venv "$venv" >>"$log" 2>&1; then
    rm -rf "$venv"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >>"$log" 2>&1 || true
    /usr/bin/python3 -m venv "$venv" >>"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  fi
}

# pip_venv VENV PURPOSE PIP_ARGS...: VENV made afresh with `pip install PIP_ARGS` in it (PyPI), its
# output in VENV.log (the last lines shown on failure). PURPOSE says what needs python3 when it is missing.
pip_venv() {
  local venv=$1 purpose=$2
  shift 2
  command -v python3 >/dev/null || { echo "python3 is missing (it runs $purpose)" >&2; exit 1; }
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  local log="$venv.log"
  : >"$log"
  make_venv "$venv" "$log"
  "$venv/bin/pip" install -q --disable-pip-version-check "$@" >>"$log" 2>&1 \
    || { tail -n 40 "$log" >&2; exit 1; }
}

# maven_fetch CACHE MAIN_CLASS GROUP:ARTIFACT:VERSION...: the artifacts and their runtime
# dependencies from Maven Central into CACHE/lib, once (CACHE/lib/.complete marks a finished
# fetch). The first artifact's jar must hold MAIN_CLASS.
maven_fetch() {
  local cache=$1 main_class=$2
  shift 2
  if [ -f "$cache/lib/.complete" ]; then return 0; fi
  local first=$1 group artifact version
  IFS=: read -r group artifact version <<<"$first"
  command -v java >/dev/null || { echo "java is missing (Java 17+ runs $artifact)" >&2; exit 1; }
  command -v mvn >/dev/null || { echo "mvn is missing (Maven fetches the $artifact jars)" >&2; exit 1; }
  echo "== fetching $first and its runtime dependencies into $cache"
  mkdir -p "$cache"
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0">'
    echo '  <modelVersion>4.0.0</modelVersion>'
    echo "  <groupId>local.triggers</groupId><artifactId>${artifact%%_*}-engine</artifactId><version>1</version><packaging>pom</packaging>"
    echo '  <dependencies>'
    local coordinate g a v
    for coordinate in "$@"; do
      IFS=: read -r g a v <<<"$coordinate"
      echo "    <dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"
    done
    echo '  </dependencies>'
    echo '</project>'
  } >"$cache/pom.xml"
  rm -rf "$cache/lib"
  (cd "$cache" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$cache/lib") >"$cache/mvn.log" 2>&1 \
    || { tail -n 40 "$cache/mvn.log" >&2; exit 1; }
  # A wrong coordinate can resolve to a jar without the server in it: check before marking done.
  unzip -l "$cache/lib/$artifact-$version.jar" >"$cache/main-jar.txt"
  grep -q "${main_class//.//}.class" "$cache/main-jar.txt" \
    || { echo "$artifact-$version.jar has no $main_class" >&2; exit 1; }
  touch "$cache/lib/.complete"
}

# already_answers NAME ADDRESS: true (and says so) when the engine answers, so `start` is idempotent.
already_answers() {
  answers || return 1
  echo "== $1 already answers on $2"
}

# pid_runs PIDFILE: the script's `running` when it has one, else whether the named pid is alive.
pid_runs() {
  if declare -F running >/dev/null; then running; else [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; fi
}

# start_background PIDFILE LOG COMMAND...: runs COMMAND detached, its output in LOG, its pid in PIDFILE.
start_background() {
  local pidfile=$1 log=$2
  shift 2
  nohup "$@" >"$log" 2>&1 &
  echo $! >"$pidfile"
}

# wait_until_answers NAME ADDRESS TRIES INTERVAL LOG...: polls `answers`; fails with the logs'
# tails when it never does or (with `running`) when the process exits first.
wait_until_answers() {
  local name=$1 address=$2 tries=$3 interval=$4
  shift 4
  for _ in $(seq 1 "$tries"); do
    answers && return 0
    if declare -F running >/dev/null && ! running; then
      echo "$name exited during start-up" >&2
      tail -n 30 "$@" >&2 || true
      exit 1
    fi
    sleep "$interval"
  done
  answers || { echo "$name did not answer on $address" >&2; tail -n 30 "$@" >&2 || true; exit 1; }
}

# stop_started NAME PIDFILE [SHUTDOWN COMMAND...]: stops the process this script started (its pid
# file names it; anything else on the port is left alone): SHUTDOWN or SIGTERM, up to 10 s, then
# SIGKILL. Idempotent.
stop_started() {
  local name=$1 pidfile=$2
  shift 2
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if pid_runs "$pidfile"; then
    if [ $# -gt 0 ]; then "$@" >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true; else kill "$pid" 2>/dev/null || true; fi
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    echo "== $name stopped"
  fi
  rm -f "$pidfile"
}

# engine_cli ADDRESS_COMMAND ADDRESS "$@": install|start|stop, or ADDRESS_COMMAND (url, brokers,
# endpoint) to print ADDRESS.
engine_cli() {
  local address_command=$1 address=$2
  shift 2
  case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    "$address_command") echo "$address" ;;
    *) echo "usage: $0 install|start|stop|$address_command" >&2; exit 2 ;;
  esac
}

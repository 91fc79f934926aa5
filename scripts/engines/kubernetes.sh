#!/usr/bin/env bash
# A real Kubernetes API server for the chart, manifest and operator tests: kube-apiserver and etcd
# built from the Go module proxy (no cluster, no container engine, nothing runs Pods), plus helm and
# the upstream CRDs of KEDA and prometheus-operator (for server-side dry-run of their objects).
#
#   scripts/engines/kubernetes.sh install     builds kube-apiserver, etcd and helm into the cache (once
#                                             per version; ~15 min cold on 2 cores); idempotent
#   scripts/engines/kubernetes.sh start       fresh PKI + etcd data dir, starts etcd and kube-apiserver,
#                                             waits for /readyz; idempotent
#   scripts/engines/kubernetes.sh stop        stops what this script started; idempotent
#   scripts/engines/kubernetes.sh restart-apiserver
#                                             restarts kube-apiserver only (same etcd, same PKI): the
#                                             operator tests use it to drop every watch
#   scripts/engines/kubernetes.sh kubeconfig  prints the kubeconfig path (a static token in system:masters)
#   scripts/engines/kubernetes.sh bin         prints the folder holding kube-apiserver, etcd and helm
#   scripts/engines/kubernetes.sh crds        prints the folder holding the third-party CRD manifests
#
# Settings (environment): TRIGGERS_KUBE_PORT (16443), TRIGGERS_ETCD_PORT (12379; peer port +1),
# TRIGGERS_ENGINES_DIR (/tmp/triggers-engines), TRIGGERS_ENGINES_CACHE (~/.cache/triggers-engines).
# Facts behind the recipe: docs/engines.md and ../shared/KUBERNETES-TEST-SERVER.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

K8S_VERSION=1.34.2
STAGING_VERSION=0.34.2
ETCD_VERSION=3.6.16
HELM_VERSION=3.22.0
KEDA_VERSION=2.18.1
PROM_OPERATOR_VERSION=0.85.0
PORT="${TRIGGERS_KUBE_PORT:-16443}"
ETCD_PORT="${TRIGGERS_ETCD_PORT:-12379}"
ETCD_PEER_PORT=$((ETCD_PORT + 1))
CACHE="$(engine_cache kubernetes)"
BIN="$CACHE/bin"
CRDS="$CACHE/crds"
ROOT="${TRIGGERS_ENGINES_DIR:-/tmp/triggers-engines}/kubernetes"
PKI="$ROOT/pki"
KUBECONFIG_FILE="$ROOT/kubeconfig"
TOKEN_FILE="$ROOT/token"
# The two main packages the builds compile (kept as Go files, not heredocs).
GO_SOURCES="$ENGINES_SCRIPTS/kubernetes"

log() { echo "== $*"; }

build_etcd() {
  [ -x "$BIN/etcd" ] && return 0
  log "building etcd v$ETCD_VERSION (Go module proxy)"
  local dir="$CACHE/src/etcd"
  rm -rf "$dir"; mkdir -p "$dir"
  cp "$GO_SOURCES/etcd-main.go" "$dir/main.go"
  (cd "$dir" && go mod init local/etcd >/dev/null 2>&1 && go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >/dev/null 2>&1 \
    && go mod tidy >/dev/null 2>&1 && go build -ldflags "-s -w" -o "$BIN/etcd" .) >"$CACHE/etcd-build.log" 2>&1 \
    || { tail -n 40 "$CACHE/etcd-build.log" >&2; exit 1; }
}

build_apiserver() {
  [ -x "$BIN/kube-apiserver" ] && return 0
  log "building kube-apiserver v$K8S_VERSION (Go module proxy; ~8 min cold)"
  local dir="$CACHE/src/kube-apiserver"
  rm -rf "$dir"; mkdir -p "$dir"
  # k8s.io/kubernetes replaces its staging modules with ./staging paths; map each to its published version.
  local modfile
  modfile=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module local/kube-apiserver"
    echo
    echo "go 1.24.0"
    echo
    echo "godebug default=go1.24"
    echo
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo
    grep -E '^\s*k8s.io/[a-z0-9-]+ => ./staging/' "$modfile" | awk -v v="v$STAGING_VERSION" '{print "replace " $1 " => " $1 " " v}'
  } >"$dir/go.mod"
  cp "$GO_SOURCES/apiserver-main.go" "$dir/main.go"
  local major=${K8S_VERSION%%.*} rest=${K8S_VERSION#*.}
  local minor=${rest%%.*}
  local x=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x="$x -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  (cd "$dir" && go mod tidy && go build -ldflags "-s -w $x" -o "$BIN/kube-apiserver" .) >"$CACHE/apiserver-build.log" 2>&1 \
    || { tail -n 40 "$CACHE/apiserver-build.log" >&2; exit 1; }
}

build_helm() {
  [ -x "$BIN/helm" ] && return 0
  log "building helm v$HELM_VERSION (Go module proxy; ~4.5 min cold)"
  (GOBIN="$BIN" go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION") >"$CACHE/helm-build.log" 2>&1 \
    || { tail -n 40 "$CACHE/helm-build.log" >&2; exit 1; }
}

# KEDA's and prometheus-operator's CRDs, so ScaledObject, TriggerAuthentication, ServiceMonitor and
# PrometheusRule objects are validated by the real API server too.
fetch_crds() {
  [ -f "$CRDS/.complete" ] && return 0
  log "fetching KEDA v$KEDA_VERSION and prometheus-operator v$PROM_OPERATOR_VERSION CRDs (Go module proxy)"
  mkdir -p "$CRDS"
  local keda prom
  keda=$(cd /tmp && go mod download -json "github.com/kedacore/keda/v2@v$KEDA_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  prom=$(cd /tmp && go mod download -json "github.com/prometheus-operator/prometheus-operator@v$PROM_OPERATOR_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  cp "$keda/config/crd/bases/keda.sh_scaledobjects.yaml" "$keda/config/crd/bases/keda.sh_triggerauthentications.yaml" "$CRDS/"
  cp "$prom/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
     "$prom/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml" "$CRDS/"
  touch "$CRDS/.complete"
}

install() {
  command -v go >/dev/null || { echo "go is missing (the Go toolchain builds kube-apiserver, etcd and helm)" >&2; exit 1; }
  command -v openssl >/dev/null || { echo "openssl is missing (it makes the test PKI)" >&2; exit 1; }
  mkdir -p "$BIN"
  build_etcd
  build_helm
  build_apiserver
  fetch_crds
  # The tests apply manifests with kubectl (Debian's package; 1.32 works against this 1.34 server).
  command -v kubectl >/dev/null || apt_install kubectl kubectl
}

pid_running() { # pidfile name
  [ -f "$1" ] && grep -qa "$2" "/proc/$(cat "$1")/cmdline" 2>/dev/null
}

ready() {
  [ -f "$TOKEN_FILE" ] || return 1
  [ "$(curl -sk --max-time 2 -H "Authorization: Bearer $(cat "$TOKEN_FILE")" "https://127.0.0.1:$PORT/readyz" 2>/dev/null)" = ok ]
}

make_pki() {
  rm -rf "$PKI"; mkdir -p "$PKI"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=triggers-test-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' >san.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 2 -extfile san.ext 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
  openssl rand -hex 24 >"$TOKEN_FILE"
  printf '%s,triggers-test-admin,triggers-test-admin,"system:masters"\n' "$(cat "$TOKEN_FILE")" >"$PKI/tokens.csv"
  cat >"$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: triggers-test
  cluster:
    server: https://127.0.0.1:$PORT
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: triggers-test-admin
  user:
    token: $(cat "$TOKEN_FILE")
contexts:
- name: triggers-test
  context: {cluster: triggers-test, user: triggers-test-admin, namespace: default}
current-context: triggers-test
EOF
}

start_apiserver() {
  start_background "$ROOT/apiserver.pid" "$ROOT/apiserver.log" "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$PORT" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" --token-auth-file "$PKI/tokens.csv" \
    --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range 10.0.0.0/24 \
    --endpoint-reconciler-type none \
    --disable-admission-plugins ServiceAccount
  for _ in $(seq 1 300); do ready && return 0; sleep 0.2; done
  echo "kube-apiserver did not become ready on 127.0.0.1:$PORT" >&2
  tail -n 40 "$ROOT/apiserver.log" >&2
  exit 1
}

start() {
  if ready && pid_running "$ROOT/apiserver.pid" kube-apiserver; then
    log "kube-apiserver already ready on 127.0.0.1:$PORT"
    return 0
  fi
  stop >/dev/null
  [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/etcd" ] || { echo "not built (run: $0 install)" >&2; exit 1; }
  rm -rf "$ROOT"; mkdir -p "$ROOT"
  make_pki
  # etcd reads every ETCD_* variable as a flag: start it with none set.
  start_background "$ROOT/etcd.pid" "$ROOT/etcd.log" env $(env | sed -n 's/^\(ETCD_[A-Za-z0-9_]*\)=.*/-u \1/p') "$BIN/etcd" --name triggers-test --data-dir "$ROOT/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "triggers-test=http://127.0.0.1:$ETCD_PEER_PORT" \
    --listen-metrics-urls "" --log-level warn
  for _ in $(seq 1 100); do curl -s --max-time 1 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"' && break; sleep 0.1; done
  start_apiserver
  log "kube-apiserver v$K8S_VERSION ready on https://127.0.0.1:$PORT (kubeconfig: $KUBECONFIG_FILE)"
}

stop_one() { # pidfile name
  if pid_running "$1" "$2"; then
    local pid; pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

stop() {
  stop_one "$ROOT/apiserver.pid" kube-apiserver
  stop_one "$ROOT/etcd.pid" etcd
  log "kube-apiserver and etcd stopped"
}

restart_apiserver() {
  stop_one "$ROOT/apiserver.pid" kube-apiserver
  start_apiserver
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  restart-apiserver) restart_apiserver ;;
  kubeconfig) echo "$KUBECONFIG_FILE" ;;
  bin) echo "$BIN" ;;
  crds) echo "$CRDS" ;;
  *) echo "usage: $0 install|start|stop|restart-apiserver|kubeconfig|bin|crds" >&2; exit 2 ;;
esac

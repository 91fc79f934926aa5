#!/usr/bin/env bash
# A virtualenv with Schemathesis (pinned, from PyPI): it fuzzes the all-in-one through its
# /openapi.json (services/all-in-one/src/schemathesis.test.ts runs it; the run's settings and every
# justified exclusion are in services/all-in-one/schemathesis/schemathesis.toml). Debian's python3 is
# externally managed (PEP 668), so nothing is installed into it.
#
#   scripts/engines/schemathesis.sh install   creates the virtualenv (again when the pin changes); idempotent
#   scripts/engines/schemathesis.sh bin       prints the `st` command (the test reads it from TRIGGERS_TEST_SCHEMATHESIS)
#
# Settings (environment): TRIGGERS_ENGINES_CACHE (~/.cache/triggers-engines).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VERSION=4.32.5
VENV="$(engine_cache "schemathesis-$VERSION-venv")"
ST="$VENV/bin/st"

install() {
  # Reused while its interpreter still runs the pinned version.
  if [ -f "$VENV/.complete" ] && "$ST" --version 2>/dev/null | grep -q "$VERSION"; then
    return 0
  fi
  echo "== installing schemathesis==$VERSION (PyPI) into $VENV"
  pip_venv "$VENV" "Schemathesis" "schemathesis==$VERSION"
  touch "$VENV/.complete"
  echo "== $("$ST" --version 2>&1 | head -n 1) in $VENV"
}

case "${1:-}" in
  install) install ;;
  bin)
    [ -x "$ST" ] || { echo "no virtualenv at $VENV (run: $0 install)" >&2; exit 1; }
    echo "$ST"
    ;;
  *) echo "usage: $0 install|bin" >&2; exit 2 ;;
esac

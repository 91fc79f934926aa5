#!/usr/bin/env bash
# A virtualenv for the Python SDK's tests (sdks/python): the SDK installed editable with its
# pinned test extras (httpx, pytest, pytest-asyncio, mypy) from PyPI. Debian's python3 is
# externally managed (PEP 668), so nothing is installed into it.
#
#   scripts/engines/python-sdk.sh install   creates the virtualenv (again when sdks/python/pyproject.toml changed); idempotent
#   scripts/engines/python-sdk.sh python    prints the virtualenv's python (the tests read it from TRIGGERS_TEST_PYTHON)
#
# Settings (environment): TRIGGERS_ENGINES_CACHE (~/.cache/triggers-engines).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VENV="$(engine_cache python-sdk-venv)"
PROJECT="$REPO_ROOT/sdks/python"
PYTHON="$VENV/bin/python"

# What the virtualenv was made from: the project file's hash and the folder (an editable install points at it).
fingerprint() {
  echo "$(sha256sum "$PROJECT/pyproject.toml" | cut -d' ' -f1) $PROJECT"
}

install() {
  # Reused while it was made from this pyproject.toml and checkout, and its interpreter still imports everything.
  if [ "$(cat "$VENV/.complete" 2>/dev/null)" = "$(fingerprint)" ] \
    && "$PYTHON" -c 'import triggers, httpx, pytest, pytest_asyncio' >/dev/null 2>&1; then
    return 0
  fi
  echo "== installing sdks/python[test] (PyPI) into $VENV"
  pip_venv "$VENV" "the Python SDK's tests" -e "$PROJECT[test]"
  fingerprint >"$VENV/.complete"
  echo "== $("$PYTHON" --version) with $("$PYTHON" -m pytest --version 2>&1 | head -n 1) in $VENV"
}

case "${1:-}" in
  install) install ;;
  python)
    [ -x "$PYTHON" ] || { echo "no virtualenv at $VENV (run: $0 install)" >&2; exit 1; }
    echo "$PYTHON"
    ;;
  *) echo "usage: $0 install|python" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The tests on a fresh machine: Debian's chromium, the set-up of the README (./scripts/setup.sh: a virtual environment
# from the system Python, this package with JupyterLab, the JupyterLab extension built with npm) plus the test
# extras; then the linters, the extension's unit tests and the whole test suite, in that environment.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && apt-get install -y -q chromium
  else
    echo "The browser tests need Debian's chromium: sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi
VENV="${VENV:-.venv}"
EXTRAS=test VENV="$VENV" ./scripts/setup.sh --no-demo
PY="$VENV/bin/python"
test -f wave_jupyter/labextension/package.json || { echo "the JupyterLab extension was not built (npm?)" >&2; exit 1; }
"$PY" -m ruff check .
# npm ci only when a lock file changed since the last one (its hash is kept in node_modules).
npm_ci() {
  local want
  want=$(sha256sum "$1/package-lock.json" | cut -d' ' -f1)
  [ "$(cat "$1/node_modules/.wave_jupyter-lock" 2>/dev/null)" = "$want" ] && return 0
  (cd "$1" && npm ci --no-audit --no-fund --loglevel=error) && echo "$want" >"$1/node_modules/.wave_jupyter-lock"
}
npm_ci labextension
(cd labextension && npm test)
# The VS Code test host (tests/test_frontends.py): VS Code's widget renderer from npm, bundled into tests/vscode_host/build.
npm_ci tests/vscode_host
(cd tests/vscode_host && npm run build)
"$PY" -m pytest -q "$@"

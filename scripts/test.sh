#!/usr/bin/env bash
# Install what the tests need on a fresh machine (Debian's chromium, this package with its test extras, which builds
# the JupyterLab extension with npm), then run the linters, the extension's unit tests and the whole test suite.
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
python3 -m pip install -q --root-user-action=ignore -e '.[test]'
test -f wave_jupyter/labextension/package.json || { echo "the JupyterLab extension was not built (npm?)" >&2; exit 1; }
python3 -m ruff check .
(cd labextension && npm ci --no-audit --no-fund --loglevel=error && npm test)
python3 -m pytest -q "$@"

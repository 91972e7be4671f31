#!/usr/bin/env bash
# Set-up on a stock machine: a virtual environment (.venv, or $VENV) made from the system Python, with this package and
# JupyterLab installed (pip builds the JupyterLab extension with npm); then the demo app runs until Ctrl-C.
#
#   ./scripts/setup.sh             install, then serve the demo app (it prints its URL)
#   ./scripts/setup.sh --no-demo   install only
#   EXTRAS=test ./scripts/setup.sh --no-demo   with more extras (what ./scripts/test.sh does)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
EXTRAS="lab${EXTRAS:+,$EXTRAS}"

if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -m venv "$VENV" 2>/tmp/wave_jupyter_venv.err; then
    rm -rf "$VENV"
    # Debian and Ubuntu ship python3 without ensurepip until python3-venv is installed.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -q && apt-get install -y -q python3-venv
      "$PYTHON" -m venv "$VENV"
    else
      cat /tmp/wave_jupyter_venv.err >&2
      echo "Could not make a virtual environment: install python3-venv (sudo apt-get install -y python3-venv)." >&2
      exit 1
    fi
  fi
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[$EXTRAS]"
echo "wave_jupyter is installed in $VENV. Notebooks: $VENV/bin/jupyter lab notebooks/"
if [ "${1:-}" != "--no-demo" ]; then
  echo "The demo app (Ctrl-C stops it):"
  exec "$VENV/bin/python" examples/greet.py
fi

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

# Each step says what it does and how long it took; pip's and npm's chatter goes to a log, shown if a step fails.
LOG=$(mktemp "${TMPDIR:-/tmp}/wave_jupyter-setup.XXXXXX")
step() {
  local what="$1" t0=$SECONDS
  shift
  printf '%s ... ' "$what"
  if "$@" >>"$LOG" 2>&1; then
    echo "$(( SECONDS - t0 )) s"
  else
    echo "failed after $(( SECONDS - t0 )) s; the end of $LOG:"
    tail -40 "$LOG" >&2
    exit 1
  fi
}
make_venv() {
  "$PYTHON" -m venv "$VENV" && return 0
  rm -rf "$VENV"
  # Debian and Ubuntu ship python3 without ensurepip until python3-venv is installed.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -q && apt-get install -y -q python3-venv && "$PYTHON" -m venv "$VENV"
  else
    echo "Could not make a virtual environment: install python3-venv (sudo apt-get install -y python3-venv)."
    return 1
  fi
}
# What the install depends on: when none of it changed since the last install, the install is skipped.
inputs() {
  { echo "$EXTRAS"; cat pyproject.toml labextension/package.json labextension/package-lock.json \
      labextension/build-web.mjs; find labextension/src labextension/style labextension/schema -type f | sort | xargs cat
  } | sha256sum | cut -d' ' -f1
}


echo "Setting up wave_jupyter in $VENV (details in $LOG)"
[ -x "$VENV/bin/python" ] || step "a virtual environment from $($PYTHON --version 2>&1)" make_venv
STAMP="$VENV/.wave_jupyter-installed"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(inputs)" ] && [ -f wave_jupyter/labextension/package.json ]; then
  echo "wave_jupyter[$EXTRAS]: up to date"
else
  step "pip itself" "$VENV/bin/python" -m pip install --upgrade pip
  step "wave_jupyter[$EXTRAS] and its dependencies; the JupyterLab extension built with npm (a few minutes the first time)" \
    "$VENV/bin/python" -m pip install -e ".[$EXTRAS]"
  inputs >"$STAMP"
fi
# The teaching notebooks are committed without outputs; running them in JupyterLab must not dirty the tree.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git config filter.notebook-outputs.clean 'python3 scripts/strip_notebook.py'
  git config filter.notebook-outputs.smudge cat
fi
echo "wave_jupyter is installed in $VENV. Notebooks: $VENV/bin/jupyter lab notebooks/ (as root: add --allow-root)"
if [ "${1:-}" != "--no-demo" ]; then
  echo "The demo app (Ctrl-C stops it):"
  exec "$VENV/bin/python" examples/greet.py
fi

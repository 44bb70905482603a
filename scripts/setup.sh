#!/usr/bin/env bash
# Shared set-up for scripts/run and scripts/test: a virtualenv in .venv with the
# pinned requirements, reinstalled only when requirements.txt changes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${NEUROSCAN_PYTHON:-python3}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' 2>/dev/null; then
  echo "NeuroScan needs Python 3.11 or newer as '$PYTHON' (set NEUROSCAN_PYTHON to choose another)." >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating the virtualenv in $VENV ..."
  "$PYTHON" -m venv "$VENV" || {
    echo "Could not create a virtualenv. On Debian/Ubuntu: sudo apt-get install python3-venv" >&2
    exit 1
  }
fi

stamp="$VENV/.requirements.sha256"
wanted="$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  echo "Installing the pinned requirements (the first time takes a few minutes) ..."
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -r "$ROOT/requirements.txt"
  echo "$wanted" > "$stamp"
fi

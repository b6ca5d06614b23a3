#!/usr/bin/env bash
# The Python reference path for bench-embed: a small venv with the LiteRT interpreter (no tensorflow).
set -euo pipefail
CACHE="${SYRINX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/syrinx}"
venv="$CACHE/venv-litert"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import ai_edge_litert, numpy" 2>/dev/null; then
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "ai-edge-litert==2.3.0" "numpy==2.4.6" >&2
fi
echo "$venv/bin/python"

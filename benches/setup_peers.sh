#!/usr/bin/env bash
# Idempotently create the Python venv used by benches/peers_index.py (hnswlib, faiss-cpu, usearch, numpy).
# Location: ~/.cache/syrinx/venv-bench (never inside the repo).
set -euo pipefail
VENV="${SYRINX_BENCH_VENV:-$HOME/.cache/syrinx/venv-bench}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import numpy, hnswlib, faiss, usearch' 2>/dev/null; then
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet numpy hnswlib faiss-cpu usearch
fi
"$VENV/bin/python" -c 'import numpy, hnswlib, faiss, usearch; print("peers ok: numpy", numpy.__version__, "faiss", faiss.__version__, "usearch", usearch.__version__)'

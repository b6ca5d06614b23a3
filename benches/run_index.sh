#!/usr/bin/env bash
# One command for the whole index benchmark:
#   bash benches/run_index.sh                # 100k generated (+ real embeddings if present)
#   N=1000000 bash benches/run_index.sh      # 1M (optional; ~1 h on 2 cores; never in CI)
#   PEERS=0 ...                              # skip hnswlib/faiss/usearch
#   PEER_LIBS=hnswlib,faiss                  # which peers (default: all, usearch in four precisions)
#   GENERATORS="recordings mixture"          # which generated sets (default both at 100k, recordings at 1M)
#   REUSE=1                                  # keep an existing syrinx index and the peers' saved indexes
#                                            # (under $CACHE/peer-indexes) instead of rebuilding them
#   MIN_TIME=0.5                             # each ef point repeats its pass over the queries until this
#                                            # many seconds (syrinx and peers alike) and keeps the median
#                                            # pass (default 0.5; one pass of 500 queries on the real set
#                                            # lasts 10-25 ms, too short to time on a shared machine)
#   ROUNDS=3                                 # repeat the search sweeps, syrinx and peers alternately, and
#                                            # keep every round's JSON (a shared machine drifts by 10-20%)
# Builds bench-index (release), generates data and caches ground truth under ~/.cache/syrinx/bench,
# runs syrinx-index and the peers on the same files, prints one combined table, and writes
# docs/benchmarks-index.md (+ docs/img/index_recall_qps_<label>.png).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
N="${N:-100000}"
NQ="${NQ:-1000}"
THREADS="${THREADS:-2}"
PEERS="${PEERS:-1}"
REUSE="${REUSE:-0}"
ROUNDS="${ROUNDS:-1}"
MIN_TIME="${MIN_TIME:-0.5}"
CACHE="${SYRINX_BENCH_DIR:-$HOME/.cache/syrinx/bench}"
REAL="${SYRINX_REAL_EMBEDDINGS:-$HOME/.cache/syrinx/data/birdaudio_windows_hop1.npy}"
# The generator's calibration reference (3 s hop: no overlapping windows); made by `bench-embed dump --hop 3`.
REAL3="${SYRINX_REAL_EMBEDDINGS_HOP3:-$HOME/.cache/syrinx/data/birdaudio_windows_hop3.npy}"
VENV="${SYRINX_BENCH_VENV:-$HOME/.cache/syrinx/venv-bench}"
if [ "$N" -ge 1000000 ]; then LABEL="$((N / 1000000))M"; else LABEL="$((N / 1000))k"; fi
OUT="$CACHE/results-$LABEL"
mkdir -p "$CACHE" "$OUT" docs/img
export RAYON_NUM_THREADS="$THREADS"

cargo build --release -p syrinx-benches --bin bench-index
B="$ROOT/target/release/bench-index"
[ "$PEERS" = 1 ] && bash benches/setup_peers.sh
PY="$VENV/bin/python"

run_dataset() { # name base queries
  local name="$1" base="$2" queries="$3"
  local gt="$CACHE/gt-$name-cosine-k10.npy" idx="$CACHE/idx-$name"
  "$B" gt --base "$base" --queries "$queries" --metric cosine --k 10 --out "$gt"
  # Bulk build of all but the last 1000 rows, then one incremental batch of 1000.
  if [ "$REUSE" = 1 ] && [ -f "$idx/MANIFEST.json" ]; then
    echo "REUSE=1: keeping $idx"
  else
    "$B" build --base "$base" --index-dir "$idx" --metric cosine --m 16 --efc 200 --incremental 1000
  fi
  local peer_cache=()
  [ "$REUSE" = 1 ] && peer_cache=(--index-cache "$CACHE/peer-indexes")
  local r sfx
  # One syrinx sweep on this dataset: sweep VARIANT ARGS... writes ours-VARIANT-<name>.json<sfx>.
  sweep() {
    local variant="$1"; shift
    "$B" search --index-dir "$idx" --queries "$queries" --gt "$gt" --dataset "$name" "$@" \
      --min-time "$MIN_TIME" --json "$OUT/ours-$variant-$name.json$sfx"
  }
  for r in $(seq 1 "$ROUNDS"); do
    # Round 1 writes the JSON the report reads; later rounds keep theirs beside it (-rN).
    sfx=""; [ "$r" -gt 1 ] && sfx="-r$r"
    [ "$ROUNDS" -gt 1 ] && echo "== round $r of $ROUNDS ($name)"
    # ef below k = 10 is allowed on this walk (its rerank draws on every node it re-scored).
    sweep refined --traversal refined --ef 4,5,6,8,10,12,16,24,32,48,64,96,128,192
    # The same walk with an exact distance for every hit (the default keeps the extended-code
    # estimate of hits their error bounds place; see syrinx_index::Rerank).
    sweep refined-exact --traversal refined --rerank exact --ef 4,5,6,8,10,12,16
    # Same index, re-scoring from the float file instead of the extended codes (the tier's A/B).
    sweep refined-vectors --traversal refined --rescore vectors --ef 10,16,24,32,48,64,96,128,192
    sweep estimated --traversal estimated --ef 32,48,64,128,192,256,384,512
    # The refined walk with half the 1-bit error bound: its curve at recall 0.93-0.99.
    sweep refined-b05 --traversal refined --bound-scale 0.5 --ef 6,7,8,10,12,16,24,32
    if [ "$PEERS" = 1 ]; then
      "$PY" benches/peers_index.py run --base "$base" --queries "$queries" --gt "$gt" --dataset "$name" \
        --threads "$THREADS" --min-time "$MIN_TIME" ${PEER_LIBS:+--libs "$PEER_LIBS"} "${peer_cache[@]}" --json "$OUT/peers-$name.json$sfx"
    fi
  done
}

# Generated sets (syrinx_index::synth): "recordings" (windows of recordings of species, calibrated on
# the corpus' neighbourhoods; queries are new windows of base recordings) and "mixture" (the first
# generator: independent draws, locally far harder than real embeddings; a stress set).
if [ "$N" -ge 1000000 ]; then GENERATORS="${GENERATORS:-recordings}"; else GENERATORS="${GENERATORS:-recordings mixture}"; fi
STATS_FILES=()
DATASETS=()
for G in $GENERATORS; do
  BASE="$CACHE/$G-$LABEL.npy"
  QUERIES="$CACHE/$G-$LABEL-q$NQ.npy"
  "$B" gen --generator "$G" --n "$N" --queries "$NQ" --base-out "$BASE" --query-out "$QUERIES"
  STATS_FILES+=("$BASE")
  DATASETS+=("$G-$LABEL")
  run_dataset "$G-$LABEL" "$BASE" "$QUERIES"
done
PLOT="${DATASETS[0]}"

if [ -f "$REAL" ]; then
  "$B" split-real --input "$REAL" --queries 500 --base-out "$CACHE/real-base.npy" --query-out "$CACHE/real-queries.npy"
  STATS_FILES=("$REAL" "${STATS_FILES[@]}")
  run_dataset "real-birdnet" "$CACHE/real-base.npy" "$CACHE/real-queries.npy"
else
  echo "NOTE: real BirdNET embeddings not found at $REAL: real-data rows SKIPPED"
fi

[ -f "$REAL3" ] && STATS_FILES=("$REAL3" "${STATS_FILES[@]}")
STATS="(not computed in this run: the statistics come from the peers' Python venv, which PEERS=0 does not set up)"
if [ -x "$PY" ]; then
  STATS="$("$PY" benches/peers_index.py stats "${STATS_FILES[@]}")"
fi
# The SIMD level decides which kernels run (e.g. the 1-bit estimate: VPOPCNTDQ or AVX2): say it.
SIMD="$(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'avx2|avx512f|avx512_vpopcntdq|avx512_vnni' | sort -u | xargs)"
CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs) ($(nproc) vCPU; ${SIMD:-no AVX2})"
PRE="## Index benchmark ($LABEL, generated by \`bash benches/run_index.sh\`)

Machine: $CPU, $(date -u +%Y-%m-%d). Cosine, k = 10, $NQ queries one at a time on ONE thread,
recall@10 against exact search (same metric); builds on $THREADS threads. syrinx-index: HNSW M=16,
efC=200 over RaBitQ 1-bit codes in RAM, 4-bit extended RaBitQ codes (ex4) and float32 vectors
memory-mapped; *refined* = walk on 1-bit estimates, re-scoring promising nodes with the extended codes
(default; rows without +ex4 re-score from the float file instead, same index), exact rerank of the
final candidates; *estimated* = walk on estimates, rerank the ef best by error bound.
Index memory: syrinx = resident bytes reported by the index (codes + graph + tombstones + visited
lists; the mapped files are not counted: their pages show in the peak RSS), hnswlib = its per-element formula, faiss = serialised
size, usearch = memory_usage. Peak RSS: VmHWM of the search process (peers: the Python process,
which also holds the base set). Real-data rows: $( [ -f "$REAL" ] && echo "included" || echo "SKIPPED (no $REAL)" ).

Data statistics (real BirdNET embeddings vs the seeded generators in \`syrinx_index::synth\`; the
neighbourhood rows compare equal sample sizes, whole recordings where the recording of each row is known):

$STATS
"
MD="docs/benchmarks-index.md"
[ "$LABEL" != "100k" ] && MD="docs/benchmarks-index-$LABEL.md"
"$B" report --json "$OUT"/*.json --md "$MD" \
  --png "docs/img/index_recall_qps_$LABEL.png" --plot-dataset "$PLOT" --preamble "$PRE"
# Equal-recall ratios per round (syrinx / each peer), from the JSON files just written.
if [ "$PEERS" = 1 ]; then
  for d in "${DATASETS[@]}"; do "$PY" benches/peers_index.py ratios --dir "$OUT" --dataset "$d"; done
fi

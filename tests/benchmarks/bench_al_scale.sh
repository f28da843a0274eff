#!/usr/bin/env bash
# Issue 15's scale check: one `al query` over a 1,000,000-row pool (Fashion-MNIST tiled,
# make_tiled_pool.py) with 100 labelled rows, reporting wall time and peak resident memory
# (/usr/bin/time -v) for entropy over every row, entropy over a 100000-row random candidate subset,
# coreset over 20000 candidates, and entropy over the 100000 rows nearest the labelled ones (SEALS). The pool is 3.1 GB on disk; peak memory must stay far below it.
#
# Usage: bash tests/benchmarks/bench_al_scale.sh [BUILD_DIR] [SCRATCH_DIR] [SOURCE_STORE]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
SCRATCH=${2:-/tmp/al-scale}
SOURCE=${3:-}
PY=/usr/bin/python3
SUBSET="$BUILD/tools/subset --threads 2"
mkdir -p "$SCRATCH"
if [ -z "$SOURCE" ]; then
  SOURCE=$SCRATCH/fm.h5
  [ -f "$SOURCE" ] || $SUBSET import fashion-mnist -o "$SOURCE" --quiet
fi
POOL=$SCRATCH/pool1m.h5
[ -f "$POOL" ] || $PY tests/benchmarks/make_tiled_pool.py "$SOURCE" "$POOL" --rows 1000000
echo "# date: $(date -u +%F), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
$SUBSET --quiet al init "$POOL" -o "$SCRATCH/p.al" --force
# 100 labelled rows, 10 per class, answered from the pool's labels (unsolicited: no query proposed them).
$PY - "$POOL" "$SCRATCH/answers.csv" <<'PYEOF'
import sys, h5py, numpy as np
y = h5py.File(sys.argv[1], "r")["labels"][:60000]
rows = np.concatenate([np.flatnonzero(y == c)[:10] for c in range(10)])
open(sys.argv[2], "w").write("row,label\n" + "".join(f"{r},{y[r]}\n" for r in sorted(rows)))
PYEOF
$SUBSET --quiet al label "$SCRATCH/p.al" --answers "$SCRATCH/answers.csv" --unsolicited
run() {
  local name=$1; shift
  /usr/bin/time -f "$name wall_s=%e peak_rss_mb=%M" -o "$SCRATCH/time.txt" \
      $SUBSET --quiet al query "$SCRATCH/p.al" --batch 100 "$@" -o "$SCRATCH/$name.csv" --force > "$SCRATCH/$name.out"
  awk '{ printf "%s %s peak_rss_mb=%.0f\n", $1, $2, substr($3, 13) / 1024 }' "$SCRATCH/time.txt"
  grep -iE "candidates|scored|train|scor|select" "$SCRATCH/$name.out" | head -4 | sed 's/^/    /'
}
run entropy-all --strategy entropy
run entropy-100k --strategy entropy --candidates 100000
run coreset-20k --strategy coreset --candidates 20000
run entropy-neighbours-100k --strategy entropy --candidates 100000 --candidates-by neighbours
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

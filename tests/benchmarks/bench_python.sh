#!/usr/bin/env bash
# The Python package's overhead over the CLI (issue 17): the same selection on Fashion-MNIST
#   1. `subset select STORE ...`                 (a process: start-up, read the store, select, write)
#   2. libsubset.select("STORE", ...)            (the same work from Python, in a process of its own)
#   3. libsubset.select(X, y, ...) on the array  (X read with h5py first: 188 MB; no copy is made)
# Each in a fresh process, alternating, RUNS times; medians of wall seconds, of the method's own
# seconds (the selection's stats), and of peak RSS. Usage: bash tests/benchmarks/bench_python.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
SUBSET=$BUILD/tools/subset
PY=/usr/bin/python3
RUNS=${RUNS:-5}
export PYTHONPATH=$BUILD/python OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
SCRATCH=$(mktemp -d /var/tmp/subset-bench-py-XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
STORE=$SCRATCH/fm.h5
"$SUBSET" import fashion-mnist -o "$STORE" >/dev/null

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# date: $(date -u +%F), libsubset $($SUBSET --version), load $(cut -d' ' -f1-3 /proc/loadavg)"

# Prints "wall_seconds method_seconds peak_rss_kb" for one run of each way.
cli_run() {
  /usr/bin/time -f "%e %M" -o "$SCRATCH/time.txt" "$SUBSET" select "$STORE" "$@" -o "$SCRATCH/cli.sel.h5" --force >/dev/null
  local method_s
  method_s=$($PY -c "import h5py, json, sys; print(json.loads(h5py.File(sys.argv[1], 'r').attrs['stats'])['seconds'])" "$SCRATCH/cli.sel.h5")
  read -r wall rss < "$SCRATCH/time.txt"
  echo "$wall $method_s $rss"
}
py_run() {  # $1: store|array, then the method arguments as Python keywords
  $PY - "$STORE" "$1" "$2" <<'PY'
import resource, sys, time
import h5py, numpy as np
import libsubset
store, how, keywords = sys.argv[1], sys.argv[2], eval("dict(" + sys.argv[3] + ")")
if how == "array":
    with h5py.File(store, "r") as f:
        X, y = f["/features"][...], f["/labels"][...]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    sel = libsubset.select(X, y, progress=False, **keywords)
else:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    sel = libsubset.select(store, progress=False, **keywords)
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(wall, sel.stats["seconds"], peak, before)
PY
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
col() { cut -d' ' -f"$1" "$2" | median; }

bench() {  # $1 label, $2 CLI arguments, $3 Python keywords
  : > "$SCRATCH/cli"; : > "$SCRATCH/store"; : > "$SCRATCH/array"
  for _ in $(seq "$RUNS"); do
    # shellcheck disable=SC2086
    cli_run $2 >> "$SCRATCH/cli"
    py_run store "$3" >> "$SCRATCH/store"
    py_run array "$3" >> "$SCRATCH/array"
  done
  echo
  echo "## $1 ($RUNS runs each, medians)"
  printf '%-40s %9s %10s %12s\n' "" "wall s" "method s" "peak RSS MB"
  printf '%-40s %9.3f %10.3f %12d\n' "subset select (process)" "$(col 1 "$SCRATCH/cli")" "$(col 2 "$SCRATCH/cli")" $(( $(col 3 "$SCRATCH/cli" | cut -d. -f1) / 1024 ))
  printf '%-40s %9.3f %10.3f %12d\n' "libsubset.select(store path) (call)" "$(col 1 "$SCRATCH/store")" "$(col 2 "$SCRATCH/store")" $(( $(col 3 "$SCRATCH/store" | cut -d. -f1) / 1024 ))
  printf '%-40s %9.3f %10.3f %12d   (RSS before the call: %d MB)\n' "libsubset.select(X, y) (call)" "$(col 1 "$SCRATCH/array")" "$(col 2 "$SCRATCH/array")" \
    $(( $(col 3 "$SCRATCH/array" | cut -d. -f1) / 1024 )) $(( $(col 4 "$SCRATCH/array" | cut -d. -f1) / 1024 ))
  awk -v c="$(col 1 "$SCRATCH/cli")" -v s="$(col 1 "$SCRATCH/store")" -v a="$(col 1 "$SCRATCH/array")" \
      -v cm="$(col 2 "$SCRATCH/cli")" -v am="$(col 2 "$SCRATCH/array")" 'BEGIN {
    printf "store-path call / CLI process wall: %.3f;  array call / CLI process wall: %.3f;  method seconds array / CLI: %.3f\n", s / c, a / c, am / cm }'
}

bench "k-center, 1% (600 of 60000 x 784)" "--method kcenter --fraction 0.01 --seed 0" "method='kcenter', fraction=0.01, seed=0"
bench "k-means within each class, 1%" "--method kmeans --per-class --fraction 0.01 --seed 0" "method='kmeans', per_class=True, fraction=0.01, seed=0"
bench "herding, 1%" "--method herding --fraction 0.01 --seed 0" "method='herding', fraction=0.01, seed=0"

#!/usr/bin/env bash
# Compression benchmark (issue 6), side by side with scikit-learn in the same run, on Fashion-MNIST
# train (60000 x 784), 2 threads everywhere:
#  1. the transforms, data in memory (bench_compress vs peers_compress.py), RUNS times each:
#     PCA to 64 with our exact solver (and our randomized one) vs scikit-learn's full and randomized
#     PCA(64), with the explained variance; Gaussian and sparse random projection to 64, fit +
#     transform, vs scikit-learn's, with the mean pairwise distance ratio on the first 1000 rows;
#  2. `subset compress` to PCA-64, RP-64 (gaussian) and AE-64 stores (time and energy of the
#     compression, reconstruction error), then `subset evaluate` of the MLP on raw features and on
#     each compressed store (test accuracy, training time and energy), REPEATS trainings each.
# Prints each run, then the tables of docs/benchmarks.md ("Compression").
#
# Usage: bash tests/benchmarks/bench_compress.sh [BUILD_DIR] [STORE] [RUNS] [REPEATS]
#   BUILD_DIR  default build (needs tools/subset and tests/benchmarks/bench_compress)
#   STORE      a store with /features, /labels and /test; default: `subset import fashion-mnist`
#   RUNS       runs of the transforms on each side (default 3)
#   REPEATS    trainings per training set in `subset evaluate` (default 3)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
STORE=${2:-}
RUNS=${3:-3}
REPEATS=${4:-3}
PY=/usr/bin/python3
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
source tests/benchmarks/bench_lib.sh
bench_prepare compress
SUBSET="$BUILD/tools/subset --threads 2"
echo "# date: $(date -u +%F), store $STORE, OMP_NUM_THREADS=$OMP_NUM_THREADS OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 1. the transforms, side by side ----
: > "$SCRATCH/transforms.txt"
for _ in $(seq "$RUNS"); do
  "$BUILD/tests/benchmarks/bench_compress" "$STORE" --k 64 --threads 2 | tee -a "$SCRATCH/transforms.txt"
  $PY tests/benchmarks/peers_compress.py "$STORE" --k 64 | tee -a "$SCRATCH/transforms.txt"
done
echo "# load average after the transforms: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 2. compressed stores, then evaluate ----
compress() {  # NAME ARGS...
  local name=$1; shift
  $SUBSET compress "$STORE" "$@" -o "$SCRATCH/$name.h5" --json > "$SCRATCH/$name.compress.json"
  $PY -c "import json,sys; j=json.load(open(sys.argv[1])); print('compress', sys.argv[2], 'fit_seconds=%.3f apply_seconds=%.3f kwh=%.3g' % (j['fit_seconds'], j['apply_seconds'], j['energy']['kwh']), ' '.join('%s=%.5g' % (k, j['stats'][k]) for k in ('explained_variance_ratio_sum', 'train_mse', 'test_mse', 'test_baseline_mse') if k in j['stats']))" \
    "$SCRATCH/$name.compress.json" "$name"
}
compress pca64 --method pca --dim 64
compress rp64 --method gaussian-rp --dim 64
compress ae64 --method autoencoder --dim 64
for name in raw pca64 rp64 ae64; do
  src=$SCRATCH/$name.h5
  [[ $name == raw ]] && src=$STORE
  $SUBSET evaluate "$src" --repeats "$REPEATS" --no-cache --cache "$SCRATCH/$name.cache.json" --json \
    > "$SCRATCH/$name.evaluate.json"
  echo "evaluated $name"
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
$PY - "$SCRATCH" "$RUNS" "$REPEATS" <<'PY'
import json, statistics, sys
sys.path.insert(0, "tests/benchmarks")
from bench_records import read_records
scratch, runs, repeats = sys.argv[1], sys.argv[2], sys.argv[3]
rec = {}
for side, f in read_records(f"{scratch}/transforms.txt"):
    rec.setdefault((side, f["task"]), []).append(f)
med = lambda side, task, key: statistics.median(float(f[key]) for f in rec[(side, task)])
print(f"Transforms to K = 64, median of {runs} runs (seconds; ratio = peer / ours):")
print(f"{'task':<16} {'ours s':>8} {'quality':>9}   {'peer':<24} {'peer s':>8} {'quality':>9} {'ratio':>7}")
rows = [("pca-exact", "explained", [("sklearn", "pca-full"), ("sklearn", "pca-randomized")]),
        ("pca-randomized", "explained", [("sklearn", "pca-randomized")]),
        ("gaussian-rp", "distance_ratio", [("sklearn", "gaussian-rp")]),
        ("sparse-rp", "distance_ratio", [("sklearn", "sparse-rp")])]
for task, q, peers in rows:
    ours = med("ours", task, "seconds")
    for side, ptask in peers:
        p = med(side, ptask, "seconds")
        print(f"{task:<16} {ours:>8.3f} {med('ours', task, q):>9.5f}   {side + ' ' + ptask:<24} {p:>8.3f} "
              f"{med(side, ptask, q):>9.5f} {p / ours:>6.1f}x")
print(f"(ours pca-exact also transforms all 60000 rows in {med('ours', 'pca-exact', 'transform_seconds'):.3f} s)")
print()
print(f"MLP (subset evaluate defaults) on raw and compressed features, {repeats} trainings each:")
print(f"{'features':<10} {'D':>4} {'compress s':>10} {'compress kWh':>12} {'recon mse test':>14} "
      f"{'test acc %':>13} {'train s':>8} {'train kWh':>10}")
for name in ("raw", "pca64", "rp64", "ae64"):
    ev = json.load(open(f"{scratch}/{name}.evaluate.json"))["full"]
    cs, ck, mse, dim = "-", "-", "-", 784
    if name != "raw":
        c = json.load(open(f"{scratch}/{name}.compress.json"))
        cs = f"{c['fit_seconds'] + c['apply_seconds']:.2f}"
        ck = f"{c['energy']['kwh']:.3g}"
        mse = f"{c['stats']['test_mse']:.4f}" if "test_mse" in c["stats"] else "-"
        dim = c["output_dim"]
    acc = f"{100 * ev['accuracy_mean']:.2f} ± {100 * ev['accuracy_std']:.2f}"
    print(f"{name:<10} {dim:>4} {cs:>10} {ck:>12} {mse:>14} {acc:>13} {statistics.mean(ev['seconds']):>8.2f} "
          f"{ev['train_kwh']:>10.3g}")
PY

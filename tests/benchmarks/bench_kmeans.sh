#!/usr/bin/env bash
# k-means benchmark (issue 3), side by side with its peers in the same run, on Fashion-MNIST train
# (60000 x 784): libsubset's kmeans (bench_kmeans) vs scikit-learn KMeans(init="k-means++",
# n_init=1, max_iter=20, algorithm="lloyd") and faiss.Kmeans trained on all points, K = 100 and
# 1000, 20 Lloyd iterations, 2 threads everywhere. Prints each run, then the medians and ratios.
#
# Usage: bash tests/benchmarks/bench_kmeans.sh [BUILD_DIR] [STORE] [RUNS] [SKLEARN_RUNS]
#   BUILD_DIR     default build (needs tests/benchmarks/bench_kmeans and, without STORE, tools/subset)
#   STORE         a store with /features; default: `subset import fashion-mnist` into a scratch dir
#   RUNS          runs of ours and of FAISS per K (default 3)
#   SKLEARN_RUNS  runs of scikit-learn per K (default 1: K = 1000 takes about 100 s)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
STORE=${2:-}
RUNS=${3:-3}
SKLEARN_RUNS=${4:-1}
KS=100,1000
PY=/usr/bin/python3
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
source tests/benchmarks/bench_lib.sh
bench_prepare kmeans
echo "# date: $(date -u +%F), store $STORE, OMP_NUM_THREADS=$OMP_NUM_THREADS OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

: > "$SCRATCH/all.txt"
for _ in $(seq "$RUNS"); do
  "$BUILD/tests/benchmarks/bench_kmeans" "$STORE" --k $KS --iterations 20 --threads 2 | tee -a "$SCRATCH/all.txt"
  $PY tests/benchmarks/peers_kmeans.py "$STORE" --k $KS --iterations 20 --peers faiss | tee -a "$SCRATCH/all.txt"
done
for _ in $(seq "$SKLEARN_RUNS"); do
  $PY tests/benchmarks/peers_kmeans.py "$STORE" --k $KS --iterations 20 --peers sklearn | tee -a "$SCRATCH/all.txt"
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
$PY - "$SCRATCH/all.txt" <<'PY'
import statistics, sys
sys.path.insert(0, "tests/benchmarks")
from bench_records import read_records
runs = {}
for name, f in read_records(sys.argv[1]):
    runs.setdefault((name, int(f["K"])), []).append((float(f["seconds"]), float(f["inertia"])))
print(f"{'K':>5} {'method':<10} {'median s':>9} {'min s':>8} {'inertia':>12}  {'sklearn/ours':>12} {'faiss/ours':>10}  {'inertia vs sklearn':>18} {'vs faiss':>9}")
for k in sorted({k for _, k in runs}):
    med = {m: statistics.median(s for s, _ in runs[(m, k)]) for m in ("ours", "sklearn", "faiss") if (m, k) in runs}
    inert = {m: statistics.median(i for _, i in runs[(m, k)]) for m in med}
    for m in ("ours", "sklearn", "faiss"):
        if m not in med:
            continue
        line = f"{k:>5} {m:<10} {med[m]:>9.2f} {min(s for s, _ in runs[(m, k)]):>8.2f} {inert[m]:>12.0f}"
        if m == "ours":
            sk = f"{med['sklearn'] / med['ours']:.2f}x" if "sklearn" in med else "-"
            fa = f"{med['faiss'] / med['ours']:.2f}x" if "faiss" in med else "-"
            isk = f"{100 * (inert['ours'] / inert['sklearn'] - 1):+.2f}%" if "sklearn" in inert else "-"
            ifa = f"{100 * (inert['ours'] / inert['faiss'] - 1):+.2f}%" if "faiss" in inert else "-"
            line += f"  {sk:>12} {fa:>10}  {isk:>18} {ifa:>9}"
        print(line)
print("(times: median wall seconds of the fit, data in memory; inertia: sum over all points of the squared")
print(" distance to the nearest final centroid; ratios > 1x: ours faster; inertia: + is worse than the peer)")
PY

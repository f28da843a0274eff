#!/usr/bin/env bash
# typiclust at 10% of Fashion-MNIST (issue 14): 6000 clusters of the 60000 training points, on
# pixels (784) and on PCA-64, libsubset (bench_typiclust) next to scikit-learn's KMeans +
# NearestNeighbors doing the same (peers_typiclust.py), 20 Lloyd iterations, 2 threads everywhere,
# with typiclust's seeding at 6000 clusters (plain k-means++) and (at D = 64) the greedy one;
# also the exact k-NN graph (k = 20) of the first N rows.
#
# Usage: bash tests/benchmarks/bench_typiclust.sh [BUILD_DIR] [STORE] [SKLEARN]
#   STORE    a store with /features; default: `subset import fashion-mnist` into a scratch dir
#   SKLEARN  1 (default) to run scikit-learn too (about 2 minutes at D = 64, 15 or more at 784)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
STORE=${2:-}
SKLEARN=${3:-1}
PY=/usr/bin/python3
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
source tests/benchmarks/bench_lib.sh
bench_prepare typiclust
"$BUILD/tools/subset" compress "$STORE" --method pca --dim 64 -o "$SCRATCH/pca64.h5" --quiet >/dev/null
echo "# date: $(date -u +%F), store $STORE, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$BUILD/tests/benchmarks/bench_typiclust" "$SCRATCH/pca64.h5" --knn 10000,20000,60000
"$BUILD/tests/benchmarks/bench_typiclust" "$SCRATCH/pca64.h5" --seeding greedy
"$BUILD/tests/benchmarks/bench_typiclust" "$STORE" --knn 10000,20000
if [[ "$SKLEARN" == 1 ]]; then
  $PY tests/benchmarks/peers_typiclust.py "$SCRATCH/pca64.h5"
  $PY tests/benchmarks/peers_typiclust.py "$SCRATCH/pca64.h5" --local-trials 0
  $PY tests/benchmarks/peers_typiclust.py "$STORE"
fi
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

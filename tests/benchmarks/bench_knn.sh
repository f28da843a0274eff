#!/usr/bin/env bash
# The k-NN graph (issue 14): exact (FAISS flat) against approximate (IVF) search, with recall@20,
# on Fashion-MNIST PCA-64 up to N = 60000 and on pixels (784) up to N = 20000, 2 threads; FAISS's
# HNSW at N = 60000 for comparison. Sets knn.h's kKnnExactUpTo and kKnnDefaultProbes.
#
# Usage: bash tests/benchmarks/bench_knn.sh [BUILD_DIR] [STORE]
#   STORE    a store with /features; default: `subset import fashion-mnist` into a scratch dir
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
STORE=${2:-}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
source tests/benchmarks/bench_lib.sh
bench_prepare knn
"$BUILD/tools/subset" compress "$STORE" --method pca --dim 64 -o "$SCRATCH/pca64.h5" --quiet >/dev/null
echo "# date: $(date -u +%F), store $STORE, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$BUILD/tests/benchmarks/bench_knn" "$SCRATCH/pca64.h5" --sizes 10000,20000,30000,40000,60000 --probes 4,8
"$BUILD/tests/benchmarks/bench_knn" "$SCRATCH/pca64.h5" --sizes 60000 --probes 8 --ef 16,64
"$BUILD/tests/benchmarks/bench_knn" "$STORE" --sizes 10000,20000 --probes 4,8
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

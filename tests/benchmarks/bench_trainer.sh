#!/usr/bin/env bash
# Proxy-model trainer benchmark, side by side with PyTorch in the same run, on Fashion-MNIST
# (60000 x 784 train, 10000 test): libsubset's nn::train_and_test (bench_trainer) vs the same MLP
# (784-256-10, Adam 1e-3, batch 256, a fresh permutation each epoch) in Debian's python3-torch
# (peers_trainer.py), at 1 and 2 threads. Runs are interleaved; prints each run, then per thread
# count the median seconds per epoch, the test accuracy over the seeds and the ratios, and whether
# a program's final training loss is the same at 1 and 2 threads.
#
#   ours         matrix products through oneDNN's sgemm (the default path)
#   ours-aten    the same trainer with the products through at::addmm, i.e. OpenBLAS (--gemm aten)
#   pytorch      torch.set_num_threads(T), OPENBLAS_NUM_THREADS=T: what a PyTorch user gets
#   pytorch-intra1  torch.set_num_threads(1), OPENBLAS_NUM_THREADS=T: PyTorch tuned for this box
#
# Usage: bash tests/benchmarks/bench_trainer.sh [BUILD_DIR] [STORE] [RUNS] [EPOCHS]
#   BUILD_DIR  default build (needs tests/benchmarks/bench_trainer and, without STORE, tools/subset)
#   STORE      a store with /features, /labels, /test/features, /test/labels; default: `subset import
#              fashion-mnist` into a scratch dir
#   RUNS       runs of each program per thread count, with seeds 0 .. RUNS-1 (default 3)
#   EPOCHS     epochs per run (default 5)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
STORE=${2:-}
RUNS=${3:-3}
EPOCHS=${4:-5}
PY=/usr/bin/python3
source tests/benchmarks/bench_lib.sh
bench_prepare trainer
echo "# date: $(date -u +%F), store $STORE, $EPOCHS epochs per run, $RUNS runs per program and thread count"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

: > "$SCRATCH/all.txt"
for threads in 1 2; do
  for seed in $(seq 0 $((RUNS - 1))); do
    "$BUILD/tests/benchmarks/bench_trainer" "$STORE" --threads "$threads" --epochs "$EPOCHS" --seed "$seed" \
      | tee -a "$SCRATCH/all.txt"
    "$BUILD/tests/benchmarks/bench_trainer" "$STORE" --threads "$threads" --epochs "$EPOCHS" --seed "$seed" --gemm aten \
      | grep -v '^#' | tee -a "$SCRATCH/all.txt"
    OPENBLAS_NUM_THREADS=$threads $PY tests/benchmarks/peers_trainer.py "$STORE" --threads "$threads" \
      --epochs "$EPOCHS" --seed "$seed" | tee -a "$SCRATCH/all.txt"
    if [[ $threads -gt 1 ]]; then
      OPENBLAS_NUM_THREADS=$threads $PY tests/benchmarks/peers_trainer.py "$STORE" --threads "$threads" \
        --epochs "$EPOCHS" --seed "$seed" --intra-op-threads 1 | grep -v '^#' | tee -a "$SCRATCH/all.txt"
    fi
  done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
$PY tests/benchmarks/summarize_trainer.py "$SCRATCH/all.txt"

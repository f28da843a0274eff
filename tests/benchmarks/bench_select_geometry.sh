#!/usr/bin/env bash
# k-center greedy and herding on Fashion-MNIST train (60000 x 784), side by side with the numpy
# brute force (peers_select_geometry.py) in the same run, same threads, same first pick:
#   kcenter K = 600 and 6000, herding K = 600 (override with KCENTER=... HERDING=...)
# Each configuration runs the peer, then ours, back to back, so that both see the same machine.
# Prints both sides' median times (selection loop only, data in memory), the ratios, the quality
# figures, whether the picks are identical (and, where not, which side float64 arithmetic favours
# at the first difference), and our peak RSS against the feature matrix.
# DeepCore is not re-run here (it needs its own checkout and torch); its REFERENCE.md times are
# quoted for the ratio the issue asks for.
# Machines with other work running: OpenMP threads spin-wait between k-center steps, so a busy
# core slows the 2-thread runs a lot; the load average is printed before and after each run.
# Usage: bash tests/benchmarks/bench_select_geometry.sh [BUILD_DIR] [STORE]
#   STORE defaults to a fresh `subset import fashion-mnist` in a scratch directory.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
STORE=${2:-}
REPEATS=${REPEATS:-3}
KCENTER=${KCENTER:-600,6000}
HERDING=${HERDING:-600}
INIT=${INIT:-0}
PY=/usr/bin/python3
PEERS=tests/benchmarks/peers_select_geometry.py
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
load() { cut -d' ' -f1 /proc/loadavg; }
source tests/benchmarks/bench_lib.sh
bench_prepare geometry
echo "# date: $(date -u +%F), OMP_NUM_THREADS=$OMP_NUM_THREADS OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS," \
  "$REPEATS runs each, first k-center pick: index $INIT"

run_one() {  # method K
  local method=$1 k=$2 kc="" hd=""
  if [[ $method == kcenter ]]; then kc=$k; else hd=$k; fi
  echo
  echo "## $method K=$k (load $(load))"
  $PY "$PEERS" "$STORE" --kcenter "$kc" --herding "$hd" --init-index "$INIT" --repeats "$REPEATS" \
    --out-dir "$SCRATCH" | grep -v '^#' | sed 's/^/numpy      /' | tee -a "$SCRATCH/peer.txt"
  "$BUILD/tests/benchmarks/bench_select_geometry" "$STORE" --kcenter "$kc" --herding "$hd" --init-index "$INIT" \
    --repeats "$REPEATS" --threads 2 --picks-dir "$SCRATCH" | grep -v '^#' | sed 's/^/libsubset  /' |
    tee -a "$SCRATCH/ours.txt"
  echo "(load after: $(load))"
}
for k in ${KCENTER//,/ }; do run_one kcenter "$k"; done
for k in ${HERDING//,/ }; do run_one herding "$k"; done

echo
echo "## side by side"
# DeepCore figures from ../shared/REFERENCE.md (same kind of machine, 2 threads, not re-run here).
deepcore() { case "$1" in kcenter_600) echo 98.7 ;; kcenter_6000) echo 962 ;; herding_600) echo 144 ;; *) echo "" ;; esac; }
field() { awk -v m="$2" -v k="K=$3" '$2 == m && $3 == k {print $5}' "$1"; }
printf '%-14s %9s %9s %9s %12s %9s  %s\n' "run" "ours s" "numpy s" "vs numpy" "vs DeepCore" "quality" "picks identical"
for method in kcenter herding; do
  list=$KCENTER
  [[ $method == herding ]] && list=$HERDING
  for k in ${list//,/ }; do
    ours=$(field "$SCRATCH/ours.txt" "$method" "$k")
    peer=$(field "$SCRATCH/peer.txt" "$method" "$k")
    quality=$(awk -v m="$method" -v k="K=$k" '$2 == m && $3 == k {for (i = 1; i < NF; ++i) if ($i == "covering_radius" || $i == "mean_gap") print $(i + 1)}' "$SCRATCH/ours.txt")
    dc=$(deepcore "${method}_$k")
    ratio=$(awk -v a="$ours" -v b="$peer" 'BEGIN {printf "%.1fx", b / a}')
    dcr=$([[ -n "$dc" ]] && awk -v a="$ours" -v b="$dc" 'BEGIN {printf "%.0fx", b / a}' || echo "-")
    same=$($PY "$PEERS" "$STORE" --compare "$method" "$SCRATCH/ours_${method}_$k.txt" "$SCRATCH/peer_${method}_$k.npy")
    printf '%-14s %9s %9s %9s %12s %9s  %s\n' "$method K=$k" "$ours" "$peer" "$ratio" "$dcr" "$quality" "$same"
  done
done
grep -o 'peak RSS [0-9.]* MiB ([0-9.]*x the matrix)' "$SCRATCH/ours.txt" | sort -t'(' -k2 -g | tail -1 |
  sed 's/^/ours, largest whole-process /'

#!/usr/bin/env bash
# Dataset condensation speed, side by side with a plain-PyTorch re-implementation of the reference
# code (peers_condense.py, Debian's python3-torch) in the same run, on Fashion-MNIST at ipc 10 and
# the same thread count:
#   DM  seconds per iteration (fresh ConvNet, 10 classes x 256 real images, DSA, one image step)
#   DC  seconds per outer step (10 classes x gradient matching on 256 real images, one image step,
#       then 50 epochs of training the network on the 100 synthetic images)
# Ours is timed through `subset condense` as the difference of two runs that differ only in the
# number of iterations (DM) or outer steps (DC), so start-up and data loading cancel out; the peer
# times its loop after one untimed warm-up.
#
# Usage: bash tests/benchmarks/bench_condense.sh [BUILD_DIR] [STORE] [THREADS] [DM_ITERATIONS]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
STORE=${2:-}
THREADS=${3:-2}
DM_ITERATIONS=${4:-5}
PY=/usr/bin/python3
SUBSET=$BUILD/tools/subset
source tests/benchmarks/bench_lib.sh
bench_prepare condense
echo "# date: $(date -u +%F), store $STORE, $THREADS threads, ipc 10"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# seconds of one `subset condense` run, from its JSON outcome (wall time of the job)
ours_seconds() {
  "$SUBSET" -q --threads "$THREADS" condense "$STORE" --ipc 10 --seed 0 --force -o "$SCRATCH/syn.h5" --json "$@" \
    | $PY -c 'import json, sys; print(json.load(sys.stdin)["seconds"])'
}
per_unit() { $PY -c "import sys; a, b, n = map(float, sys.argv[1:]); print(f'{(b - a) / n:.3f}')" "$@"; }
ratio() { $PY -c "import sys; a, b = map(float, sys.argv[1:]); print(f'{a / b:.2f}')" "$@"; }

dm_short=$(ours_seconds --method dm --iterations 1)
dm_long=$(ours_seconds --method dm --iterations $((1 + DM_ITERATIONS)))
ours_dm=$(per_unit "$dm_short" "$dm_long" "$DM_ITERATIONS")
echo "ours dm ipc=10 threads=$THREADS seconds_per_iteration=$ours_dm iterations=$DM_ITERATIONS"
peer_dm=$(OPENBLAS_NUM_THREADS=$THREADS $PY tests/benchmarks/peers_condense.py "$STORE" --method dm --ipc 10 \
  --iterations "$DM_ITERATIONS" --threads "$THREADS" --json | $PY -c 'import json, sys; print(f"{json.load(sys.stdin)['seconds_per_iteration']:.3f}")')
echo "peer dm ipc=10 threads=$THREADS seconds_per_iteration=$peer_dm iterations=$DM_ITERATIONS"

dc_short=$(ours_seconds --method dc --iterations 1 --outer-loop 1 --inner-loop 50)
dc_long=$(ours_seconds --method dc --iterations 1 --outer-loop 3 --inner-loop 50)
ours_dc=$(per_unit "$dc_short" "$dc_long" 2)
echo "ours dc ipc=10 threads=$THREADS seconds_per_outer_step=$ours_dc outer_steps=2"
peer_dc=$(OPENBLAS_NUM_THREADS=$THREADS $PY tests/benchmarks/peers_condense.py "$STORE" --method dc --ipc 10 \
  --iterations 1 --threads "$THREADS" --json | $PY -c 'import json, sys; print(f"{json.load(sys.stdin)['seconds_per_outer_step']:.3f}")')
echo "peer dc ipc=10 threads=$THREADS seconds_per_outer_step=$peer_dc outer_steps=1"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
printf '%-34s %10s %10s %8s\n' "" "libsubset" "PyTorch" "speed-up"
printf '%-34s %10s %10s %7sx\n' "DM, s per iteration" "$ours_dm" "$peer_dm" "$(ratio "$peer_dm" "$ours_dm")"
printf '%-34s %10s %10s %7sx\n' "DC, s per outer step" "$ours_dc" "$peer_dc" "$(ratio "$peer_dc" "$ours_dc")"

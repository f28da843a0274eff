#!/usr/bin/env bash
# Foundation benchmarks (issue 2), each side by side with its peer in the same run:
#   1. subset import fashion-mnist  vs  python_scripts/import_fashion_mnist.py (numpy + h5py)
#   2. reading /features back       vs  h5py
#   3. subset info on a multi-GB store (metadata only)
#   4. streaming a store larger than 1 GB in row blocks: peak RSS vs file size
# Usage: bash tests/benchmarks/bench_io.sh [BUILD_DIR] [SCRATCH_DIR]
# Prints medians of 5 runs. Needs ~7 GB free in SCRATCH_DIR (default: a fresh dir in /var/tmp).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
SCRATCH=${2:-$(mktemp -d /var/tmp/subset-bench-XXXXXX)}
SUBSET=$BUILD/tools/subset
PY=/usr/bin/python3
RUNS=5
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
mkdir -p "$SCRATCH"
trap 'rm -rf "$SCRATCH"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# wall seconds and peak RSS (KB) of a command, via GNU time
timed() { /usr/bin/time -f "%e %M" -o "$SCRATCH/time.txt" "$@" >/dev/null 2>&1; cat "$SCRATCH/time.txt"; }

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# date: $(date -u +%F), libsubset $($SUBSET --version)"

echo
echo "## 1. Fashion-MNIST IDX.gz -> HDF5 store (train 60000x784 + test 10000x784), $RUNS runs"
: > "$SCRATCH/ours.txt"; : > "$SCRATCH/peer.txt"
for _ in $(seq $RUNS); do
  timed "$SUBSET" import fashion-mnist -o "$SCRATCH/ours.h5" --force >> "$SCRATCH/ours.txt"
  rm -f "$SCRATCH/peer.h5"
  timed $PY python_scripts/import_fashion_mnist.py -o "$SCRATCH/peer.h5" >> "$SCRATCH/peer.txt"
done
ours=$(cut -d' ' -f1 "$SCRATCH/ours.txt" | median); peer=$(cut -d' ' -f1 "$SCRATCH/peer.txt" | median)
ours_rss=$(cut -d' ' -f2 "$SCRATCH/ours.txt" | median); peer_rss=$(cut -d' ' -f2 "$SCRATCH/peer.txt" | median)
printf '%-44s %8s s  peak RSS %6d MB\n' "subset import fashion-mnist" "$ours" $((ours_rss / 1024))
printf '%-44s %8s s  peak RSS %6d MB\n' "numpy + h5py (python_scripts/...)" "$peer" $((peer_rss / 1024))
awk -v a="$ours" -v b="$peer" 'BEGIN {printf "speed-up: %.2fx (whole process, including start-up)\n", b / a}'
$PY - "$SCRATCH/ours.h5" "$SCRATCH/peer.h5" <<'PY'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
same = all(np.array_equal(a[k][...], b[k][...]) for k in ("features", "labels", "test/features", "test/labels"))
print("outputs identical (features, labels, test split):", same)
PY

echo
echo "## 2. read /features (188 MB) back into memory, $RUNS runs"
ours=$("$BUILD/tests/benchmarks/bench_store_read" "$SCRATCH/ours.h5" $RUNS | awk '{print $4}' | median)
peer=$($PY - "$SCRATCH/ours.h5" $RUNS <<'PY' | median
import sys, time, h5py
f = h5py.File(sys.argv[1], "r")
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); x = f["features"][...]; print(time.perf_counter() - t)
PY
)
printf '%-44s %8.4f s\n' "libsubset FeatureArray::read_all" "$ours"
printf '%-44s %8.4f s\n' "h5py f['features'][...]" "$peer"

echo
echo "## 3 + 4. a store larger than 1 GB: 1,000,000 x 784 float32 (3.1 GB) tiled from Fashion-MNIST"
$PY - "$SCRATCH/ours.h5" "$SCRATCH/big.npy" <<'PY'
import sys, h5py, numpy as np
x = h5py.File(sys.argv[1], "r")["features"][...]
out = np.lib.format.open_memmap(sys.argv[2], mode="w+", dtype=np.float32, shape=(1_000_000, 784))
for i in range(0, 1_000_000, 60000):
    n = min(60000, 1_000_000 - i); out[i:i + n] = x[:n]
out.flush()
PY
read -r s rss < <(timed "$SUBSET" import "$SCRATCH/big.npy" -o "$SCRATCH/big.h5")
printf '%-44s %8s s  peak RSS %6d MB  (input %d MB)\n' "subset import big.npy (streamed)" "$s" $((rss / 1024)) \
  $(( $(stat -c %s "$SCRATCH/big.npy") / 1000000 ))
rm -f "$SCRATCH/big.npy"
: > "$SCRATCH/info.txt"
for _ in $(seq $RUNS); do timed "$SUBSET" info "$SCRATCH/big.h5" >> "$SCRATCH/info.txt"; done
printf '%-44s %8s s  peak RSS %6d MB  (store %d MB)\n' "subset info big.h5 (metadata + labels)" \
  "$(cut -d' ' -f1 "$SCRATCH/info.txt" | median)" $(( $(cut -d' ' -f2 "$SCRATCH/info.txt" | median) / 1024 )) \
  $(( $(stat -c %s "$SCRATCH/big.h5") / 1000000 ))
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
read -r s rss < <(timed "$SUBSET" info --check-values "$SCRATCH/big.h5")
printf '%-44s %8s s  peak RSS %6d MB  (64 MB blocks)\n' "subset info --check-values (streams all rows)" "$s" \
  $((rss / 1024))

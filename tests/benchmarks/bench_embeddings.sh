#!/usr/bin/env bash
# Issue 14's proof: selection on pixels and on two embeddings of Fashion-MNIST (one supervised, one
# unsupervised) against class-balanced random, at 1% and 10%, the MLP protocol with its default
# schedule (early stopping on a validation split carved from each training set), 3 repeats, every
# method run within each class (--per-class), every cost counted (embedding + selection + training).
#
# Usage: bash tests/benchmarks/bench_embeddings.sh [BUILD_DIR] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
BUILD=${1:-build}
OUT=${2:-/tmp/embbench}
SUBSET="$BUILD/tools/subset --threads 2 --quiet"
mkdir -p "$OUT"
STORE=$OUT/fm.h5
[ -f "$STORE" ] || $SUBSET import fashion-mnist -o "$STORE"
echo "# date: $(date -u +%F), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# The embeddings, each timed and metered by subset itself (recorded in the store).
$SUBSET embed "$STORE" --model mlp --epochs 2 -o "$OUT/emb-mlp.h5" --force --json > "$OUT/emb-mlp.json"
$SUBSET embed "$STORE" --model pca --dim 64 -o "$OUT/emb-pca.h5" --force --json > "$OUT/emb-pca.json"

METHODS=balanced,kcenter,herding,kmeans,typiclust,moderate
$SUBSET bench "$STORE" --per-class --methods $METHODS --fractions 0.01,0.1 --repeats 3 --no-plot --force \
    -o "$OUT/pixels" --json > /dev/null
for emb in mlp pca; do
  $SUBSET bench "$STORE" --embedding "$OUT/emb-$emb.h5" --per-class --methods $METHODS,probcover \
      --fractions 0.01,0.1 --repeats 3 --no-plot --force -o "$OUT/$emb" --json > /dev/null
done
/usr/bin/python3 tests/benchmarks/summarize_embeddings.py "$OUT"

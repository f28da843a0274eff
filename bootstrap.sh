#!/usr/bin/env bash
# One entry point from a fresh Debian 12 machine to a working libsubset:
#   bash bootstrap.sh run    install what is missing, build (Release), install, run the main job
#   bash bootstrap.sh test   install what is missing, build, install, run the whole test suite
#   bash bootstrap.sh build  install what is missing, build and install
# It installs `subset` (with its man page and bash completion) and the Python package `libsubset`
# under SUBSET_PREFIX, /usr/local by default: on the PATH, and on Debian python3's search path.
# Packages come from Debian only. Re-running is cheap: installed packages and the build are reused.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

BUILD_DIR=${SUBSET_BUILD_DIR:-build}
JOBS=${SUBSET_JOBS:-$(nproc)}
PREFIX=${SUBSET_PREFIX:-/usr/local}

# Everything the build, the tests and the benchmarks use. libopenblas-dev matters: without it
# Debian's BLAS alternative is the reference BLAS, ~40x slower for FAISS, libtorch and numpy.
# OpenMPI and parallel HDF5: the test suite builds and tests `subset` for mpirun too (tests/mpi).
PACKAGES=(
  build-essential cmake pkg-config
  libhdf5-dev zlib1g-dev libeigen3-dev libopenblas-dev libfaiss-dev libtorch-dev
  libcli11-dev doctest-dev nlohmann-json3-dev libsqlite3-dev libpng-dev help2man bash-completion
  dataset-fashion-mnist
  python3 python3-numpy python3-h5py python3-pytest python3-matplotlib python3-sklearn python3-optuna
  python3-dev pybind11-dev python3-torch python3-torchvision python3-tqdm
  util-linux time
  openmpi-bin libopenmpi-dev libhdf5-openmpi-dev
)

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else log "need root (or sudo) to install packages: $*"; exit 1
  fi
}

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "all ${#PACKAGES[@]} Debian packages present"
    return
  fi
  log "installing ${#missing[@]} Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
  log "configuring and building in $BUILD_DIR (Release, $JOBS jobs)"
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
  cmake --build "$BUILD_DIR" -j "$JOBS"
  log "installing subset, its man page and completion, and the Python package under $PREFIX"
  if [ -w "$PREFIX" ] || [ "$(id -u)" -eq 0 ]; then cmake --install "$BUILD_DIR" --prefix "$PREFIX" >/dev/null
  else as_root cmake --install "$BUILD_DIR" --prefix "$PREFIX" >/dev/null
  fi
  # The tests check that the set-up put these where a shell and python3 find them.
  export SUBSET_SETUP_PREFIX="$PREFIX"
}

# The main job: what the toolkit is for. A small hyperparameter search (10 configurations of the proxy
# MLP) run on a 10% coreset and on the full data, to see whether the coreset ranks the configurations
# as the full data does and what its search cost, the embedding and the selection included. Every
# training stops early on its own validation split, as `subset evaluate` does; about a minute on two
# idle cores. docs/benchmarks.md has the full-scale benchmark.
run_main_job() {
  local subset="$PREFIX/bin/subset" store="$BUILD_DIR/fmnist.h5" emb="$BUILD_DIR/fmnist-pca64.h5"
  local selection="$BUILD_DIR/pca-kmeans10.sel.h5" space="$BUILD_DIR/main-space.json" out="$BUILD_DIR/main-hpo"
  log "importing Fashion-MNIST into $store"
  "$subset" import fashion-mnist -o "$store" --force
  log "embedding it with PCA-64: $emb"
  "$subset" embed "$store" --model pca --dim 64 --seed 0 -o "$emb" --force
  log "selecting a 10% coreset, k-means within each class on the embedding: $selection"
  "$subset" select "$store" --embedding "$emb" --method kmeans --per-class --fraction 0.1 --seed 0 \
      -o "$selection" --force
  cat > "$space" <<'JSON'
{
  "lr":     {"log": [1e-4, 3e-2]},
  "hidden": {"choice": [32, 128, 256]},
  "depth":  {"int": [1, 2]}
}
JSON
  # A search directory with trials is refused without --resume; this one is the job's own output.
  rm -rf "$out"
  log "tuning 10 configurations of $space on the coreset and on the full data: $out"
  "$subset" hpo "$store" --space "$space" --trials 10 --selection "$selection" --full all --seed 0 -o "$out"
  python3 - "$out/results.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["coresets"][0]
print(f"the coreset's search (embedding and selection included) used {s['search_kwh']:.3g} kWh against "
      f"{s['full_search_kwh']:.3g} kWh on the full data ({100 * s['energy_ratio']:.0f}% of it); "
      f"its favourite {s['best_config']} is {100 * s['regret']:.2f} points below the full search's best")
PY
}

case "${1:-}" in
  run)   install_missing; build; run_main_job ;;
  test)  install_missing; build; ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" ;;
  build) install_missing; build ;;
  *) echo "usage: bash bootstrap.sh run|test|build" >&2; exit 2 ;;
esac

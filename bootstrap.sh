#!/usr/bin/env bash
# One entry point from a fresh Debian 12 machine to a working libsubset:
#   bash bootstrap.sh run    install what is missing, build (Release), run the main job
#   bash bootstrap.sh test   install what is missing, build, run the whole test suite
#   bash bootstrap.sh build  install what is missing and build only
# Packages come from Debian only. Re-running is cheap: installed packages and the build are reused.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

BUILD_DIR=${SUBSET_BUILD_DIR:-build}
JOBS=${SUBSET_JOBS:-$(nproc)}

# Everything the build, the tests and the benchmarks use. libopenblas-dev matters: without it
# Debian's BLAS alternative is the reference BLAS, ~40x slower for FAISS, libtorch and numpy.
PACKAGES=(
  build-essential cmake pkg-config
  libhdf5-dev zlib1g-dev libeigen3-dev libopenblas-dev libfaiss-dev libtorch-dev
  libcli11-dev doctest-dev nlohmann-json3-dev libsqlite3-dev libpng-dev
  dataset-fashion-mnist
  python3 python3-numpy python3-h5py python3-pytest python3-matplotlib python3-sklearn
  util-linux time
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
}

run_main_job() {
  local subset="$BUILD_DIR/tools/subset" store="$BUILD_DIR/fmnist.h5"
  local selection="$BUILD_DIR/fmnist-kcenter10.sel.h5" small="$BUILD_DIR/fmnist-kcenter10.h5"
  log "importing Fashion-MNIST into $store"
  "$subset" import fashion-mnist -o "$store" --force
  log "selecting a 10% k-center coreset into $selection"
  "$subset" select "$store" --method kcenter --fraction 0.1 --seed 0 -o "$selection" --force
  log "extracting it as a store of its own: $small"
  "$subset" extract "$store" --selection "$selection" -o "$small" --force
  log "training the proxy MLP on the full data and on the coreset: accuracy, energy and what it saved"
  "$subset" evaluate "$store" --selection "$selection"
}

case "${1:-}" in
  run)   install_missing; build; run_main_job ;;
  test)  install_missing; build; ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" ;;
  build) install_missing; build ;;
  *) echo "usage: bash bootstrap.sh run|test|build" >&2; exit 2 ;;
esac

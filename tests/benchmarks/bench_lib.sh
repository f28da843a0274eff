# Shared by the bench_*.sh drivers, sourced from the repository root once BUILD and STORE are set.

# bench_prepare NAME: sets SCRATCH to a fresh directory removed on exit and, when STORE is empty,
# STORE to a `subset import fashion-mnist` in it (needs $BUILD/tools/subset); prints the machine.
bench_prepare() {
  SCRATCH=$(mktemp -d "/var/tmp/subset-bench-$1-XXXXXX")
  trap 'rm -rf "$SCRATCH"' EXIT
  if [[ -z "$STORE" ]]; then
    STORE=$SCRATCH/fmnist.h5
    "$BUILD/tools/subset" import fashion-mnist -o "$STORE" >/dev/null
  fi
  echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
}

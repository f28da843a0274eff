#!/usr/bin/python3
"""`mpirun -np N subset select|compress` against one process (issue 18, part 2).

On one store (Fashion-MNIST's 60,000 training rows by default, or a tiled pool from
make_tiled_pool.py), for each method: one process with its features in memory (the default), one
process reading them on disk in blocks (the path every rank takes) with all cores' threads and
with one (one rank's share of the machine), and mpirun with 1, 2 and 3 ranks of the MPI build,
each rank with the one process's --memory-limit (`-np 1` is a world of one: the default path). `pca` is `compress --method pca --dim 64`,
which always streams, so it has no in-memory run. Every run must select the same rows (or write the
same compressed features). The importance scores (e.g. `loss`) run in memory on every rank (each
its share of the rows) and train their proxy data-parallel, equal to one process's within rounding:
for them the last column adds the share of the first run's picks that a run picks too. Printed:
wall time, the fit's time (pca), the ranks' summed CPU time and energy, and whether the output is
the first run's. The machine has few cores, so ranks x threads
is held at the core count: compare the rows of one run, never absolute times across machines.

    /usr/bin/python3 tests/benchmarks/bench_mpi.py BUILD MPI_BUILD [--store STORE.h5] [--budget 100]
        [--methods kcenter,herding,kmeans,pca,loss] [--ranks 1,2,3]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import h5py

# Their proxy trains data-parallel on ranks: the same scores within rounding, not bit for bit.
IMPORTANCE = {"loss", "el2n", "grand", "forgetting", "entropy", "margin", "least-confidence"}

MPI_ENV = dict(os.environ, OMPI_MCA_plm="isolated", OMPI_MCA_rmaps_base_oversubscribe="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none")


def timed(cmd, env=None):
    t0 = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{proc.stderr.decode()}")
    return wall


def read(path):
    """What must be identical across runs (the selection, or the compressed features), the energy, and
    a compression's fit time (the part the ranks share)."""
    with h5py.File(path, "r") as f:
        picked = tuple(f[name][()].tobytes() for name in ("indices", "weights", "scores", "features") if name in f)
        energy = json.loads(f.attrs["energy"]) if "energy" in f.attrs else {}
        transform = json.loads(f.attrs["transform"]) if "transform" in f.attrs else {}
        indices = set(f["indices"][()].tolist()) if "indices" in f else set()
    return picked, indices, energy, transform.get("stats", {}).get("fit_seconds")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("mpi_build")
    ap.add_argument("--store", default=None)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--methods", default="kcenter,herding,kmeans,pca,loss")
    ap.add_argument("--ranks", default="1,2,3")
    ap.add_argument("--cores", type=int, default=os.cpu_count())
    a = ap.parse_args()
    subset = os.path.join(a.build, "tools", "subset")
    subset_mpi = os.path.join(a.mpi_build, "tools", "subset")
    root = ["--allow-run-as-root"] if os.geteuid() == 0 else []
    with tempfile.TemporaryDirectory() as scratch:
        store = a.store
        if store is None:
            store = os.path.join(scratch, "fmnist.h5")
            timed([subset, "import", "fashion-mnist", "-o", store])
        with h5py.File(store, "r") as f:
            n, d = f["features"].shape
        print(f"store: {store}, {n} x {d} float32 ({n * d * 4 / 2**20:.0f} MiB), budget {a.budget}, "
              f"{a.cores} cores; ranks x threads = cores\n")
        print(f"{'method':<8} {'run':<26} {'seconds':>8} {'fit s':>6} {'cpu s':>8} {'joules':>9}  same as the first")
        for method in a.methods.split(","):
            reference = os.path.join(scratch, f"{method}-one.h5")
            limit_option = []
            if method == "pca":
                base = ["compress", store, "-m", "pca", "--dim", "64", "--seed", "0"]
                runs = [("1 process, streamed", [subset, "--threads", str(a.cores), *base, "-o", reference], None,
                         reference)]
            elif method in IMPORTANCE:
                base = ["select", store, "-m", method, "--budget", str(a.budget), "--seed", "0"]
                runs = [(f"1 process x {threads} thr", [subset, "--threads", str(threads), *base, "-o", reference], None,
                         reference) for threads in sorted({a.cores, 1}, reverse=True)]
            else:
                extra = ["--iterations", "5"] if method == "kmeans" else []
                base = ["select", store, "-m", method, "--budget", str(a.budget), "--seed", "0", *extra]
                runs = [("1 process, in memory", [subset, "--threads", str(a.cores), *base, "-o", reference], None,
                         reference)]
                on_disk = os.path.join(scratch, f"{method}-disk.h5")
                # A limit below the features: the on-disk path, the one each rank takes; with one
                # thread too, the work of one rank of the mpirun runs.
                limit = f"{max(160, int(n * d * 4 / 2**20 * 0.8))}M"
                limit_option = ["--memory-limit", limit]
                for threads in sorted({a.cores, 1}, reverse=True):
                    runs.append((f"1 process, on disk x {threads} thr",
                                 [subset, "--threads", str(threads), *base, "--memory-limit", limit, "-o", on_disk],
                                 None, on_disk))
            for ranks in map(int, a.ranks.split(",")):
                out = os.path.join(scratch, f"{method}-{ranks}.h5")
                threads = max(1, a.cores // ranks)
                # Each rank gets the one process's memory, as a rank on a machine of its own would.
                cmd = ["mpirun", "-q", "-np", str(ranks), *root, subset_mpi, "--threads", str(threads), *base,
                       *limit_option, "-o", out]
                runs.append((f"mpirun -np {ranks} x {threads} thr", cmd, MPI_ENV, out))
            want = want_indices = None
            for label, cmd, env, out in runs:
                wall = timed(cmd, env)
                picked, indices, energy, fit_seconds = read(out)
                want = want or picked
                want_indices = want_indices or indices
                os.unlink(out)
                fit = f"{fit_seconds:6.1f}" if fit_seconds is not None else f"{'':6}"
                same = "yes" if picked == want else "NO"
                if method in IMPORTANCE:
                    same = f"{'yes' if picked == want else 'no'}, {100 * len(indices & want_indices) / len(want_indices):.1f}% of its picks"
                print(f"{method:<8} {label:<26} {wall:8.1f} {fit} {energy.get('cpu_seconds', float('nan')):8.1f} "
                      f"{energy.get('joules', float('nan')):9.0f}  {same}", flush=True)
            print()


if __name__ == "__main__":
    main()

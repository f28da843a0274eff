#!/usr/bin/python3
"""Peers of bench_select_geometry: vectorised numpy brute force k-center greedy and herding.

Run with Debian's /usr/bin/python3 (numpy over OpenBLAS, h5py). Set OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS to the thread count the C++ side uses. Prints one line per run (median wall
time of the selection loop, data already in memory, and its quality figure) and writes the picks
as int64 .npy files (peer_kcenter_K.npy, peer_herding_K.npy) to --out-dir.

k-center: one GEMV per pick, d(x, c)^2 = |x|^2 - 2 x.c + |c|^2 in float32 (what DeepCore's
k_center_greedy computes, without its per-step copies); the first pick is --init-index.
herding: one GEMV per pick, argmin over unselected x of |x|^2 - 2 x.t with t = (k+1) mean - sum
(mean and sum in float64, t rounded to float32 for the GEMV).
"""
import argparse
import os
import time

import h5py
import numpy as np


def kcenter(x, sq, k, first):
    n = x.shape[0]
    mind = np.full(n, np.inf, dtype=np.float32)
    picks = np.empty(k, dtype=np.int64)
    c = first
    for step in range(k):
        picks[step] = c
        d = sq - 2.0 * (x @ x[c]) + sq[c]
        np.minimum(mind, d, out=mind)
        mind[picks[: step + 1]] = -np.inf
        c = int(np.argmax(mind))
    mind[picks] = 0.0
    return picks, float(np.sqrt(max(float(mind.max()), 0.0)))


def herding(x, sq, mean, k):
    n, dim = x.shape
    total = np.zeros(dim, dtype=np.float64)
    chosen = np.zeros(n, dtype=bool)
    picks = np.empty(k, dtype=np.int64)
    for step in range(k):
        t = ((step + 1) * mean - total).astype(np.float32)
        obj = sq - 2.0 * (x @ t)
        obj[chosen] = np.inf
        i = int(np.argmin(obj))
        picks[step] = i
        chosen[i] = True
        total += x[i]
    gap = float(np.linalg.norm(mean - total / k))
    return picks, gap


def compare(x, method, ours_path, peer_path):
    """Prints whether two pick sequences are identical; if not, how far apart the two candidates of
    the first differing pick are in exact (float64) arithmetic, given the common prefix."""
    ours = np.loadtxt(ours_path, dtype=np.int64, ndmin=1)
    peer = np.load(peer_path)
    diff = np.nonzero(ours != peer)[0] if len(ours) == len(peer) else np.array([0])
    if len(diff) == 0:
        print("yes")
        return
    k = int(diff[0])
    a, b = int(ours[k]), int(peer[k])
    x64 = lambda i: x[i].astype(np.float64)
    if method == "kcenter":  # farthest from the prefix wins
        prefix = x[ours[:k]].astype(np.float64)
        va = float(((prefix - x64(a)) ** 2).sum(1).min())
        vb = float(((prefix - x64(b)) ** 2).sum(1).min())
        winner = "ours" if va > vb else "peer" if vb > va else "tie"
    else:  # herding: nearest to t = (k+1) mean - sum(prefix) wins
        t = (k + 1) * x.mean(axis=0, dtype=np.float64) - x[ours[:k]].astype(np.float64).sum(0)
        va = float(((x64(a) - t) ** 2).sum())
        vb = float(((x64(b) - t) ** 2).sum())
        winner = "ours" if va < vb else "peer" if vb < va else "tie"
    print(f"no: first difference at pick {k} of {len(ours)} (ours {a}, numpy {b}); in float64 the two "
          f"candidates' squared distances are {va:.10f} and {vb:.10f} (relative gap {abs(va - vb) / max(va, vb):.1e}), "
          f"favouring {winner}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--kcenter", default="600,6000")
    ap.add_argument("--herding", default="600")
    ap.add_argument("--init-index", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out-dir", default=".")
    ap.add_argument("--compare", nargs=3, metavar=("METHOD", "OURS_TXT", "PEER_NPY"),
                    help="only compare two pick sequences on STORE (see compare())")
    args = ap.parse_args()
    if args.compare:
        x = h5py.File(args.store, "r")["features"][...]
        compare(x, *args.compare)
        return
    ks = [int(v) for v in args.kcenter.split(",") if v]
    hs = [int(v) for v in args.herding.split(",") if v]

    x = h5py.File(args.store, "r")["features"][...]
    assert x.dtype == np.float32
    print(f"# numpy {np.__version__}, {x.shape[0]} x {x.shape[1]} float32, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')} "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}", flush=True)

    for k in ks:
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            sq = np.einsum("ij,ij->i", x, x)
            picks, radius = kcenter(x, sq, k, args.init_index)
            times.append(time.perf_counter() - t0)
        np.save(os.path.join(args.out_dir, f"peer_kcenter_{k}.npy"), picks)
        print(f"kcenter  K={k:<6d} median {np.median(times):8.3f} s  ({len(times)} runs, min {min(times):.3f})  "
              f"covering_radius {radius:.4f}", flush=True)

    for k in hs:
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            sq = np.einsum("ij,ij->i", x, x)
            mean = x.mean(axis=0, dtype=np.float64)
            picks, gap = herding(x, sq, mean, k)
            times.append(time.perf_counter() - t0)
        np.save(os.path.join(args.out_dir, f"peer_herding_{k}.npy"), picks)
        rng = np.random.default_rng(0)
        mean = x.mean(axis=0, dtype=np.float64)
        rand = [float(np.linalg.norm(mean - x[rng.choice(x.shape[0], k, replace=False)].mean(0, dtype=np.float64)))
                for _ in range(20)]
        print(f"herding  K={k:<6d} median {np.median(times):8.3f} s  ({len(times)} runs, min {min(times):.3f})  "
              f"mean_gap {gap:.4f}  (random {k}-subsets: {np.mean(rand):.4f})", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The scikit-learn peer of bench_typiclust: TypiClust as its authors' code does it, with
KMeans(n_clusters=budget, n_init=1, max_iter=iterations) started from kmeans_plusplus(...,
n_local_trials=local_trials) (1: plain k-means++, libsubset typiclust's seeding beyond 1000 clusters;
0: scikit-learn's own default, 2 + ln k, the greedy seeding), and, in each cluster,
NearestNeighbors(n_neighbors=min(20, size // 2) + 1) for the typicality (inverse mean Euclidean
distance to the neighbours, the point itself left out). Prints the wall time of the whole
selection and of the k-means alone (data already in memory).

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 tests/benchmarks/peers_typiclust.py STORE \\
        [--budget 6000] [--iterations 20] [--neighbours 20] [--local-trials 1] [--seed 0]
"""
import argparse
import time

import h5py
import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.neighbors import NearestNeighbors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--budget", type=int, default=6000)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--neighbours", type=int, default=20)
    ap.add_argument("--local-trials", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    with h5py.File(a.store, "r") as f:
        x = np.ascontiguousarray(f["features"][...], dtype=np.float32)
    t0 = time.perf_counter()
    centres, _ = kmeans_plusplus(x, a.budget, random_state=a.seed,
                                 n_local_trials=a.local_trials if a.local_trials > 0 else None)
    km = KMeans(n_clusters=a.budget, init=centres, n_init=1, max_iter=a.iterations, algorithm="lloyd",
                random_state=a.seed).fit(x)
    t_kmeans = time.perf_counter() - t0
    order = np.lexsort((np.arange(a.budget), -np.bincount(km.labels_, minlength=a.budget)))
    picks = []
    for c in order:
        rows = np.flatnonzero(km.labels_ == c)
        m = min(a.neighbours, len(rows) // 2)
        if len(rows) == 0:
            continue
        if m == 0:
            picks.append(rows[0])
            continue
        dist, _ = NearestNeighbors(n_neighbors=m + 1).fit(x[rows]).kneighbors(x[rows])
        picks.append(rows[np.argmin(dist[:, 1:].mean(axis=1))])
    total = time.perf_counter() - t0
    print(f"sklearn D={x.shape[1]} budget={a.budget} seconds={total:.3f} kmeans_seconds={t_kmeans:.3f} "
          f"iterations={km.n_iter_} inertia={km.inertia_:.1f} picks={len(picks)}", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The k-means peers of bench_kmeans: scikit-learn KMeans (Lloyd, k-means++ seeding, one init) and
faiss.Kmeans trained on all points, on a store's /features. Prints, per peer and K, the wall time
of the fit (data already in memory) and the inertia: the sum over all points of the squared
distance to the nearest final centroid, computed the same way for both.

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 tests/benchmarks/peers_kmeans.py STORE \\
        [--k 100,1000] [--iterations 20] [--peers sklearn,faiss] [--seed 0]

Debian's python3-sklearn and python3-faiss.
"""
import argparse
import time

import faiss
import h5py
import numpy as np
from sklearn.cluster import KMeans


def inertia(x, centroids):
    """Sum over all points of the squared distance to the nearest centroid (exact search)."""
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(np.ascontiguousarray(centroids, dtype=np.float32))
    d, _ = index.search(x, 1)
    return float(d.astype(np.float64).sum())


def run_sklearn(x, k, iterations, seed):
    t = time.perf_counter()
    # The configuration of the issue (default tol=1e-4: it may stop before max_iter; n_iter_ says).
    km = KMeans(n_clusters=k, init="k-means++", n_init=1, max_iter=iterations, algorithm="lloyd",
                random_state=seed).fit(x)
    s = time.perf_counter() - t
    return s, float(km.inertia_), km.n_iter_


def run_faiss(x, k, iterations, seed):
    t = time.perf_counter()
    # max_points_per_centroid raised: train on all n points (FAISS samples 256 per centroid by default).
    km = faiss.Kmeans(x.shape[1], k, niter=iterations, seed=seed + 1, verbose=False,
                      max_points_per_centroid=x.shape[0], min_points_per_centroid=1)
    km.train(x)
    s = time.perf_counter() - t
    return s, inertia(x, km.centroids), iterations


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--k", default="100,1000")
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--peers", default="sklearn,faiss")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    with h5py.File(a.store, "r") as f:
        x = np.ascontiguousarray(f["features"][...], dtype=np.float32)
    print(f"# peers: {x.shape[0]} x {x.shape[1]}, scikit-learn {__import__('sklearn').__version__}, "
          f"faiss {faiss.__version__}, faiss omp threads {faiss.omp_get_max_threads()}", flush=True)
    runners = {"sklearn": run_sklearn, "faiss": run_faiss}
    for k in (int(v) for v in a.k.split(",")):
        for peer in a.peers.split(","):
            s, value, it = runners[peer](x, k, a.iterations, a.seed)
            print(f"{peer} K={k} iterations={it} seconds={s:.3f} inertia={value:.1f}", flush=True)


if __name__ == "__main__":
    main()

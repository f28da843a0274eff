#!/usr/bin/python3
"""The compression peers of bench_compress: scikit-learn's PCA (full and randomized solvers),
GaussianRandomProjection and SparseRandomProjection, on a store's /features (data in memory).
Prints, per task, the wall time and the quality figure computed as bench_compress does:

    pca-full, pca-randomized   time of PCA(K, svd_solver=...).fit(X); explained = sum of
                               explained_variance_ratio_
    gaussian-rp, sparse-rp     time of fit_transform(X); distance_ratio = mean over the pairs of the
                               first SAMPLE rows of ||y_i - y_j|| / ||x_i - x_j||

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 tests/benchmarks/peers_compress.py STORE \\
        [--k 64] [--tasks pca-full,pca-randomized,gaussian-rp,sparse-rp] [--seed 0] [--sample 1000]

Debian's python3-sklearn.
"""
import argparse
import time

import h5py
import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection


def distance_ratio(x, y, sample):
    xs, ys = x[:sample].astype(np.float64), np.asarray(y[:sample], dtype=np.float64)
    gx, gy = xs @ xs.T, ys @ ys.T
    i, j = np.triu_indices(sample, 1)
    dx = np.diag(gx)[i] + np.diag(gx)[j] - 2 * gx[i, j]
    dy = np.diag(gy)[i] + np.diag(gy)[j] - 2 * gy[i, j]
    keep = dx > 0
    return float(np.mean(np.sqrt(np.maximum(dy[keep], 0) / dx[keep])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--k", type=int, default=64)
    ap.add_argument("--tasks", default="pca-full,pca-randomized,gaussian-rp,sparse-rp")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sample", type=int, default=1000)
    a = ap.parse_args()
    with h5py.File(a.store, "r") as f:
        x = np.ascontiguousarray(f["features"][...], dtype=np.float32)
    print(f"# peers: {x.shape[0]} x {x.shape[1]}, scikit-learn {sklearn.__version__}, numpy {np.__version__}",
          flush=True)
    for task in a.tasks.split(","):
        if task.startswith("pca-"):
            t = time.perf_counter()
            pca = PCA(n_components=a.k, svd_solver=task[4:], random_state=a.seed).fit(x)
            s = time.perf_counter() - t
            print(f"sklearn task={task} K={a.k} seconds={s:.4f} explained={pca.explained_variance_ratio_.sum():.6f}",
                  flush=True)
        else:
            cls = GaussianRandomProjection if task == "gaussian-rp" else SparseRandomProjection
            t = time.perf_counter()
            y = cls(n_components=a.k, random_state=a.seed).fit_transform(x)
            s = time.perf_counter() - t
            if hasattr(y, "toarray"):
                y = y.toarray()
            print(f"sklearn task={task} K={a.k} seconds={s:.4f} distance_ratio={distance_ratio(x, y, a.sample):.4f}",
                  flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""libsubset's PCA inside a scikit-learn pipeline, with a grid search over its dimension, on
Fashion-MNIST.

    PYTHONPATH=build/python /usr/bin/python3 python_scripts/sklearn_pipeline.py \\
        [--store fmnist.h5 | --dataset-dir /usr/share/datasets/fashion-mnist] \\
        [--train-rows 10000] [--test-rows 2000] [--components 16,32,64] [--cv 3] [--compare-sklearn] [--json]

The rows come from a feature store (`subset import fashion-mnist -o fmnist.h5`, read with h5py) or
straight from the IDX files (pixels / 255, as the store holds them). The first --train-rows rows of
the training split are searched with GridSearchCV over pca__n_components (cross-validated accuracy
of a logistic regression on the PCA codes); the best pipeline, refitted on all of them, is scored
on the first --test-rows rows of the test split. --compare-sklearn runs the same search with
sklearn.decomposition.PCA (full SVD) for comparison. Needs numpy and scikit-learn (Debian
python3-sklearn); h5py for --store.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from import_fashion_mnist import read_idx  # python_scripts/: the IDX reader of the reference importer


def load_rows(args):
    """(X, y, X_test, y_test): float32 rows and int64 labels, the first rows of each split."""
    if args.store:
        import h5py
        with h5py.File(args.store, "r") as f:
            if "test" not in f or "labels" not in f:
                raise SystemExit(f"error: {args.store} needs /labels and a /test split (subset import fashion-mnist)")
            x = f["features"][: args.train_rows]
            y = f["labels"][: args.train_rows]
            xt = f["test/features"][: args.test_rows]
            yt = f["test/labels"][: args.test_rows]
    else:
        d = args.dataset_dir

        def images(name, rows):
            return read_idx(os.path.join(d, name))[:rows].reshape(-1, 784).astype(np.float32) / np.float32(255)

        x = images("train-images-idx3-ubyte.gz", args.train_rows)
        y = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))[: args.train_rows].astype(np.int64)
        xt = images("t10k-images-idx3-ubyte.gz", args.test_rows)
        yt = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"))[: args.test_rows].astype(np.int64)
    return (np.ascontiguousarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64),
            np.ascontiguousarray(xt, dtype=np.float32), np.asarray(yt, dtype=np.int64))


def search(pca, components, x, y, xt, yt, args):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([("pca", pca), ("clf", LogisticRegression(max_iter=args.max_iter))])
    grid = GridSearchCV(pipe, {"pca__n_components": components}, cv=args.cv, n_jobs=1)
    t0 = time.perf_counter()
    grid.fit(x, y)
    seconds = time.perf_counter() - t0
    return {
        "best_n_components": int(grid.best_params_["pca__n_components"]),
        "cv_accuracy": {int(k): float(s) for k, s in zip(grid.cv_results_["param_pca__n_components"],
                                                         grid.cv_results_["mean_test_score"])},
        "test_accuracy": float(grid.score(xt, yt)),
        "explained_variance_ratio_sum": float(np.sum(grid.best_estimator_.named_steps["pca"].explained_variance_ratio_)),
        "seconds": seconds,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = ap.add_mutually_exclusive_group()
    source.add_argument("--store", help="feature store with /labels and a /test split")
    source.add_argument("--dataset-dir", default="/usr/share/datasets/fashion-mnist",
                        help="directory of the Fashion-MNIST IDX .gz files (default: %(default)s)")
    ap.add_argument("--train-rows", type=int, default=10000, help="rows of the training split searched on")
    ap.add_argument("--test-rows", type=int, default=2000, help="rows of the test split scored")
    ap.add_argument("--components", default="16,32,64", help="pca__n_components grid, comma-separated")
    ap.add_argument("--cv", type=int, default=3, help="cross-validation folds")
    ap.add_argument("--max-iter", type=int, default=200, help="LogisticRegression's max_iter")
    ap.add_argument("--seed", type=int, default=0, help="libsubset.PCA's seed")
    ap.add_argument("--threads", type=int, default=None, help="libsubset's threads (default: all cores)")
    ap.add_argument("--compare-sklearn", action="store_true", help="also search with sklearn.decomposition.PCA")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    if args.train_rows < 2 * args.cv or args.test_rows < 1:
        ap.error("--train-rows must be at least 2 x --cv and --test-rows at least 1")
    try:
        components = [int(c) for c in args.components.split(",") if c.strip()]
    except ValueError:
        ap.error(f"--components must be integers separated by commas, got {args.components!r}")
    if not components:
        ap.error("--components is empty")

    import warnings

    import libsubset
    from sklearn.exceptions import ConvergenceWarning

    x, y, xt, yt = load_rows(args)
    results = {"train_rows": int(len(x)), "test_rows": int(len(xt)), "dim": int(x.shape[1])}
    with warnings.catch_warnings():
        # A few lbfgs iterations short of convergence change nothing this example shows.
        warnings.simplefilter("ignore", ConvergenceWarning)
        results["libsubset"] = search(libsubset.PCA(seed=args.seed, threads=args.threads), components, x, y, xt, yt,
                                      args)
        if args.compare_sklearn:
            from sklearn.decomposition import PCA
            results["sklearn"] = search(PCA(svd_solver="full"), components, x, y, xt, yt, args)

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{results['train_rows']} training rows ({results['dim']} features), {results['test_rows']} test rows, "
          f"{args.cv}-fold grid over n_components {components}")
    for name in ("libsubset", "sklearn"):
        if name not in results:
            continue
        r = results[name]
        scores = ", ".join(f"{k}: {v:.4f}" for k, v in r["cv_accuracy"].items())
        print(f"  {name + ' PCA':14s} cv accuracy {{{scores}}}; best n_components {r['best_n_components']} "
              f"(explained variance {r['explained_variance_ratio_sum']:.3f}), test accuracy {r['test_accuracy']:.4f}, "
              f"{r['seconds']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

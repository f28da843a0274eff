"""python_scripts/sklearn_pipeline.py, run small: libsubset's PCA in a scikit-learn Pipeline with
GridSearchCV on Fashion-MNIST, against the same search with scikit-learn's PCA (the oracle), from
a store made by `subset import fashion-mnist` and from the IDX files (the same rows)."""
import json
import os
import subprocess
import sys

import pytest

from subset_testing import REAL_FASHION_DIR, SOURCE_DIR, assert_ok

pytest.importorskip("sklearn")
SCRIPT = os.path.join(SOURCE_DIR, "python_scripts", "sklearn_pipeline.py")
SMALL = ["--train-rows", "1000", "--test-rows", "300", "--components", "8,32", "--cv", "2", "--max-iter", "100",
         "--threads", "2"]


def run_script(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    proc = subprocess.run([sys.executable, SCRIPT, *[str(a) for a in args]], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def fashion_store(run, tmp_path_factory):
    if not os.path.isdir(REAL_FASHION_DIR):
        pytest.skip(f"{REAL_FASHION_DIR} is not installed (Debian dataset-fashion-mnist)")
    path = tmp_path_factory.mktemp("fmnist") / "fmnist.h5"
    assert_ok(run("import", "fashion-mnist", "--dataset-dir", REAL_FASHION_DIR, "-o", path))
    return str(path)


def test_pipeline_grid_search_on_fashion_mnist(fashion_store):
    rc, out, err = run_script("--store", fashion_store, *SMALL, "--compare-sklearn", "--json")
    assert rc == 0, err
    r = json.loads(out)
    assert (r["train_rows"], r["test_rows"], r["dim"]) == (1000, 300, 784)
    ours, theirs = r["libsubset"], r["sklearn"]
    assert set(ours["cv_accuracy"]) == {"8", "32"}
    # scikit-learn's PCA finds the same subspaces: the same scores to within a few rows' flips.
    assert ours["best_n_components"] == theirs["best_n_components"]
    for k in ("8", "32"):
        assert ours["cv_accuracy"][k] == pytest.approx(theirs["cv_accuracy"][k], abs=0.01)
    assert ours["test_accuracy"] == pytest.approx(theirs["test_accuracy"], abs=0.01)
    assert ours["explained_variance_ratio_sum"] == pytest.approx(theirs["explained_variance_ratio_sum"], abs=1e-4)
    assert ours["test_accuracy"] > 0.7  # Fashion-MNIST, 32 components, a linear classifier

    # The IDX files directly: the same rows, so the same search results.
    rc, out, err = run_script("--dataset-dir", REAL_FASHION_DIR, *SMALL, "--json")
    assert rc == 0, err
    direct = json.loads(out)["libsubset"]
    for key in ("best_n_components", "cv_accuracy", "test_accuracy", "explained_variance_ratio_sum"):
        assert direct[key] == ours[key], key


def test_pipeline_text_output_and_usage_errors(fashion_store):
    rc, out, err = run_script("--store", fashion_store, "--train-rows", "600", "--test-rows", "100", "--components",
                              "4", "--cv", "2", "--max-iter", "50")
    assert rc == 0, err
    assert "libsubset PCA" in out and "best n_components 4" in out and "sklearn" not in out
    rc, out, err = run_script("--store", fashion_store, "--components", "a,b")
    assert rc == 2 and "--components" in err
    rc, out, err = run_script("--store", fashion_store, "--train-rows", "3", "--cv", "2")
    assert rc == 2 and "--train-rows" in err

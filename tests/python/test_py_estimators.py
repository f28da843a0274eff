"""libsubset's scikit-learn-style estimators (tools/python/libsubset/estimators.py).

Oracles: scikit-learn's PCA (explained variance, subspace, reconstruction error) and
johnson_lindenstrauss_min_dim; numpy (a projection is X R^T); the CLI (`subset compress` on a store
holding the same rows: the same model arrays, and --apply of a model saved from Python gives the
codes the estimator gives, and the other way round; `subset select` for CoresetSelector)."""
import math
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest

import libsubset
from libsubset import _native
from subset_testing import assert_no_partials, assert_ok

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.decomposition import PCA as SkPCA  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

SEED = 7
N, D = 400, 24


def make_data(n=N, d=D, rank=6, seed=0):
    """Rows near a rank-`rank` subspace (distinct variances) plus noise, 3 classes."""
    rng = np.random.RandomState(seed)
    z = rng.standard_normal((n, rank)) * np.linspace(4.0, 1.0, rank)
    x = z @ rng.standard_normal((rank, d)) + 0.3 * rng.standard_normal((n, d)) + 2.0
    y = (z[:, 0] > 0.5).astype(np.int64) + (z[:, 1] > 0).astype(np.int64)
    return np.ascontiguousarray(x, dtype=np.float32), y


def features_of(path, dataset="features"):
    with h5py.File(path, "r") as f:
        return f[dataset][()]


def model_arrays(path):
    with h5py.File(path, "r") as f:
        return {name: f[name][()] for name in f.keys()}, dict(f.attrs)


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def store(run, data, tmp_path_factory):
    """A store holding exactly the rows of `data` (and its labels)."""
    d = tmp_path_factory.mktemp("store")
    x, y = data
    np.save(d / "x.npy", x)
    np.save(d / "y.npy", y)
    path = d / "s.h5"
    assert_ok(run("import", d / "x.npy", "--labels", d / "y.npy", "-o", path))
    assert np.array_equal(features_of(path), x)
    return str(path)


# ---- against scikit-learn ------------------------------------------------------------------------

@pytest.mark.parametrize("solver", ["exact", "randomized"])
def test_pca_matches_sklearn(data, solver):
    x, _ = data
    k = 5
    est = libsubset.PCA(n_components=k, solver=solver, seed=SEED, threads=2).fit(x)
    sk = SkPCA(n_components=k, svd_solver="full").fit(x.astype(np.float64))
    assert est.n_components_ == k and est.n_features_in_ == D
    assert est.components_.shape == (k, D) and est.components_.dtype == np.float32
    np.testing.assert_allclose(est.explained_variance_ratio_, sk.explained_variance_ratio_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(est.explained_variance_, sk.explained_variance_, rtol=1e-4)
    np.testing.assert_allclose(est.mean_, sk.mean_, rtol=1e-5, atol=1e-5)
    # The same subspace, component by component up to sign (our signs follow svd_flip, so they
    # normally agree too; the test does not insist).
    signs = np.sign(np.sum(est.components_ * sk.components_, axis=1))
    np.testing.assert_allclose(est.components_ * signs[:, None], sk.components_, atol=2e-4)
    codes = est.transform(x)
    assert codes.shape == (N, k) and codes.dtype == np.float32
    np.testing.assert_allclose(codes * signs, sk.transform(x.astype(np.float64)), rtol=1e-4, atol=2e-3)
    back = est.inverse_transform(codes)
    sk_back = sk.inverse_transform(sk.transform(x.astype(np.float64)))
    mse, sk_mse = np.mean((back - x) ** 2), np.mean((sk_back - x) ** 2)
    assert mse == pytest.approx(sk_mse, rel=1e-3)
    assert est.reconstruction_error_ == pytest.approx(sk_mse, rel=1e-3)


def test_pca_variance_target(data):
    x, _ = data
    ratios = SkPCA(svd_solver="full").fit(x.astype(np.float64)).explained_variance_ratio_
    for v in (0.5, 0.9, 0.99):
        expected = int(np.searchsorted(np.cumsum(ratios), v) + 1)  # the fewest with a sum >= v
        est = libsubset.PCA(n_components=v).fit(x)
        assert est.n_components_ == expected, v
        assert est.explained_variance_ratio_.sum() >= v
    with pytest.raises(ValueError, match="variance"):
        libsubset.PCA(n_components=0.9, solver="randomized").fit(x)


def test_pca_whiten_unit_variance(data):
    x, _ = data
    codes = libsubset.PCA(n_components=4, whiten=True).fit_transform(x)
    np.testing.assert_allclose(codes.var(axis=0, ddof=1), 1.0, rtol=1e-3)


def test_jl_dimension_and_projection(run, tmp_path):
    x, _ = make_data(n=200, d=400, seed=1)
    for eps in (0.6, 0.8):
        from sklearn.random_projection import johnson_lindenstrauss_min_dim
        sk_k = int(johnson_lindenstrauss_min_dim(200, eps=eps))
        exact = 4 * math.log(200) / (eps ** 2 / 2 - eps ** 3 / 3)
        for cls in (libsubset.GaussianRandomProjection, libsubset.SparseRandomProjection):
            est = cls(eps=eps, seed=SEED).fit(x)
            assert est.n_components_ == math.ceil(exact), (cls, eps)
            assert est.n_components_ in (sk_k, sk_k + 1)  # scikit-learn truncates, we round up
            assert est.n_components_ == _native.jl_min_dim(200, eps)
    # An eps whose bound is not below D is refused, as the CLI refuses it.
    with pytest.raises(ValueError, match="eps"):
        libsubset.GaussianRandomProjection(eps=0.1).fit(x)


@pytest.mark.parametrize("cls", [libsubset.GaussianRandomProjection, libsubset.SparseRandomProjection])
def test_random_projection_is_x_times_r(data, cls):
    x, _ = data
    est = cls(n_components=8, seed=SEED).fit(x)
    r = est.components_
    assert r.shape == (8, D)
    np.testing.assert_allclose(est.transform(x), x.astype(np.float64) @ r.T.astype(np.float64), rtol=1e-4, atol=1e-3)
    assert not hasattr(est, "inverse_transform")
    if cls is libsubset.SparseRandomProjection:
        assert est.density_ == pytest.approx(1 / math.sqrt(D))
        scale = math.sqrt(1 / (est.density_ * 8))
        assert set(np.unique(np.round(np.abs(r) / scale, 5))) <= {0.0, 1.0}
    # The same seed draws the same matrix; another seed another one.
    assert np.array_equal(cls(n_components=8, random_state=SEED).fit(x).components_, r)
    assert not np.array_equal(cls(n_components=8, seed=SEED + 1).fit(x).components_, r)


# ---- model files, both directions, against the CLI -----------------------------------------------

METHODS = [
    ("pca", libsubset.PCA, {"n_components": 5, "solver": "exact"}, ["--dim", 5, "--solver", "exact"]),
    ("pca", libsubset.PCA, {"n_components": 4, "solver": "randomized", "whiten": True},
     ["--dim", 4, "--solver", "randomized", "--whiten"]),
    ("gaussian-rp", libsubset.GaussianRandomProjection, {"n_components": 8}, ["--dim", 8]),
    ("sparse-rp", libsubset.SparseRandomProjection, {"n_components": 8, "density": 0.3},
     ["--dim", 8, "--density", 0.3]),
    ("autoencoder", libsubset.Autoencoder, {"n_components": 4, "encoder": "16", "epochs": 2, "batch": 64},
     ["--dim", 4, "--encoder", 16, "--epochs", 2, "--batch", 64]),
]
METHOD_IDS = ["pca-exact", "pca-randomized-whiten", "gaussian-rp", "sparse-rp", "autoencoder"]


def skip_unavailable(method):
    spec = {s["name"]: s for s in _native.transform_methods()}[method]
    if not spec["available"]:
        pytest.skip(f"{method} is not available in this build (libtorch)")


@pytest.mark.parametrize("method,cls,kwargs,cli", METHODS, ids=METHOD_IDS)
def test_saved_from_python_applies_in_cli(run, store, data, tmp_path, method, cls, kwargs, cli):
    skip_unavailable(method)
    x, _ = data
    est = cls(seed=SEED, threads=2, **kwargs).fit(x)
    model = tmp_path / "py_model.h5"
    est.save(model)
    out = tmp_path / "applied.h5"
    assert_ok(run("compress", store, "--apply", model, "-o", out))
    assert np.array_equal(features_of(out), est.transform(x)), "CLI --apply of the Python model"
    # The same fit through the CLI: the same model, bit for bit.
    cli_model = tmp_path / "cli_model.h5"
    assert_ok(run("compress", store, "--method", method, *cli, "--seed", SEED, "-o", tmp_path / "c.h5",
                  "--model-out", cli_model))
    ours, our_attrs = model_arrays(model)
    theirs, their_attrs = model_arrays(cli_model)
    assert sorted(ours) == sorted(theirs)
    for name in ours:
        assert np.array_equal(ours[name], theirs[name]), name
    for attr in ("format", "method", "input_dim", "output_dim", "params", "seed"):
        assert our_attrs[attr] == their_attrs[attr], attr
    assert our_attrs["source"] == "<array>"
    assert our_attrs["source_checksum"] == their_attrs["source_checksum"], "checksum of the same rows"
    assert_no_partials(str(tmp_path))


@pytest.mark.parametrize("method,cls,kwargs,cli", METHODS, ids=METHOD_IDS)
def test_cli_model_loads_in_python(run, store, data, tmp_path, method, cls, kwargs, cli):
    skip_unavailable(method)
    x, _ = data
    model, out = tmp_path / "m.h5", tmp_path / "c.h5"
    assert_ok(run("compress", store, "--method", method, *cli, "--seed", SEED, "-o", out, "--model-out", model))
    est = cls.load(model)
    assert est.n_components_ == kwargs["n_components"] and est.n_features_in_ == D
    assert est.seed == SEED and est.n_components == kwargs["n_components"]
    for name, value in kwargs.items():
        assert est.get_params()[name] == value, name
    codes = est.transform(x)
    assert np.array_equal(codes, features_of(out)), "the CLI's codes"
    assert type(libsubset.load_transform(model)) is cls
    if hasattr(est, "inverse_transform"):
        with h5py.File(out, "r") as f:
            import json
            stats = json.loads(f.attrs["transform"])["stats"]
        mse = float(np.mean((est.inverse_transform(codes).astype(np.float64) - x) ** 2))
        assert mse == pytest.approx(stats["train_mse"], rel=1e-4)
        assert est.reconstruction_error_ == pytest.approx(stats["train_mse"], rel=1e-12)
    # Refitting the loaded estimator's parameters reproduces the model (its get_params are the CLI's).
    refit = clone(est).fit(x)
    assert np.array_equal(refit.transform(x), codes)


def test_pickle_round_trip(data):
    x, _ = data
    est = libsubset.PCA(n_components=3).fit(x)
    again = pickle.loads(pickle.dumps(est))
    assert np.array_equal(again.transform(x), est.transform(x))
    assert np.array_equal(again.components_, est.components_)
    unfitted = pickle.loads(pickle.dumps(libsubset.GaussianRandomProjection(n_components=2)))
    assert unfitted.get_params() == libsubset.GaussianRandomProjection(n_components=2).get_params()


# ---- scikit-learn's protocol ---------------------------------------------------------------------

def test_params_follow_the_schema():
    specs = {s["name"]: s for s in _native.transform_methods()}
    for cls, method in ((libsubset.PCA, "pca"), (libsubset.GaussianRandomProjection, "gaussian-rp"),
                        (libsubset.SparseRandomProjection, "sparse-rp"), (libsubset.Autoencoder, "autoencoder")):
        params = cls().get_params()
        for p in specs[method]["params"]:
            assert p["name"] in params, (cls, p["name"])
            assert params[p["name"]] == p["default"]
            assert p["name"] in cls.__doc__
        assert {"n_components", "seed", "random_state", "threads"} <= set(params)
    assert "power_iterations" in libsubset.PCA().get_params()
    assert "eps" in libsubset.SparseRandomProjection().get_params()
    import inspect
    assert "oversamples" in inspect.signature(libsubset.PCA).parameters


def test_clone_and_set_params():
    est = libsubset.PCA(n_components=3, solver="exact", whiten=True, seed=4)
    twin = clone(est)
    assert twin is not est and twin.get_params() == est.get_params()
    assert twin.set_params(power_iterations=3, n_components=2) is twin
    assert twin.power_iterations == 3 and twin.n_components == 2 and est.power_iterations == 7
    with pytest.raises(ValueError, match="Invalid parameter"):
        twin.set_params(no_such=1)
    with pytest.raises(TypeError, match="no_such"):
        libsubset.PCA(no_such=1)
    assert "whiten=True" in repr(est) and "solver='exact'" in repr(est)


def test_pipeline_grid_search(data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    x, y = data
    pipe = Pipeline([("pca", libsubset.PCA(n_components=2)), ("clf", LogisticRegression(max_iter=500))])
    grid = GridSearchCV(pipe, {"pca__n_components": [1, 2, 6], "pca__solver": ["exact"]}, cv=3).fit(x, y)
    assert len(grid.cv_results_["mean_test_score"]) == 3
    best = grid.best_estimator_.named_steps["pca"]
    assert best.n_components_ == grid.best_params_["pca__n_components"]
    # The same search with scikit-learn's PCA scores the same (the subspaces agree).
    sk = GridSearchCV(Pipeline([("pca", SkPCA(svd_solver="full")), ("clf", LogisticRegression(max_iter=500))]),
                      {"pca__n_components": [1, 2, 6]}, cv=3).fit(x, y)
    np.testing.assert_allclose(grid.cv_results_["mean_test_score"], sk.cv_results_["mean_test_score"], atol=0.02)
    assert grid.best_params_["pca__n_components"] == sk.best_params_["pca__n_components"]
    assert grid.score(x, y) == pytest.approx(sk.score(x, y), abs=0.02)


# ---- errors --------------------------------------------------------------------------------------

def test_bad_inputs(data):
    x, _ = data
    bad = x.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        libsubset.PCA(n_components=2).fit(bad)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        libsubset.PCA(n_components=2).fit(x[:, 0])
    with pytest.raises(ValueError, match="no rows"):
        libsubset.PCA(n_components=2).fit(np.zeros((0, D), np.float32))
    with pytest.raises(ValueError, match="hold numbers"):
        libsubset.PCA(n_components=2).fit(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match=r"below the input dimension 24 \(n_components\)"):
        libsubset.PCA(n_components=D).fit(x)
    with pytest.raises(ValueError, match=r"variance must be in \(0, 1\], got 1.5 \(n_components\)"):
        libsubset.PCA(n_components=1.5).fit(x)
    with pytest.raises(ValueError, match="n_components"):
        libsubset.PCA().fit(x)
    with pytest.raises(ValueError, match="solver"):
        libsubset.PCA(n_components=2, solver="bogus").fit(x)
    with pytest.raises(ValueError, match="random_state"):
        libsubset.GaussianRandomProjection(n_components=2, random_state=np.random.RandomState(0)).fit(x)
    # float64 and Fortran-order input is converted, with the same result.
    est = libsubset.PCA(n_components=2, solver="exact").fit(x)
    assert np.array_equal(est.transform(np.asfortranarray(x.astype(np.float64))), est.transform(x))
    with pytest.raises(ValueError, match="24"):
        est.transform(x[:, :5])
    with pytest.raises(ValueError, match="NaN"):
        est.transform(bad)
    with pytest.raises(ValueError, match="columns|components"):
        est.inverse_transform(x[:, :3])
    assert est.transform(x[:0]).shape == (0, 2)


def test_not_fitted(tmp_path):
    for est in (libsubset.PCA(n_components=2), libsubset.SparseRandomProjection()):
        with pytest.raises(NotFittedError):
            est.transform(np.ones((2, 3), np.float32))
        with pytest.raises(NotFittedError):
            est.save(tmp_path / "m.h5")
    with pytest.raises(NotFittedError):
        libsubset.PCA(n_components=2).inverse_transform(np.ones((2, 2), np.float32))
    assert not os.path.exists(tmp_path / "m.h5")


def test_save_and_load_errors(data, store, tmp_path):
    x, _ = data
    est = libsubset.PCA(n_components=2).fit(x)
    model = tmp_path / "m.h5"
    est.save(model)
    before = model.read_bytes()
    with pytest.raises(FileExistsError):
        est.save(model)
    assert model.read_bytes() == before
    libsubset.PCA(n_components=3).fit(x).save(model, force=True)
    assert libsubset.PCA.load(model).n_components_ == 3
    with pytest.raises(ValueError, match="pca model, not gaussian-rp"):
        libsubset.GaussianRandomProjection.load(model)
    text = tmp_path / "t.txt"
    text.write_text("not a model\n")
    with pytest.raises((OSError, RuntimeError, ValueError)) as info:
        libsubset.PCA.load(text)
    assert "t.txt" in str(info.value)
    with pytest.raises((OSError, RuntimeError, ValueError), match="subset-transform|model"):
        libsubset.PCA.load(store)  # a feature store, not a model
    with pytest.raises(FileNotFoundError):
        libsubset.PCA.load(tmp_path / "missing.h5")
    with pytest.raises(OSError):
        est.save(tmp_path / "no" / "such" / "dir" / "m.h5")
    assert_no_partials(str(tmp_path))


def test_ctrl_c_interrupts_fit(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        import numpy as np
        import libsubset
        # About 40 ms a pass over the rows (the fit checks for Ctrl-C between passes); 102 passes.
        x = np.random.RandomState(0).standard_normal((2000, 1000)).astype(np.float32)
        est = libsubset.PCA(n_components=20, solver="randomized", power_iterations=100, threads=2)
        print("ready", flush=True)
        try:
            est.fit(x)
            print("finished", flush=True)
        except KeyboardInterrupt:
            print("interrupted", time.time(), flush=True)
    """)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=tmp_path, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.7)
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    words = out.split()
    assert words and words[0] == "interrupted", f"stdout: {out!r} stderr: {err!r}"
    delay = float(words[1]) - sent
    assert delay < 1.0, f"KeyboardInterrupt {delay:.2f} s after SIGINT, not within a second"
    assert os.listdir(tmp_path) == []


# ---- CoresetSelector -----------------------------------------------------------------------------

def test_coreset_selector_matches_cli(run, store, data, tmp_path):
    x, y = data
    sel = tmp_path / "sel.h5"
    assert_ok(run("select", store, "--method", "kcenter", "--budget", 20, "--seed", 3, "-o", sel))
    est = libsubset.CoresetSelector(method="kcenter", budget=20, seed=3).fit(x)
    with h5py.File(sel, "r") as f:
        assert np.array_equal(est.indices_, f["indices"][()])
    assert isinstance(est.selection_, libsubset.Selection) and est.n_features_in_ == D
    assert np.array_equal(est.selection_.indices, est.indices_)

    sel2 = tmp_path / "sel2.h5"
    assert_ok(run("select", store, "--method", "kmeans", "--fraction", 0.1, "--per-class", "--seed", 5, "-o", sel2))
    est = libsubset.CoresetSelector(method="kmeans", fraction=0.1, per_class=True, seed=5).fit(x, y)
    with h5py.File(sel2, "r") as f:
        assert np.array_equal(est.indices_, f["indices"][()])
        if "weights" in f:
            assert np.array_equal(est.weights_, f["weights"][()])
        else:
            assert est.weights_ is None
    rows, labels = libsubset.CoresetSelector(method="kmeans", fraction=0.1, per_class=True, seed=5).fit_resample(x, y)
    assert np.array_equal(rows, x[est.indices_]) and np.array_equal(labels, y[est.indices_])


def test_coreset_selector_params():
    specs = {s["name"]: s for s in _native.select_methods()}
    est = libsubset.CoresetSelector(method="kmeans", fraction=0.1)
    params = est.get_params()
    for p in specs["kmeans"]["params"]:
        assert params[p["name"]] == p["default"], p["name"]
        assert p["name"] in libsubset.CoresetSelector.__doc__
    twin = clone(est)
    assert twin.get_params() == params
    # Switching the method switches the parameter set (GridSearchCV sets method first).
    other = next(name for name, s in specs.items() if s["params"] and
                 {p["name"] for p in s["params"]} - {p["name"] for p in specs["kmeans"]["params"]})
    extra = next(p for p in specs[other]["params"] if p["name"] not in params)
    twin.set_params(method=other, **{extra["name"]: extra["default"]})
    assert extra["name"] in twin.get_params() and twin.method == other
    with pytest.raises(ValueError, match="Invalid parameter"):
        twin.set_params(no_such=1)
    with pytest.raises(TypeError, match="no_such"):
        libsubset.CoresetSelector(method="kcenter", no_such=1)
    with pytest.raises(ValueError, match="unknown method"):
        libsubset.CoresetSelector(method="nope", fraction=0.1).fit(np.ones((5, 2), np.float32))


def test_works_without_sklearn():
    """The package imports and the estimators work with scikit-learn absent; not fitted is then a
    ValueError (and AttributeError), as scikit-learn's NotFittedError is."""
    script = textwrap.dedent("""
        import sys
        sys.modules["sklearn"] = None  # import sklearn raises ImportError
        import numpy as np
        import libsubset
        x = np.random.RandomState(0).standard_normal((30, 5)).astype(np.float32)
        est = libsubset.PCA(n_components=2)
        try:
            est.transform(x)
        except ValueError as e:
            print(type(e).__name__, isinstance(e, AttributeError))
        print(est.fit(x).transform(x).shape, est.get_params()["solver"])
    """)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    proc = subprocess.run([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["_FallbackNotFittedError True", "(30, 2) auto"]

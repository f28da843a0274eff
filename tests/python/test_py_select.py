"""libsubset.select against `subset select`: the same rows and seed give the same selection file,
for every method, from an array in memory and from a store path; and its errors, conversions,
threads, progress and Ctrl-C behave as documented (docs/python.md)."""
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from subset_testing import assert_ok

libsubset = pytest.importorskip("libsubset")

ROWS, DIM, CLASSES = 240, 8, 3
BUDGET = 24


@pytest.fixture(scope="module")
def store(tmp_path_factory, run):
    """A labelled store of clustered points, made by `subset import` from .npy files."""
    d = tmp_path_factory.mktemp("select_store")
    rng = np.random.default_rng(7)
    labels = np.arange(ROWS) % CLASSES
    centres = rng.normal(size=(CLASSES * 4, DIM)) * 4
    features = (centres[labels * 4 + rng.integers(0, 4, ROWS)] + rng.normal(size=(ROWS, DIM))).astype(np.float32)
    np.save(d / "x.npy", features)
    np.save(d / "y.npy", labels.astype(np.int64))
    path = d / "store.h5"
    assert_ok(run("import", d / "x.npy", "--labels", d / "y.npy", "-o", path))
    with h5py.File(path, "r") as f:
        return str(path), f["/features"][...], f["/labels"][...]


def cli_selection(run, tmp_path, store_path, *args):
    out = tmp_path / f"cli-{len(os.listdir(tmp_path))}.sel.h5"
    assert_ok(run("select", store_path, *args, "-o", out))
    with h5py.File(out, "r") as f:
        get = lambda name: f[name][...] if name in f else None  # noqa: E731
        return get("/indices"), get("/weights"), get("/scores")


def same_as_cli(selection, cli):
    indices, weights, scores = cli
    np.testing.assert_array_equal(selection.indices, indices)
    for mine, theirs in ((selection.weights, weights), (selection.scores, scores)):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            np.testing.assert_array_equal(mine, theirs)


METHODS = [spec["name"] for spec in libsubset._native.select_methods()]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_the_cli_selection(method, store, run, tmp_path):
    path, X, y = store
    cli = cli_selection(run, tmp_path, path, "--method", method, "--budget", BUDGET, "--seed", 3)
    same_as_cli(libsubset.select(X, y, method=method, budget=BUDGET, seed=3), cli)
    same_as_cli(libsubset.select(path, method=method, budget=BUDGET, seed=3), cli)


def test_per_class_fraction_and_parameters_match_the_cli(store, run, tmp_path):
    path, X, y = store
    cli = cli_selection(run, tmp_path, path, "--method", "kmeans", "--per-class", "--fraction", "0.1", "--seed", 5,
                        "--iterations", 7)
    same_as_cli(libsubset.select(X, y, method="kmeans", fraction=0.1, per_class=True, seed=5, iterations=7), cli)


def test_already_selected_rows_come_first_and_kcenter_covers_from_them(store):
    _, X, _ = store
    seed_rows = np.array([5, 17, 230])
    mine = libsubset.select(X, method="kcenter", budget=12, already_selected=seed_rows)
    np.testing.assert_array_equal(mine.indices[:3], seed_rows)
    # Brute-force farthest-first from the seed rows (float64): the oracle for the 9 added rows.
    chosen = list(seed_rows)
    nearest = np.min(((X[:, None, :].astype(np.float64) - X[chosen][None, :, :]) ** 2).sum(-1), axis=1)
    while len(chosen) < 12:
        pick = int(np.argmax(nearest))
        chosen.append(pick)
        nearest = np.minimum(nearest, ((X.astype(np.float64) - X[pick]) ** 2).sum(-1))
    np.testing.assert_array_equal(mine.indices, chosen)


def test_an_array_selection_saved_is_a_file_extract_accepts(store, run, tmp_path):
    path, X, y = store
    sel = libsubset.select(X, y, method="herding", budget=10)
    assert sel.manifest["source_checksum"] == h5py.File(path, "r")["/features"].attrs["checksum"]
    assert sel.energy is not None and sel.energy["kwh"] >= 0 and sel.stats["seconds"] >= 0
    saved = tmp_path / "py.sel.h5"
    sel.save(saved)
    out = tmp_path / "subset.h5"
    assert_ok(run("extract", path, "--selection", saved, "-o", out))
    with h5py.File(out, "r") as f:
        np.testing.assert_array_equal(f["/features"][...], X[sel.indices])
    again = libsubset.Selection.load(saved)
    np.testing.assert_array_equal(again.indices, sel.indices)
    assert again.method == "herding" and again.manifest["budget"] == 10
    with pytest.raises(FileExistsError, match="already exists"):
        sel.save(saved)
    sel.save(saved, force=True)


@pytest.mark.parametrize("convert", [
    lambda X: X.astype(np.float64),
    lambda X: np.asfortranarray(X),
    lambda X: X.tolist(),
    lambda X: np.repeat(X, 2, axis=1)[:, ::2],  # a strided view
])
def test_any_numeric_array_gives_the_float32_selection(store, convert):
    _, X, y = store
    expected = libsubset.select(X, method="kcenter", budget=BUDGET).indices
    np.testing.assert_array_equal(libsubset.select(convert(X), method="kcenter", budget=BUDGET).indices, expected)


def test_a_torch_tensor_is_read_as_its_numpy_view(store):
    torch = pytest.importorskip("torch")
    _, X, y = store
    expected = libsubset.select(X, y, method="kmeans", budget=BUDGET).indices
    tensor = torch.from_numpy(X.copy()).requires_grad_(True)
    got = libsubset.select(tensor, torch.from_numpy(y), method="kmeans", budget=BUDGET).indices
    np.testing.assert_array_equal(got, expected)


def test_thread_count_does_not_change_the_selection(store):
    _, X, y = store
    one = libsubset.select(X, method="kmeans", budget=BUDGET, threads=1)
    two = libsubset.select(X, method="kmeans", budget=BUDGET, threads=2)
    np.testing.assert_array_equal(one.indices, two.indices)
    np.testing.assert_array_equal(one.weights, two.weights)


@pytest.mark.parametrize("call, error, needle", [
    (lambda X, y: libsubset.select(X, budget=5, fraction=0.1), ValueError, "exactly one of"),
    (lambda X, y: libsubset.select(X, budget=10_000), ValueError, r"exceeds the 240 points in X \(budget\)"),
    (lambda X, y: libsubset.select(X, fraction=1.5), ValueError, r"fraction"),
    (lambda X, y: libsubset.select(X, method="nope", budget=5), ValueError, "unknown method 'nope'; known: "),
    (lambda X, y: libsubset.select(X, method="kmeans", budget=5, iterations=0), ValueError, "iterations"),
    (lambda X, y: libsubset.select(X, method="kmeans", budget=5, iterations="many"), ValueError, "iterations"),
    (lambda X, y: libsubset.select(X, method="kcenter", budget=5, wibble=1), TypeError, "wibble"),
    (lambda X, y: libsubset.select(X, y[:-1], budget=5), ValueError, "one label per row"),
    (lambda X, y: libsubset.select(X, budget=5, per_class=True), ValueError, "needs labels"),
    (lambda X, y: libsubset.select(X, -y - 1, budget=5), ValueError, ">= 0"),
    (lambda X, y: libsubset.select(X[0], budget=1), ValueError, "rows and features"),
    (lambda X, y: libsubset.select(X, budget=5, seed=-1), ValueError, "seed"),
    (lambda X, y: libsubset.select(X, budget=5, threads=-2), ValueError, "threads"),
    (lambda X, y: libsubset.select(X, budget=5, energy={"region": "XX"}), ValueError, "XX"),
    (lambda X, y: libsubset.select(X, budget=5, already_selected=[1, 1]), ValueError, "lists row 1 2 times"),
    (lambda X, y: libsubset.select("/nonexistent/store.h5", budget=5), FileNotFoundError, "no such file"),
    (lambda X, y: libsubset.Selection.load("/nonexistent.sel.h5"), FileNotFoundError, "no such file"),
    (lambda X, y: libsubset.select(X, budget=5, memory_limit="1G"), ValueError, "apply to a store path"),
])
def test_bad_arguments_raise_with_the_cli_message(store, call, error, needle):
    _, X, y = store
    with pytest.raises(error, match=needle):
        call(X, y)


def test_memory_limit_reaches_the_plan_of_subset_select(store):
    path, _, _ = store
    free = libsubset.select(path, method="kcenter", budget=BUDGET)
    roomy = libsubset.select(path, method="kcenter", budget=BUDGET, memory_limit=64 * 2**30)
    np.testing.assert_array_equal(free.indices, roomy.indices)
    # Less than the interpreter already holds: no plan fits, and nothing is read.
    with pytest.raises(ValueError, match="too small"):
        libsubset.select(path, method="kcenter", budget=BUDGET, memory_limit="2M")
    for bad in ("lots", -1, True, 1.5):
        with pytest.raises(ValueError, match="memory_limit"):
            libsubset.select(path, method="kcenter", budget=BUDGET, memory_limit=bad)


def test_non_finite_features_are_refused_naming_the_row(store):
    _, X, _ = store
    bad = X.copy()
    bad[17, 2] = np.nan
    with pytest.raises(RuntimeError, match="NaN or Inf in features at row 17"):
        libsubset.select(bad, budget=5)


def test_progress_reaches_a_callback_and_its_exception_cancels_the_call(store):
    _, X, _ = store
    big = np.repeat(X, 200, axis=0) + np.random.default_rng(0).normal(size=(ROWS * 200, DIM)).astype(np.float32)
    seen = []
    libsubset.select(big, method="kcenter", budget=2000, progress=lambda d, t, m: seen.append((d, t, m)))
    assert seen and all(m is None and 0 <= d <= t for d, t, m in seen)

    class Stop(Exception):
        pass

    def stop(done, total, message):
        raise Stop()

    start = time.monotonic()
    with pytest.raises(Stop):
        libsubset.select(big, method="kcenter", budget=20000, progress=stop)
    assert time.monotonic() - start < 5


def test_help_lists_every_parameter_of_every_method():
    text = libsubset.select.__doc__
    for spec in libsubset._native.select_methods():
        assert f"  {spec['name']}: " in text
        for p in spec["params"]:
            assert f"    {p['name']}: {p['label']} = " in text


CTRL_C = r"""
import sys, time, numpy as np, libsubset
X = np.random.default_rng(0).normal(size=(200000, 64)).astype(np.float32)
print("ready", flush=True)
try:
    libsubset.select(X, method="kcenter", budget=100000, progress=False)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(3)
print("finished", flush=True)
"""


def test_ctrl_c_raises_keyboard_interrupt_within_a_second(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(libsubset.__file__)))
    proc = subprocess.Popen([sys.executable, "-c", CTRL_C], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=tmp_path)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 1.5, "took too long to stop"
    assert proc.returncode == 3, (out, err)
    assert out.strip() == "interrupted"

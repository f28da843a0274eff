"""`subset select`: every option, each with a good and a bad value. A bad value fails with one
`error:` line on stderr and a non-zero exit, writes nothing, and leaves pre-existing outputs exactly
as they were. What is written is read back with h5py and numpy alone."""
import json
import os
import re
import zlib

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_no_partials, assert_ok, file_digest

N = 60
D = 4
SIZES = (30, 20, 10)          # an imbalanced labelled store
CLASS_NAMES = ["cat", "dog", "eel"]
SENTINEL = b"pre-existing output: must survive a failed select byte for byte\n"


def _labels():
    labels = np.repeat(np.arange(3, dtype=np.int64), SIZES)
    return np.random.RandomState(5).permutation(labels)


LABELS = _labels()
X = (np.arange(N * D, dtype=np.float32).reshape(N, D) / 7.0 - 3.0).astype(np.float32)


def write_store(path, labels=LABELS, class_names=CLASS_NAMES, extra=True, test=True):
    """A v1 store written with h5py alone (no checksum attribute: libsubset must stream it)."""
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        ds = f.create_dataset("features", data=X, chunks=(16, D))
        ds.attrs["image_shape"] = np.array([1, 2, 2], np.int64)
        if labels is not None:
            lds = f.create_dataset("labels", data=labels)
            if class_names is not None:
                lds.attrs["class_names"] = class_names
        if test:
            f.create_dataset("test/features", data=X[:7] * 2)
            f.create_dataset("test/labels", data=np.array([0, 1, 2, 0, 1, 2, 0], np.int64))
        if extra:
            f.create_dataset("emb", data=np.arange(N * 2, dtype=np.float32).reshape(N, 2))
            f.create_dataset("emb_short", data=np.zeros((N - 1, D), np.float32))
    return str(path)


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    d = tmp_path_factory.mktemp("select-stores")
    gap = LABELS.copy()
    gap[gap == 1] = 2  # class 1 ("dog") has no points, though class_names names it
    return {
        "main": write_store(d / "main.h5"),
        "nolabels": write_store(d / "nolabels.h5", labels=None, test=False),
        "gap": write_store(d / "gap.h5", labels=gap),
    }


def read_selection(path):
    with h5py.File(path, "r") as f:
        out = {"attrs": {k: f.attrs[k] for k in f.attrs}, "indices": f["indices"][()], "dtype": f["indices"].dtype}
        for name in ("weights", "scores"):
            out[name] = f[name][()] if name in f else None
    for k, v in list(out["attrs"].items()):
        if isinstance(v, bytes):
            out["attrs"][k] = v.decode()
    return out


def class_counts(indices):
    return list(np.bincount(LABELS[indices], minlength=3))


def select_ok(run, store, out, *args):
    text = assert_ok(run("select", store, *args, "-o", out))
    assert os.path.isfile(out)
    return read_selection(out), text


def check_bad(run, out_dir, args, *needles, existing=True):
    """`subset select` with `args` must fail cleanly: one error line naming every needle, nothing
    new in out_dir, and a pre-existing output (and index lists) untouched."""
    out = out_dir / "sel.h5"
    if existing:
        out.write_bytes(SENTINEL)
    before = {name: file_digest(out_dir / name) for name in os.listdir(out_dir)}
    line = assert_error(run("select", *args), *needles)
    after = {name: file_digest(out_dir / name) for name in os.listdir(out_dir)}
    assert after == before, f"a failed select changed {out_dir}: {sorted(set(after) ^ set(before))}"
    assert_no_partials(str(out_dir))
    return line


# ---- what a selection file holds --------------------------------------------------------------

def test_selection_file_readable_by_h5py(run, stores, out_dir):
    sel, text = select_ok(run, stores["main"], str(out_dir / "sel.h5"), "--method", "random", "--budget", "10")
    idx = sel["indices"]
    assert sel["dtype"] == np.dtype("<i8")
    assert idx.shape == (10,) and len(set(idx.tolist())) == 10
    assert idx.min() >= 0 and idx.max() < N
    a = sel["attrs"]
    assert a["format"] == "subset-selection" and int(a["format_version"]) == 1
    assert a["method"] == "random"
    assert json.loads(a["params"]) == {}
    assert a["seed"] == "0"  # the default, stored as text
    assert int(a["budget"]) == 10 and int(a["per_class"]) == 0 and int(a["source_n"]) == N
    assert a["features_dataset"] == "/features"
    assert a["source"] == stores["main"]
    # The store was written by h5py without a checksum attribute: CRC-32 of the row bytes.
    assert a["source_checksum"] == "crc32:%08x" % zlib.crc32(X.tobytes())
    assert "libsubset" in a["created_by"]
    json.loads(a["stats"])
    assert sel["weights"] is None and sel["scores"] is None
    assert f"selected 10 of {N} rows with random" in text and str(out_dir / "sel.h5") in text


# ---- STORE (positional) -------------------------------------------------------------------------

def test_store_missing_or_invalid(run, stores, out_dir, tmp_path):
    check_bad(run, out_dir, [str(tmp_path / "nope.h5"), "-m", "random", "-k", "3", "-o", out_dir / "sel.h5"],
              "nope.h5")
    text = tmp_path / "text.h5"
    text.write_text("not hdf5\n")
    check_bad(run, out_dir, [text, "-m", "random", "-k", "3", "-o", out_dir / "sel.h5"], "text.h5")
    check_bad(run, out_dir, ["-m", "random", "-k", "3", "-o", out_dir / "sel.h5"], "store")


# ---- --method / -m ------------------------------------------------------------------------------

@pytest.mark.parametrize("method,budget,counts", [
    ("balanced", 15, [5, 5, 5]),
    ("balanced", 16, [6, 5, 5]),        # the remainder to the lowest class id
    ("balanced", 35, [13, 12, 10]),     # class 2 has 10: its unused share goes to the others
    ("stratified", 15, [8, 5, 2]),      # quotas 7.5, 5, 2.5: the tie goes to class 0
    ("stratified", 6, [3, 2, 1]),
])
def test_method_class_counts(run, stores, out_dir, method, budget, counts):
    sel, _ = select_ok(run, stores["main"], str(out_dir / "sel.h5"), "-m", method, "-k", str(budget))
    assert class_counts(sel["indices"]) == counts
    assert sel["attrs"]["method"] == method
    assert json.loads(sel["attrs"]["stats"])["class_budget"] == counts


def test_method_unknown_lists_the_known_ones(run, stores, out_dir):
    line = check_bad(run, out_dir, [stores["main"], "--method", "frobnicate", "-k", "3", "-o", out_dir / "sel.h5"],
                     "unknown method 'frobnicate'", "random", "balanced", "stratified")
    assert "--method" in line


def test_method_required(run, stores, out_dir):
    check_bad(run, out_dir, [stores["main"], "-k", "3", "-o", out_dir / "sel.h5"], "--method")


def test_method_needing_labels_on_store_without(run, stores, out_dir):
    for method in ("balanced", "stratified"):
        check_bad(run, out_dir, [stores["nolabels"], "-m", method, "-k", "3", "-o", out_dir / "sel.h5"],
                  "needs labels")


def test_method_on_a_class_without_points(run, stores, out_dir):
    # --force: the class check comes after the output checks, and a failed run must not touch the
    # existing output even when allowed to replace it.
    for method in ("balanced", "stratified"):
        check_bad(run, out_dir, [stores["gap"], "-m", method, "-k", "3", "-o", out_dir / "sel.h5", "--force"],
                  "class 1 has no points")
        assert (out_dir / "sel.h5").read_bytes() == SENTINEL


# ---- --budget / -k ------------------------------------------------------------------------------

def test_budget_long_and_short(run, stores, out_dir):
    a, _ = select_ok(run, stores["main"], str(out_dir / "a.h5"), "-m", "random", "--budget", "7")
    b, _ = select_ok(run, stores["main"], str(out_dir / "b.h5"), "-m", "random", "-k", "7")
    assert np.array_equal(a["indices"], b["indices"]) and len(a["indices"]) == 7
    c, _ = select_ok(run, stores["main"], str(out_dir / "c.h5"), "-m", "random", "-k", str(N))
    assert sorted(c["indices"].tolist()) == list(range(N))


@pytest.mark.parametrize("value,needles", [
    ("0", ["budget must be at least 1"]),
    ("-2", ["budget must be at least 1"]),
    (str(N + 1), ["exceeds", str(N)]),
    ("abc", ["--budget"]),
    ("3.5", ["--budget"]),
])
def test_budget_bad(run, stores, out_dir, value, needles):
    check_bad(run, out_dir, [stores["main"], "-m", "random", "--budget", value, "-o", out_dir / "sel.h5"], *needles)


# ---- --fraction / -f ----------------------------------------------------------------------------

@pytest.mark.parametrize("fraction,expected", [("0.25", 15), ("0.125", 8), ("1", N), ("0.001", 1), ("0.99", 59)])
def test_fraction(run, stores, out_dir, fraction, expected):
    sel, _ = select_ok(run, stores["main"], str(out_dir / "sel.h5"), "-m", "random", "--fraction", fraction)
    assert len(sel["indices"]) == expected and int(sel["attrs"]["budget"]) == expected
    short, _ = select_ok(run, stores["main"], str(out_dir / "short.h5"), "-m", "random", "-f", fraction)
    assert np.array_equal(short["indices"], sel["indices"])


@pytest.mark.parametrize("value", ["0", "1.5", "-0.5", "nan", "inf"])
def test_fraction_out_of_range(run, stores, out_dir, value):
    check_bad(run, out_dir, [stores["main"], "-m", "random", "--fraction", value, "-o", out_dir / "sel.h5"],
              "fraction must be in (0, 1]")


def test_fraction_not_a_number(run, stores, out_dir):
    check_bad(run, out_dir, [stores["main"], "-m", "random", "--fraction", "half", "-o", out_dir / "sel.h5"],
              "--fraction")


def test_budget_and_fraction_exactly_one(run, stores, out_dir):
    check_bad(run, out_dir, [stores["main"], "-m", "random", "-k", "3", "-f", "0.5", "-o", out_dir / "sel.h5"],
              "exactly one of --budget and --fraction")
    check_bad(run, out_dir, [stores["main"], "-m", "random", "-o", out_dir / "sel.h5"],
              "exactly one of --budget and --fraction")


# ---- --per-class --------------------------------------------------------------------------------

def test_per_class(run, stores, out_dir):
    sel, text = select_ok(run, stores["main"], str(out_dir / "sel.h5"), "-m", "random", "-k", "16", "--per-class")
    assert class_counts(sel["indices"]) == [6, 5, 5]
    assert int(sel["attrs"]["per_class"]) == 1
    assert "per class" in text
    # Every prefix of three holds one point of each class.
    labels = LABELS[sel["indices"]]
    for p in range(0, 15, 3):
        assert sorted(labels[p:p + 3].tolist()) == [0, 1, 2]
    # Stratified within classes: the per-class split is balanced, not proportional.
    strat, _ = select_ok(run, stores["main"], str(out_dir / "strat.h5"), "-m", "stratified", "-k", "15",
                         "--per-class")
    assert class_counts(strat["indices"]) == [5, 5, 5]


def test_per_class_without_labels(run, stores, out_dir):
    check_bad(run, out_dir, [stores["nolabels"], "-m", "random", "-k", "3", "--per-class", "-o", out_dir / "sel.h5"],
              "--per-class needs labels")


def test_per_class_with_a_class_without_points(run, stores, out_dir):
    check_bad(run, out_dir, [stores["gap"], "-m", "random", "-k", "3", "--per-class", "-o", out_dir / "sel.h5",
                             "--force", "--indices-out", out_dir / "idx.txt"], "class 1 has no points")
    assert (out_dir / "sel.h5").read_bytes() == SENTINEL


def test_per_class_flag_takes_no_value(run, stores, out_dir):
    check_bad(run, out_dir, [stores["main"], "-m", "random", "-k", "3", "--per-class=maybe", "-o", out_dir / "sel.h5"],
              "--per-class")


# ---- --seed -------------------------------------------------------------------------------------

def test_seed(run, stores, out_dir):
    a, _ = select_ok(run, stores["main"], str(out_dir / "a.h5"), "-m", "random", "-k", "10", "--seed", "42")
    b, _ = select_ok(run, stores["main"], str(out_dir / "b.h5"), "-m", "random", "-k", "10", "--seed", "42")
    c, _ = select_ok(run, stores["main"], str(out_dir / "c.h5"), "-m", "random", "-k", "10", "--seed", "43")
    assert np.array_equal(a["indices"], b["indices"])
    assert not np.array_equal(a["indices"], c["indices"])
    assert a["attrs"]["seed"] == "42"
    big, _ = select_ok(run, stores["main"], str(out_dir / "big.h5"), "-m", "balanced", "-k", "9",
                       "--seed", "18446744073709551615")
    assert big["attrs"]["seed"] == "18446744073709551615"  # all 64 bits, as text


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "18446744073709551616"])
def test_seed_bad(run, stores, out_dir, value):
    check_bad(run, out_dir, [stores["main"], "-m", "random", "-k", "3", "--seed", value, "-o", out_dir / "sel.h5"],
              "--seed")


def test_same_selection_at_any_thread_count(run, stores, out_dir):
    for method in ("random", "balanced", "stratified"):
        one, _ = select_ok(run, stores["main"], str(out_dir / "one.h5"), "-m", method, "-k", "12", "--seed", "3")
        assert_ok(run("--threads", "2", "select", stores["main"], "-m", method, "-k", "12", "--seed", "3",
                      "-o", out_dir / "two.h5"))
        assert np.array_equal(one["indices"], read_selection(out_dir / "two.h5")["indices"])
        os.remove(out_dir / "one.h5")
        os.remove(out_dir / "two.h5")


# ---- --features ---------------------------------------------------------------------------------

def test_features_dataset_recorded(run, stores, out_dir):
    sel, _ = select_ok(run, stores["main"], str(out_dir / "sel.h5"), "-m", "random", "-k", "5", "--features", "/emb")
    assert sel["attrs"]["features_dataset"] == "/emb"
    # The checksum is still that of /features, so the selection extracts from this store.
    assert sel["attrs"]["source_checksum"] == "crc32:%08x" % zlib.crc32(X.tobytes())


@pytest.mark.parametrize("value,needles", [
    ("/nope", ["/nope"]),
    ("/emb_short", ["/emb_short", str(N - 1)]),
    ("/labels", ["/labels"]),
])
def test_features_bad(run, stores, out_dir, value, needles):
    for method in ("random", "balanced"):
        check_bad(run, out_dir, [stores["main"], "-m", method, "-k", "3", "--features", value,
                                 "-o", out_dir / "sel.h5"], *needles)


# ---- --output / -o ------------------------------------------------------------------------------

def test_output_long_and_short(run, stores, out_dir):
    assert_ok(run("select", stores["main"], "-m", "random", "-k", "3", "--output", out_dir / "long.h5"))
    assert_ok(run("select", stores["main"], "-m", "random", "-k", "3", "-o", out_dir / "short.h5"))
    assert np.array_equal(read_selection(out_dir / "long.h5")["indices"], read_selection(out_dir / "short.h5")["indices"])
    assert sorted(os.listdir(out_dir)) == ["long.h5", "short.h5"]


def test_output_required(run, stores, out_dir):
    check_bad(run, out_dir, [stores["main"], "-m", "random", "-k", "3"], "--output", existing=False)


def test_output_existing_refused_without_force(run, stores, out_dir):
    line = check_bad(run, out_dir, [stores["main"], "-m", "random", "-k", "3", "-o", out_dir / "sel.h5"], "sel.h5")
    assert "force" in line.lower() or "exists" in line.lower()
    assert (out_dir / "sel.h5").read_bytes() == SENTINEL


def test_output_in_missing_directory(run, stores, out_dir):
    check_bad(run, out_dir, [stores["main"], "-m", "random", "-k", "3", "-o", out_dir / "missing" / "sel.h5"],
              "missing")


# ---- --force ------------------------------------------------------------------------------------

def test_force_replaces_both_outputs(run, stores, out_dir):
    (out_dir / "sel.h5").write_bytes(SENTINEL)
    (out_dir / "idx.txt").write_bytes(SENTINEL)
    sel, _ = select_ok(run, stores["main"], str(out_dir / "sel.h5"), "-m", "random", "-k", "4",
                       "--indices-out", out_dir / "idx.txt", "--force")
    assert len(sel["indices"]) == 4
    assert (out_dir / "idx.txt").read_text() == "".join(f"{i}\n" for i in sel["indices"])


def test_force_flag_takes_no_value(run, stores, out_dir):
    check_bad(run, out_dir, [stores["main"], "-m", "random", "-k", "3", "--force=maybe", "-o", out_dir / "sel.h5"],
              "--force")
    assert (out_dir / "sel.h5").read_bytes() == SENTINEL


# ---- --indices-out ------------------------------------------------------------------------------

def test_indices_out_txt(run, stores, out_dir):
    sel, _ = select_ok(run, stores["main"], str(out_dir / "sel.h5"), "-m", "stratified", "-k", "9",
                       "--indices-out", out_dir / "idx.txt")
    text = (out_dir / "idx.txt").read_text()
    assert text.endswith("\n")
    assert [int(line) for line in text.splitlines()] == sel["indices"].tolist()
    assert np.array_equal(np.loadtxt(out_dir / "idx.txt", dtype=np.int64), sel["indices"])


def test_indices_out_npy(run, stores, out_dir):
    sel, _ = select_ok(run, stores["main"], str(out_dir / "sel.h5"), "-m", "balanced", "-k", "11",
                       "--indices-out", out_dir / "idx.npy")
    arr = np.load(out_dir / "idx.npy", allow_pickle=False)
    assert arr.dtype == np.dtype("<i8") and arr.shape == (11,)
    assert np.array_equal(arr, sel["indices"])


@pytest.mark.parametrize("name", ["idx.csv", "idx.npz", "idx"])
def test_indices_out_bad_extension(run, stores, out_dir, name):
    check_bad(run, out_dir, [stores["main"], "-m", "random", "-k", "3", "--indices-out", out_dir / name,
                             "-o", out_dir / "new.h5"], ".txt or .npy")
    assert not (out_dir / "new.h5").exists()


def test_indices_out_existing_refused_and_selection_not_written(run, stores, out_dir):
    (out_dir / "idx.npy").write_bytes(SENTINEL)
    check_bad(run, out_dir, [stores["main"], "-m", "random", "-k", "3", "--indices-out", out_dir / "idx.npy",
                             "-o", out_dir / "new.h5"], "idx.npy", existing=False)
    assert (out_dir / "idx.npy").read_bytes() == SENTINEL
    assert not (out_dir / "new.h5").exists()


# ---- --json -------------------------------------------------------------------------------------

JSON_KEYS = {"method", "params", "seed", "per_class", "n_selected", "n_source", "source", "output", "weighted",
             "seconds", "stats"}


def test_json(run, stores, out_dir):
    rc, out, err = run("select", stores["main"], "-m", "stratified", "-k", "12", "--seed", "18446744073709551615",
                       "--per-class", "-o", out_dir / "sel.h5", "--json")
    assert rc == 0, err
    assert err == ""
    obj, end = json.JSONDecoder().raw_decode(out)
    assert out[end:].strip() == ""
    assert JSON_KEYS <= set(obj), JSON_KEYS - set(obj)
    assert obj["method"] == "stratified" and obj["params"] == {}
    assert obj["seed"] == 18446744073709551615
    assert obj["per_class"] is True
    assert obj["n_selected"] == 12 and obj["n_source"] == N
    assert obj["source"] == stores["main"] and obj["output"] == str(out_dir / "sel.h5")
    assert obj["weighted"] is False
    assert isinstance(obj["seconds"], (int, float)) and obj["seconds"] >= 0
    assert obj["stats"]["class_budget"] == [4, 4, 4]


def test_json_flag_takes_no_value(run, stores, out_dir):
    check_bad(run, out_dir, [stores["main"], "-m", "random", "-k", "3", "--json=maybe", "-o", out_dir / "sel.h5"],
              "--json")


def test_json_on_error_is_still_one_error_line(run, stores, out_dir):
    check_bad(run, out_dir, [stores["main"], "-m", "random", "-k", "0", "--json", "-o", out_dir / "sel.h5"],
              "budget must be at least 1")


# ---- method parameters --------------------------------------------------------------------------

def method_options(run):
    """(option, owners) for every method parameter listed by `subset select --help`."""
    out = assert_ok(run("select", "--help"))
    return [(m.group(1), m.group(2).split(",")) for m in re.finditer(r"^\s+(--[a-z][a-z0-9-]*) \S+\s+\[([a-z,]+)\]",
                                                                       out, re.M)]


def test_parameter_of_another_method_is_refused(run, stores, out_dir):
    options = [(opt, owners) for opt, owners in method_options(run) if "random" not in owners]
    if not options:
        pytest.skip("no registered method declares parameters")
    for opt, _ in options:
        check_bad(run, out_dir, [stores["main"], "-m", "random", "-k", "3", opt, "1", "-o", out_dir / "sel.h5"],
                  opt, "does not apply to method random")


def test_unknown_option(run, stores, out_dir):
    check_bad(run, out_dir, [stores["main"], "-m", "random", "-k", "3", "--bogus", "1", "-o", out_dir / "sel.h5"],
              "--bogus")


def test_help_lists_methods_and_options(run):
    out = assert_ok(run("select", "--help"))
    for word in ("random", "balanced", "stratified", "--budget", "--fraction", "--per-class", "--seed", "--features",
                 "--indices-out", "--force", "--json"):
        assert word in out


# ---- global options with select ----------------------------------------------------------------

def test_quiet_select_prints_nothing_on_stderr(run, stores, out_dir):
    rc, out, err = run("--quiet", "select", stores["main"], "-m", "random", "-k", "3", "-o", out_dir / "sel.h5")
    assert rc == 0 and err == ""
    assert "selected 3" in out


# ---- --centroids-out (kmeans) ------------------------------------------------------------------

def test_centroids_out_writes_the_kmeans_centroids_as_a_store(run, tmp_path, out_dir):
    # Random blobs: no equidistant points, so the nearest-centroid oracle below is unambiguous.
    rng = np.random.RandomState(11)
    x = (rng.randn(90, 6) + np.repeat(rng.randn(5, 6) * 6, 18, axis=0)).astype(np.float32)
    y = np.repeat(np.arange(3, dtype=np.int64), 30)
    store = tmp_path / "blobs.h5"
    with h5py.File(store, "w") as f:
        f.create_dataset("features", data=x)
        f.create_dataset("labels", data=y)
        f.create_dataset("test/features", data=x[:4])
    cent = out_dir / "centroids.h5"
    sel, _ = select_ok(run, str(store), out_dir / "sel.h5", "-m", "kmeans", "-k", "5", "--seed", "3",
                       "--iterations", "100", "--centroids-out", cent)
    assert json.loads(sel["attrs"]["stats"])["converged"]
    with h5py.File(cent, "r") as f:
        c = f["features"][()]
        assert c.shape == (5, 6) and c.dtype == np.float32
        # Converged Lloyd: each centroid is the mean of the points nearest to it (numpy oracle).
        nearest = ((x[:, None, :].astype(np.float64) - c[None, :, :]) ** 2).sum(-1).argmin(1)
        for j in range(5):
            assert np.allclose(c[j], x[nearest == j].mean(0), atol=1e-4)
        weights = f["weights"][()]
        np.testing.assert_array_equal(weights, sel["weights"])
        np.testing.assert_array_equal(weights, np.bincount(nearest, minlength=5))
        np.testing.assert_array_equal(f["labels"][()], y[sel["indices"]])
        assert f["test/features"].shape == (4, 6)


def test_centroids_out_rejected_for_a_method_without_centroids(run, stores, out_dir):
    cent = out_dir / "centroids.h5"
    check_bad(run, out_dir, [stores["main"], "-m", "kcenter", "-k", "5", "-o", out_dir / "sel.h5", "--force",
                             "--centroids-out", cent], "--centroids-out", "kcenter")
    assert not cent.exists()


def test_centroids_out_existing_refused_before_any_work(run, stores, out_dir):
    cent = out_dir / "centroids.h5"
    cent.write_bytes(SENTINEL)
    check_bad(run, out_dir, [stores["main"], "-m", "kmeans", "-k", "5", "-o", out_dir / "new.h5",
                             "--centroids-out", cent], "already exists", existing=False)
    assert cent.read_bytes() == SENTINEL


def test_non_finite_features_named_by_row_for_methods_that_read_them(run, tmp_path, out_dir):
    x = X.copy()
    x[13, 2] = np.nan
    store = tmp_path / "nan.h5"
    with h5py.File(store, "w") as f:
        f.create_dataset("features", data=x)
        f.create_dataset("labels", data=LABELS)
    check_bad(run, out_dir, [store, "-m", "kcenter", "-k", "3", "-o", out_dir / "sel.h5", "--force"],
              "nan or inf", "row 13")

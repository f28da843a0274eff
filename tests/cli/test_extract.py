"""`subset extract`: the rows of a selection as a store of their own, read back with h5py; every
option with a good and a bad value; selections made from another store are refused, and a failure
writes nothing and leaves a pre-existing output exactly as it was."""
import json
import os
import zlib

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_no_partials, assert_ok, file_digest

N = 40
D = 6
SENTINEL = b"pre-existing output: must survive a failed extract byte for byte\n"
X = (np.random.RandomState(3).standard_normal((N, D)) * 10).astype(np.float32)
X[5, 2] = np.float32(1.0) / np.float32(3.0)  # bit patterns that a float round trip would change
X[6, 0] = np.float32(-0.0)
LABELS = (np.arange(N) * 7 % 4).astype(np.int64)
TEST_X = (np.arange(5 * D, dtype=np.float32).reshape(5, D) / 9.0).astype(np.float32)
TEST_Y = np.array([3, 2, 1, 0, 3], np.int64)
CLASS_NAMES = ["north", "east", "south", "west"]


def write_store(path, features=X, labels=LABELS, test=True, image_shape=(1, 2, 3)):
    """A v1 store written with h5py alone."""
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        ds = f.create_dataset("features", data=features, chunks=(7, D))
        if image_shape is not None:
            ds.attrs["image_shape"] = np.array(image_shape, np.int64)
        if labels is not None:
            f.create_dataset("labels", data=labels).attrs["class_names"] = CLASS_NAMES
        if test:
            f.create_dataset("test/features", data=TEST_X)
            f.create_dataset("test/labels", data=TEST_Y)
        f.create_dataset("emb", data=np.arange(N * 2, dtype=np.float32).reshape(N, 2))
    return str(path)


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    d = tmp_path_factory.mktemp("extract-stores")
    other = X.copy()
    other[17, 4] += 1.0  # same shape, one value different
    return {
        "main": write_store(d / "main.h5"),
        "other": write_store(d / "other.h5", features=other),
        "bigger": write_store(d / "bigger.h5", features=np.vstack([X, X[:1]]), labels=np.append(LABELS, 0)),
        "bare": write_store(d / "bare.h5", labels=None, test=False, image_shape=None),
    }


@pytest.fixture(scope="module")
def selections(run, stores, tmp_path_factory):
    d = tmp_path_factory.mktemp("extract-selections")
    s = {
        "random": str(d / "random.h5"),
        "balanced": str(d / "balanced.h5"),
        "other": str(d / "other.h5"),
        "bare": str(d / "bare.h5"),
        "emb": str(d / "emb.h5"),
    }
    assert_ok(run("select", stores["main"], "-m", "random", "-k", "13", "--seed", "5", "-o", s["random"]))
    assert_ok(run("select", stores["main"], "-m", "balanced", "-k", "8", "-o", s["balanced"]))
    assert_ok(run("select", stores["other"], "-m", "random", "-k", "13", "--seed", "5", "-o", s["other"]))
    assert_ok(run("select", stores["bare"], "-m", "random", "-k", "4", "-o", s["bare"]))
    assert_ok(run("select", stores["main"], "-m", "random", "-k", "6", "--features", "/emb", "-o", s["emb"]))
    # A weighted selection: the random one plus /weights, written with h5py.
    weighted = str(d / "weighted.h5")
    with h5py.File(s["random"], "r") as src, h5py.File(weighted, "w") as dst:
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        dst.create_dataset("indices", data=src["indices"][()])
        dst.create_dataset("weights", data=np.linspace(0.5, 6.5, 13, dtype=np.float32))
    s["weighted"] = weighted
    return s


def indices_of(selection):
    with h5py.File(selection, "r") as f:
        return f["indices"][()]


def read_out(path):
    out = {}
    with h5py.File(path, "r") as f:
        out["attrs"] = {k: f.attrs[k] for k in f.attrs}
        out["features"] = f["features"][()]
        out["dtype"] = f["features"].dtype
        out["image_shape"] = f["features"].attrs["image_shape"].tolist() if "image_shape" in f["features"].attrs else None
        out["labels"] = f["labels"][()] if "labels" in f else None
        out["class_names"] = ([c.decode() if isinstance(c, bytes) else c for c in f["labels"].attrs["class_names"]]
                              if "labels" in f and "class_names" in f["labels"].attrs else None)
        out["weights"] = f["weights"][()] if "weights" in f else None
        out["test_features"] = f["test/features"][()] if "test" in f else None
        out["test_labels"] = f["test/labels"][()] if "test" in f and "labels" in f["test"] else None
    return out


def same_bits(a, b):
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


def check_bad(run, out_dir, args, *needles, existing=True):
    out = out_dir / "small.h5"
    if existing:
        out.write_bytes(SENTINEL)
    before = {name: file_digest(out_dir / name) for name in os.listdir(out_dir)}
    line = assert_error(run("extract", *args), *needles)
    after = {name: file_digest(out_dir / name) for name in os.listdir(out_dir)}
    assert after == before, f"a failed extract changed {out_dir}"
    assert_no_partials(str(out_dir))
    return line


# ---- what extract writes ------------------------------------------------------------------------

def test_rows_in_selection_order_equal_the_source_rows(run, stores, selections, out_dir):
    out = out_dir / "small.h5"
    text = assert_ok(run("extract", stores["main"], "--selection", selections["random"], "--output", out))
    idx = indices_of(selections["random"])
    got = read_out(out)
    assert got["dtype"] == np.dtype("<f4")
    assert same_bits(got["features"], X[idx])
    assert np.array_equal(got["labels"], LABELS[idx])
    assert got["class_names"] == CLASS_NAMES
    assert got["image_shape"] == [1, 2, 3]
    assert got["weights"] is None
    assert got["attrs"]["format"] in ("subset-store", b"subset-store")
    assert str(out) in text and "13 x 6" in text
    assert sorted(os.listdir(out_dir)) == ["small.h5"]


def test_test_split_copied(run, stores, selections, out_dir):
    assert_ok(run("extract", stores["main"], "-s", selections["balanced"], "-o", out_dir / "small.h5"))
    got = read_out(out_dir / "small.h5")
    assert same_bits(got["test_features"], TEST_X)
    assert np.array_equal(got["test_labels"], TEST_Y)
    assert list(np.bincount(got["labels"], minlength=4)) == [2, 2, 2, 2]


def test_weights_dataset(run, stores, selections, out_dir):
    assert_ok(run("extract", stores["main"], "-s", selections["weighted"], "-o", out_dir / "small.h5"))
    got = read_out(out_dir / "small.h5")
    assert got["weights"].dtype == np.dtype("<f4")
    assert np.array_equal(got["weights"], np.linspace(0.5, 6.5, 13, dtype=np.float32))
    assert same_bits(got["features"], X[indices_of(selections["weighted"])])


def test_store_without_labels_or_test_split(run, stores, selections, out_dir):
    assert_ok(run("extract", stores["bare"], "-s", selections["bare"], "-o", out_dir / "small.h5"))
    got = read_out(out_dir / "small.h5")
    assert got["labels"] is None and got["test_features"] is None and got["image_shape"] is None
    assert same_bits(got["features"], X[indices_of(selections["bare"])])


def test_selection_made_in_another_feature_space(run, stores, selections, out_dir):
    # Selected in /emb; the rows extracted are still those of /features.
    assert_ok(run("extract", stores["main"], "-s", selections["emb"], "-o", out_dir / "small.h5"))
    assert same_bits(read_out(out_dir / "small.h5")["features"], X[indices_of(selections["emb"])])


def test_output_is_a_store_subset_reads(run, stores, selections, out_dir):
    assert_ok(run("extract", stores["main"], "-s", selections["random"], "-o", out_dir / "small.h5"))
    rc, out, err = run("info", out_dir / "small.h5", "--json")
    assert rc == 0, err
    info = json.loads(out)
    assert info["n"] == 13 and info["dim"] == D and info["test_n"] == 5
    # A store of its own: selecting from it works.
    assert_ok(run("select", out_dir / "small.h5", "-m", "random", "-k", "3", "-o", out_dir / "again.h5"))


# ---- --json -------------------------------------------------------------------------------------

def test_json(run, stores, selections, out_dir):
    rc, out, err = run("extract", stores["main"], "-s", selections["weighted"], "-o", out_dir / "small.h5", "--json")
    assert rc == 0, err
    obj, end = json.JSONDecoder().raw_decode(out)
    assert out[end:].strip() == ""
    for key in ("path", "n", "dim", "class_names", "class_counts", "test_n", "checksum", "has_weights", "source"):
        assert key in obj, key
    assert obj["n"] == 13 and obj["dim"] == D and obj["test_n"] == 5
    assert obj["has_weights"] is True
    assert obj["class_names"] == CLASS_NAMES
    assert obj["path"] == str(out_dir / "small.h5")
    # The output's checksum is the CRC-32 of its own rows.
    assert obj["checksum"] == "crc32:%08x" % zlib.crc32(X[indices_of(selections["weighted"])].tobytes())


def test_json_flag_takes_no_value(run, stores, selections, out_dir):
    check_bad(run, out_dir, [stores["main"], "-s", selections["random"], "-o", out_dir / "small.h5", "--json=maybe"],
              "--json")


# ---- STORE (positional) and --selection / -s ------------------------------------------------------

def test_selection_from_another_store_refused(run, stores, selections, out_dir):
    line = check_bad(run, out_dir, [stores["main"], "-s", selections["other"], "-o", out_dir / "small.h5"],
                     "checksum")
    assert "another store" in line


def test_selection_from_a_store_of_another_size_refused(run, stores, selections, out_dir):
    check_bad(run, out_dir, [stores["bigger"], "-s", selections["random"], "-o", out_dir / "small.h5"],
              str(N), str(N + 1))


def test_store_missing_or_not_a_store(run, stores, selections, out_dir, tmp_path):
    check_bad(run, out_dir, [tmp_path / "nope.h5", "-s", selections["random"], "-o", out_dir / "small.h5"], "nope.h5")
    check_bad(run, out_dir, [selections["random"], "-s", selections["random"], "-o", out_dir / "small.h5"])
    check_bad(run, out_dir, ["-s", selections["random"], "-o", out_dir / "small.h5"], "store")


def test_selection_missing_or_not_a_selection(run, stores, selections, out_dir, tmp_path):
    check_bad(run, out_dir, [stores["main"], "-s", tmp_path / "nope.h5", "-o", out_dir / "small.h5"], "nope.h5")
    check_bad(run, out_dir, [stores["main"], "--selection", stores["other"], "-o", out_dir / "small.h5"],
              "not a selection file")
    check_bad(run, out_dir, [stores["main"], "-o", out_dir / "small.h5"], "--selection")


def test_selection_with_bad_indices_refused(run, stores, selections, out_dir, tmp_path):
    bad = tmp_path / "dup.h5"
    with h5py.File(selections["random"], "r") as src, h5py.File(bad, "w") as dst:
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        idx = src["indices"][()]
        idx[1] = idx[0]
        dst.create_dataset("indices", data=idx)
    check_bad(run, out_dir, [stores["main"], "-s", bad, "-o", out_dir / "small.h5"], "appears twice")
    with h5py.File(bad, "r+") as f:
        del f["indices"]
        f.create_dataset("indices", data=np.array([0, N], np.int64))
    check_bad(run, out_dir, [stores["main"], "-s", bad, "-o", out_dir / "small.h5"], "out of range")


# ---- --output / -o and --force ------------------------------------------------------------------

def test_output_existing_refused_without_force(run, stores, selections, out_dir):
    check_bad(run, out_dir, [stores["main"], "-s", selections["random"], "-o", out_dir / "small.h5"], "small.h5")
    assert (out_dir / "small.h5").read_bytes() == SENTINEL


def test_force_replaces(run, stores, selections, out_dir):
    (out_dir / "small.h5").write_bytes(SENTINEL)
    assert_ok(run("extract", stores["main"], "-s", selections["random"], "-o", out_dir / "small.h5", "--force"))
    assert same_bits(read_out(out_dir / "small.h5")["features"], X[indices_of(selections["random"])])
    assert sorted(os.listdir(out_dir)) == ["small.h5"]


def test_force_flag_takes_no_value(run, stores, selections, out_dir):
    check_bad(run, out_dir, [stores["main"], "-s", selections["random"], "-o", out_dir / "small.h5", "--force=maybe"],
              "--force")
    assert (out_dir / "small.h5").read_bytes() == SENTINEL


def test_output_required_and_directory_must_exist(run, stores, selections, out_dir):
    check_bad(run, out_dir, [stores["main"], "-s", selections["random"]], "--output", existing=False)
    check_bad(run, out_dir, [stores["main"], "-s", selections["random"], "-o", out_dir / "missing" / "small.h5"],
              "missing")


def test_output_long_and_short(run, stores, selections, out_dir):
    assert_ok(run("extract", stores["main"], "-s", selections["random"], "--output", out_dir / "a.h5"))
    assert_ok(run("extract", stores["main"], "--selection", selections["random"], "-o", out_dir / "b.h5"))
    assert same_bits(read_out(out_dir / "a.h5")["features"], read_out(out_dir / "b.h5")["features"])


def test_unknown_option(run, stores, selections, out_dir):
    check_bad(run, out_dir, [stores["main"], "-s", selections["random"], "-o", out_dir / "small.h5", "--bogus"],
              "--bogus")

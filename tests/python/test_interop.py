"""Interoperability with plain h5py/numpy: h5py reads every dataset and attribute that `subset`
writes as docs/format.md documents them, and `subset` reads stores written with h5py by code that
knows only docs/format.md's layout."""
import json
import os
import subprocess

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_ok, make_fixtures

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]


def info_json(run, path, *extra):
    rc, out, err = run("info", path, "--json", *extra)
    assert rc == 0, err
    return json.loads(out)


# ---- h5py reads what subset writes ----------------------------------------------------------------

def check_root_attrs(f):
    fmt = f.attrs["format"]
    assert isinstance(fmt, str) and fmt == "subset-store", repr(fmt)
    version = f.attrs["format_version"]
    assert np.ndim(version) == 0 and np.issubdtype(np.asarray(version).dtype, np.integer)
    assert np.asarray(version).dtype == np.int64 and int(version) == 1
    for name in ("source", "created_by"):
        assert isinstance(f.attrs[name], str) and f.attrs[name]
    assert f.attrs["created_by"].startswith("libsubset ")


def test_h5py_reads_npy_import(run, fixtures, tmp_path):
    p, a = fixtures["npy"], fixtures["npy_arrays"]
    out = tmp_path / "s.h5"
    assert_ok(run("import", p["images_u8"], "--labels", p["labels"], "--class-names", "zero,one,two", "-o", out))
    with h5py.File(out, "r") as f:
        check_root_attrs(f)
        assert f.attrs["source"] == f"npy ({p['images_u8']})"
        x = f["features"]
        assert x.dtype == np.dtype("<f4") and x.ndim == 2
        assert x.shape == (make_fixtures.NPY_TRAIN, 20)
        assert x.chunks is not None and x.chunks[1] == 20, "chunked by whole rows"
        assert np.array_equal(x[()], a["images_u8"].reshape(make_fixtures.NPY_TRAIN, -1).astype(np.float32))
        shape = x.attrs["image_shape"]
        assert shape.dtype == np.int64 and shape.shape == (3,) and list(shape) == [1, 5, 4]
        y = f["labels"]
        assert y.dtype == np.dtype("<i8") and y.shape == (make_fixtures.NPY_TRAIN,)
        assert np.array_equal(y[()], a["labels"])
        names = list(y.attrs["class_names"])
        assert names == ["zero", "one", "two"] and all(type(n) is str for n in names)
        assert "test" not in f
        # Streaming in row blocks with plain h5py slicing gives the same rows.
        blocks = [x[i:i + 7] for i in range(0, x.shape[0], 7)]
        assert np.array_equal(np.concatenate(blocks), x[()])


def test_h5py_reads_fashion_import_with_test_split(run, fixtures, tmp_path):
    out = tmp_path / "f.h5"
    assert_ok(run("import", "fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "-o", out))
    fm = fixtures["fashion"]
    with h5py.File(out, "r") as f:
        check_root_attrs(f)
        assert list(f["labels"].attrs["class_names"]) == FASHION_CLASSES
        assert all(type(n) is str for n in f["labels"].attrs["class_names"])
        assert f["features"].attrs["image_shape"].dtype == np.int64
        assert isinstance(f["test"], h5py.Group)
        xt, yt = f["test/features"], f["test/labels"]
        assert xt.dtype == np.dtype("<f4") and yt.dtype == np.dtype("<i8")
        assert np.array_equal(xt[()], fm["test_images"].reshape(-1, 784).astype(np.float32) / 255)
        assert np.array_equal(yt[()], fm["test_labels"])
        assert set(f.keys()) == {"features", "labels", "test"}
        assert set(f["test"].keys()) == {"features", "labels"}


def test_h5py_reads_csv_import(run, fixtures, tmp_path):
    out = tmp_path / "c.h5"
    assert_ok(run("import", fixtures["csv"]["train"], "--label-column", make_fixtures.CSV_LABEL, "-o", out))
    with h5py.File(out, "r") as f:
        check_root_attrs(f)
        fn = f.attrs["feature_names"]
        assert isinstance(fn, str) and json.loads(fn) == make_fixtures.CSV_FEATURES
        assert list(f["labels"].attrs["class_names"]) == make_fixtures.CSV_CLASSES


def test_default_chunks_are_about_one_mib(run, tmp_path):
    x = np.random.RandomState(0).rand(1000, 784).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "s.h5"
    assert_ok(run("import", tmp_path / "x.npy", "-o", out))
    with h5py.File(out, "r") as f:
        assert f["features"].chunks == ((1 << 20) // (4 * 784), 784)  # 334 rows, as docs/format.md says
        assert f["features"].compression is None
        assert np.array_equal(f["features"][()], x)


def test_h5py_reads_compressed_store(run, fixtures, tmp_path):
    out = tmp_path / "z.h5"
    assert_ok(run("import", fixtures["npy"]["features_f64"], "--compression", "gzip:9", "-o", out))
    with h5py.File(out, "r") as f:
        x = f["features"]
        assert x.compression == "gzip" and x.compression_opts == 9 and x.shuffle
        assert np.array_equal(x[()], fixtures["npy_arrays"]["features_f64"].astype(np.float32))


# ---- subset reads what h5py writes (knowing only docs/format.md) ----------------------------------

def write_store_per_docs(path, X, y=None, class_names=None, image_shape=None, Xt=None, yt=None, *,
                         label_dtype="int64", compression=None, shuffle=False, declare_format=True, chunks=True):
    """Writes a feature store v1 exactly as docs/format.md lays it out, with h5py alone."""
    with h5py.File(path, "w") as f:
        if declare_format:
            f.attrs["format"] = "subset-store"
            f.attrs["format_version"] = 1
            f.attrs["source"] = "written by h5py in tests/python/test_interop.py"
            f.attrs["created_by"] = "h5py " + h5py.__version__
        kw = {}
        if chunks:
            rows = min(len(X), max(1, 2 ** 20 // (4 * X.shape[1])))  # ~1 MiB chunks of whole rows
            kw["chunks"] = (rows, X.shape[1])
        if compression:
            kw.update(compression=compression, shuffle=shuffle)
        ds = f.create_dataset("features", data=X.astype("float32"), **kw)
        if image_shape is not None:
            ds.attrs["image_shape"] = np.asarray(image_shape, dtype="int64")
        if y is not None:
            lab = f.create_dataset("labels", data=y.astype(label_dtype))
            if class_names is not None:
                lab.attrs["class_names"] = class_names
        if Xt is not None:
            tkw = dict(kw)
            if chunks:
                tkw["chunks"] = (min(len(Xt), kw["chunks"][0]), Xt.shape[1])
            f.create_dataset("test/features", data=Xt.astype("float32"), **tkw)
            if yt is not None:
                f.create_dataset("test/labels", data=yt.astype(label_dtype))
    return path


def sample_data():
    rng = np.random.RandomState(7)
    X = rng.rand(50, 12).astype(np.float32)
    y = (np.arange(50) * 7 % 4).astype(np.int64)
    Xt = rng.rand(9, 12).astype(np.float32)
    yt = (np.arange(9) % 4).astype(np.int64)
    return X, y, Xt, yt


def counts(labels):
    return {str(c): int(n) for c, n in enumerate(np.bincount(labels)) if n}


@pytest.mark.parametrize("variant", ["plain", "gzip", "gzip+shuffle", "int32-labels", "int8-labels", "uint16-labels",
                                     "contiguous"])
def test_subset_reads_h5py_store(run, tmp_path, variant):
    X, y, Xt, yt = sample_data()
    kw = {
        "plain": {},
        "gzip": {"compression": "gzip"},
        "gzip+shuffle": {"compression": "gzip", "shuffle": True},
        "int32-labels": {"label_dtype": "int32"},
        "int8-labels": {"label_dtype": "int8"},
        "uint16-labels": {"label_dtype": "uint16"},
        "contiguous": {"chunks": False},
    }[variant]
    path = write_store_per_docs(tmp_path / "h.h5", X, y, ["a", "b", "c", "d"], [3, 2, 2], Xt, yt, **kw)
    j = info_json(run, path, "--check-values")
    assert j["n"] == 50 and j["dim"] == 12 and j["dtype"] == "float32"
    assert j["image_shape"] == [3, 2, 2]
    assert j["class_counts"] == counts(y)
    assert j["test_n"] == 9 and j["test_class_counts"] == counts(yt)
    assert j["class_names"] == ["a", "b", "c", "d"] and j["num_classes"] == 4
    assert j["format_version"] == 1 and j["format_declared"] is True
    assert j["source"] == "written by h5py in tests/python/test_interop.py"
    assert j["file_size"] == os.path.getsize(path)
    assert j["chunk_rows"] == (0 if variant == "contiguous" else 50)
    if variant.startswith("gzip"):
        assert "gzip(4)" in j["compression"]
        assert ("shuffle" in j["compression"]) == (variant == "gzip+shuffle")
    else:
        assert j["compression"] == "none"
    out = assert_ok(run("info", path))
    assert "50 x 12 float32" in out and "images 3x2x2" in out and "9 rows, labelled" in out


def test_subset_reads_minimal_h5py_store(run, tmp_path):
    """Only /features, nothing else: read as version 1."""
    X = sample_data()[0]
    path = write_store_per_docs(tmp_path / "m.h5", X, declare_format=False)
    j = info_json(run, path, "--check-values")
    assert j["n"] == 50 and j["format_declared"] is False and j["format_version"] == 1
    assert j["class_counts"] is None and j["test_n"] == 0 and j["image_shape"] is None


def test_subset_accepts_other_string_and_int_encodings(run, tmp_path):
    """h5py can write the same attributes as fixed-length bytes and narrower integers."""
    X, y, _, _ = sample_data()
    path = tmp_path / "e.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = np.bytes_(b"subset-store")
        f.attrs["format_version"] = np.int32(1)
        f.create_dataset("features", data=X).attrs["image_shape"] = np.array([1, 3, 4], dtype=np.int32)
        f.create_dataset("labels", data=y).attrs["class_names"] = np.array([b"w", b"x", b"y", b"z"], dtype="S1")
        f.create_dataset("embeddings", data=np.zeros((50, 2), np.float32))  # unknown extras are ignored
        f.attrs["something_else"] = 3.5
    j = info_json(run, path)
    assert j["format_declared"] is True and j["image_shape"] == [1, 3, 4]
    assert j["class_names"] == ["w", "x", "y", "z"]


def test_round_trip_through_h5py(run, fixtures, tmp_path):
    """subset writes, h5py copies every dataset and attribute into a new file, subset reads it the same."""
    p = fixtures["npy"]
    a = tmp_path / "a.h5"
    assert_ok(run("import", p["features_f32"], "--labels", p["labels"], "--test-features", p["test_features_f32"],
                  "--test-labels", p["test_labels"], "--class-names", "zero,one,two", "--image-shape", "1,2,3",
                  "-o", a))
    b = tmp_path / "b.h5"
    with h5py.File(a, "r") as src, h5py.File(b, "w") as dst:
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        dst.create_dataset("features", data=src["features"][()]).attrs["image_shape"] = \
            src["features"].attrs["image_shape"]
        dst.create_dataset("labels", data=src["labels"][()]).attrs["class_names"] = \
            list(src["labels"].attrs["class_names"])
        dst.create_dataset("test/features", data=src["test/features"][()])
        dst.create_dataset("test/labels", data=src["test/labels"][()])
    ja, jb = info_json(run, a), info_json(run, b)
    for key in ("n", "dim", "image_shape", "class_counts", "test_n", "test_class_counts", "class_names",
                "format_version", "format_declared", "dtype", "source", "created_by"):
        assert ja[key] == jb[key], key


def test_invalid_h5py_store_is_an_error(run, tmp_path):
    X, y, _, _ = sample_data()
    bad = y.copy()
    bad[17] = -3
    path = write_store_per_docs(tmp_path / "bad.h5", X, bad, label_dtype="int32")
    assert_error(run("info", path), "negative label -3", "row 17")
    path = write_store_per_docs(tmp_path / "f64.h5", X)
    with h5py.File(path, "a") as f:
        del f["features"]
        f.create_dataset("features", data=X.astype(np.float64))
    assert_error(run("info", path), "float32", "float64")


def test_python_reference_importer_matches_subset(run, fixtures, source_dir, tmp_path):
    """python_scripts/import_fashion_mnist.py (numpy + h5py only) and `subset import fashion-mnist`
    describe the same data."""
    script = os.path.join(source_dir, "python_scripts", "import_fashion_mnist.py")
    if not os.path.exists(script):
        pytest.skip("python_scripts/import_fashion_mnist.py not present")
    py_out = tmp_path / "py.h5"
    proc = subprocess.run(["/usr/bin/python3", script, "--dataset-dir", fixtures["fashion_dir"], "-o", str(py_out)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    c_out = tmp_path / "c.h5"
    assert_ok(run("import", "fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "-o", c_out))
    jp, jc = info_json(run, py_out, "--check-values"), info_json(run, c_out)
    for key in ("n", "dim", "image_shape", "class_counts", "test_n", "test_class_counts", "class_names",
                "format_version", "dtype", "chunk_rows", "compression"):
        assert jp[key] == jc[key], key
    with h5py.File(py_out, "r") as fp, h5py.File(c_out, "r") as fc:
        assert np.array_equal(fp["features"][()], fc["features"][()])
        assert np.array_equal(fp["test/features"][()], fc["test/features"][()])

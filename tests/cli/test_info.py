"""`subset info`: what a store holds (table and --json), and invalid stores reported as errors."""
import json
import os

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_ok, file_digest, make_fixtures

JSON_KEYS = {"n", "dim", "image_shape", "class_counts", "test_n", "format_version", "dtype", "chunk_rows",
             "compression", "file_size"}


def info_json(run, path, *extra):
    rc, out, err = run("info", path, "--json", *extra)
    assert rc == 0, err
    assert err == ""
    return json.loads(out)


@pytest.fixture(scope="module")
def stores(run, fixtures, tmp_path_factory):
    """Stores written by `subset import` from the generated fixtures."""
    d = tmp_path_factory.mktemp("stores")
    p = fixtures["npy"]
    s = {
        "fashion": d / "fashion.h5",
        "plain": d / "plain.h5",
        "npy_full": d / "npy_full.h5",
        "gzip": d / "gzip.h5",
    }
    assert_ok(run("import", "fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "-o", s["fashion"]))
    assert_ok(run("import", p["features_f64"], "-o", s["plain"]))
    assert_ok(run("import", p["features_f32"], "--labels", p["labels"], "--test-features", p["test_features_f32"],
                  "--test-labels", p["test_labels"], "--class-names", "zero,one,two", "-o", s["npy_full"]))
    assert_ok(run("import", p["images_u8"], "--compression", "gzip:3", "--chunk-rows", "5", "-o", s["gzip"]))
    return s


def write_h5(path, features=None, labels=None, **kw):
    """A store written with h5py alone; keyword arguments add the optional parts."""
    with h5py.File(path, "w") as f:
        if kw.get("format", True):
            f.attrs["format"] = kw.get("format_name", "subset-store")
            f.attrs["format_version"] = kw.get("format_version", 1)
        if features is not None:
            ds = f.create_dataset("features", data=features)
            if "image_shape" in kw:
                ds.attrs["image_shape"] = np.asarray(kw["image_shape"], dtype=np.int64)
        if labels is not None:
            ds = f.create_dataset("labels", data=labels)
            if "class_names" in kw:
                ds.attrs["class_names"] = kw["class_names"]
        if "test_features" in kw:
            f.create_dataset("test/features", data=kw["test_features"])
        if "test_labels" in kw:
            f.create_dataset("test/labels", data=kw["test_labels"])
    return path


GOOD_X = np.arange(40, dtype=np.float32).reshape(10, 4) / 7
GOOD_Y = np.array([0, 1, 2, 1, 0, 0, 2, 1, 1, 1], np.int64)


# ---- what info reports ----------------------------------------------------------------------------

def test_human_output(run, stores):
    out = assert_ok(run("info", stores["fashion"]))
    assert str(stores["fashion"]) in out
    assert "subset-store v1" in out
    assert f"{make_fixtures.FASHION_TRAIN} x 784 float32" in out
    assert "images 1x28x28" in out
    assert "10 classes" in out
    assert f"{make_fixtures.FASHION_TEST} rows, labelled" in out
    for name in ("T-shirt/top", "Ankle boot"):
        assert name in out
    assert "compression none" in out and "chunks of" in out


def test_json_keys_and_values(run, stores, fixtures):
    j = info_json(run, stores["fashion"])
    assert JSON_KEYS <= set(j), JSON_KEYS - set(j)
    assert j["n"] == make_fixtures.FASHION_TRAIN and j["dim"] == 784
    assert j["image_shape"] == [1, 28, 28]
    assert j["test_n"] == make_fixtures.FASHION_TEST
    assert j["format_version"] == 1 and j["format"] == "subset-store" and j["format_declared"] is True
    assert j["dtype"] == "float32"
    assert j["compression"] == "none"
    assert j["chunk_rows"] == make_fixtures.FASHION_TRAIN  # ~1 MiB chunks, capped at N
    assert j["file_size"] == os.path.getsize(stores["fashion"])
    counts = np.bincount(fixtures["fashion"]["train_labels"], minlength=10)
    assert j["class_counts"] == {str(c): int(n) for c, n in enumerate(counts) if n}
    test_counts = np.bincount(fixtures["fashion"]["test_labels"], minlength=10)
    assert j["test_class_counts"] == {str(c): int(n) for c, n in enumerate(test_counts) if n}
    assert len(j["class_names"]) == 10 and j["num_classes"] == 10


def test_json_is_one_object(run, stores):
    rc, out, _ = run("info", stores["npy_full"], "--json")
    assert rc == 0
    decoder = json.JSONDecoder()
    obj, end = decoder.raw_decode(out)
    assert isinstance(obj, dict) and out[end:].strip() == ""


def test_store_without_labels_and_test(run, stores):
    j = info_json(run, stores["plain"])
    assert j["n"] == make_fixtures.NPY_TRAIN and j["dim"] == make_fixtures.NPY_DIM
    assert j["image_shape"] is None
    assert j["class_counts"] is None
    assert j["test_n"] == 0
    assert j["test_class_counts"] is None
    out = assert_ok(run("info", stores["plain"]))
    assert "labels      none" in out and "test split  none" in out


def test_store_with_labels_test_and_class_names(run, stores, fixtures):
    j = info_json(run, stores["npy_full"])
    a = fixtures["npy_arrays"]
    assert j["class_counts"] == {str(c): int(n) for c, n in enumerate(np.bincount(a["labels"]))}
    assert j["test_n"] == make_fixtures.NPY_TEST
    assert j["test_class_counts"] == {str(c): int(n) for c, n in enumerate(np.bincount(a["test_labels"]))}
    assert j["class_names"] == ["zero", "one", "two"]
    out = assert_ok(run("info", stores["npy_full"]))
    assert "zero" in out and "two" in out and f"{make_fixtures.NPY_TEST} rows, labelled" in out


def test_chunking_and_compression_reported(run, stores):
    j = info_json(run, stores["gzip"])
    assert j["chunk_rows"] == 5
    assert "gzip(3)" in j["compression"] and "shuffle" in j["compression"]
    assert j["image_shape"] == [1, 5, 4]
    out = assert_ok(run("info", stores["gzip"]))
    assert "chunks of 5 rows" in out and "gzip(3)" in out


def test_test_split_without_labels(run, tmp_path):
    path = write_h5(tmp_path / "s.h5", GOOD_X, GOOD_Y, test_features=GOOD_X[:3])
    j = info_json(run, path)
    assert j["test_n"] == 3 and j["test_class_counts"] is None
    assert "3 rows, no labels" in assert_ok(run("info", path))


def test_contiguous_store_without_format_attributes(run, tmp_path):
    path = write_h5(tmp_path / "bare.h5", GOOD_X, format=False)
    j = info_json(run, path)
    assert j["chunk_rows"] == 0 and j["compression"] == "none"
    assert j["format_declared"] is False and j["format_version"] == 1
    assert "format attributes absent" in assert_ok(run("info", path))


def test_info_does_not_modify_the_store(run, stores):
    before = file_digest(stores["npy_full"])
    assert_ok(run("info", stores["npy_full"], "--check-values"))
    assert file_digest(stores["npy_full"]) == before


def test_check_values_on_clean_stores(run, stores):
    for s in stores.values():
        assert_ok(run("info", s, "--check-values"))
        info_json(run, s, "--check-values")


# ---- invalid stores -------------------------------------------------------------------------------

def test_missing_file(run, tmp_path):
    assert_error(run("info", tmp_path / "nope.h5"), "no such file", str(tmp_path / "nope.h5"))


def test_directory(run, tmp_path):
    assert_error(run("info", tmp_path), "directory", str(tmp_path))


@pytest.mark.parametrize("content", [b"", b"hello, not hdf5\n", b"\x93NUMPY" + b"\0" * 600])
def test_not_hdf5(run, tmp_path, content):
    path = tmp_path / "x.h5"
    path.write_bytes(content)
    assert_error(run("info", path), "not an HDF5 file", str(path))


@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.9, 0.999])
def test_truncated_hdf5(run, stores, tmp_path, fraction):
    raw = open(stores["npy_full"], "rb").read()
    path = tmp_path / "cut.h5"
    path.write_bytes(raw[:max(8, int(len(raw) * fraction))])
    assert_error(run("info", path), str(path))
    assert_error(run("info", path, "--check-values"), str(path))


def test_no_features(run, tmp_path):
    path = write_h5(tmp_path / "s.h5", None, GOOD_Y)
    assert_error(run("info", path), "/features", str(path))
    empty = write_h5(tmp_path / "empty.h5", None)
    assert_error(run("info", empty), "/features")


def test_features_is_a_group(run, tmp_path):
    path = tmp_path / "g.h5"
    with h5py.File(path, "w") as f:
        f.create_group("features")
    assert_error(run("info", path), "/features")


@pytest.mark.parametrize("shape", [(10,), (2, 3, 4), ()])
def test_features_wrong_rank(run, tmp_path, shape):
    path = write_h5(tmp_path / "s.h5", np.zeros(shape, np.float32))
    line = assert_error(run("info", path), "2-D", "/features")
    assert f"rank {len(shape)}" in line


@pytest.mark.parametrize("dtype,needle", [(np.float64, "float64"), (np.float16, "float16"), (np.int32, "integer"),
                                          (np.uint8, "integer")])
def test_features_wrong_dtype(run, tmp_path, dtype, needle):
    path = write_h5(tmp_path / "s.h5", GOOD_X.astype(dtype))
    assert_error(run("info", path), "float32", needle, "/features")


def test_features_text(run, tmp_path):
    path = tmp_path / "s.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("features", data=np.array([["a", "b"], ["c", "d"]], dtype="S1"))
    assert_error(run("info", path), "float32")


def test_features_without_rows_or_columns(run, tmp_path):
    assert_error(run("info", write_h5(tmp_path / "a.h5", np.zeros((0, 4), np.float32))), "no rows")
    assert_error(run("info", write_h5(tmp_path / "b.h5", np.zeros((4, 0), np.float32))), "zero columns")


def test_labels_length_mismatch(run, tmp_path):
    path = write_h5(tmp_path / "s.h5", GOOD_X, GOOD_Y[:-1])
    assert_error(run("info", path), "/labels", "9", "10")
    path = write_h5(tmp_path / "t.h5", GOOD_X, GOOD_Y, test_features=GOOD_X[:3], test_labels=GOOD_Y[:4])
    assert_error(run("info", path), "/test/labels", "4", "3")


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8])
def test_negative_labels(run, tmp_path, dtype):
    y = GOOD_Y.astype(dtype)
    y[4] = -1
    assert_error(run("info", write_h5(tmp_path / "s.h5", GOOD_X, y)), "negative label -1", "row 4", "/labels")
    assert_error(run("info", write_h5(tmp_path / "t.h5", GOOD_X, GOOD_Y, test_features=GOOD_X[:3],
                                      test_labels=np.array([0, -5, 1], dtype))), "negative", "/test/labels")


def test_labels_wrong_type_or_shape(run, tmp_path):
    assert_error(run("info", write_h5(tmp_path / "f.h5", GOOD_X, GOOD_Y.astype(np.float32))), "integer", "/labels")
    assert_error(run("info", write_h5(tmp_path / "r.h5", GOOD_X, GOOD_Y.reshape(10, 1))), "1-D", "/labels")


def test_label_without_class_name(run, tmp_path):
    path = write_h5(tmp_path / "s.h5", GOOD_X, GOOD_Y, class_names=["a", "b"])
    assert_error(run("info", path), "label 2", "out of range", "/labels")


def test_test_split_problems(run, tmp_path):
    assert_error(run("info", write_h5(tmp_path / "a.h5", GOOD_X, test_features=np.zeros((3, 5), np.float32))),
                 "/test/features", "5", "4")
    assert_error(run("info", write_h5(tmp_path / "b.h5", GOOD_X, test_features=np.zeros((3, 4), np.float64))),
                 "/test/features", "float32")
    path = tmp_path / "c.h5"
    with h5py.File(path, "w") as f:
        f["features"] = GOOD_X
        f.create_group("test")
    assert_error(run("info", path), "/test")


@pytest.mark.parametrize("shape,needle", [([1, 2], "image_shape"), ([1, 2, 3], "image_shape"),
                                          ([0, 2, 2], "image_shape"), ([-1, -2, 2], "image_shape")])
def test_bad_image_shape(run, tmp_path, shape, needle):
    assert_error(run("info", write_h5(tmp_path / "s.h5", GOOD_X, image_shape=shape)), needle, "/features")


def test_foreign_format_and_newer_version(run, tmp_path):
    assert_error(run("info", write_h5(tmp_path / "a.h5", GOOD_X, format_name="other-thing")), "other-thing")
    assert_error(run("info", write_h5(tmp_path / "b.h5", GOOD_X, format_version=2)), "version 2")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_values_names_first_bad_row(run, tmp_path, bad):
    x = np.ones((40, 4), np.float32)
    x[23, 2] = bad
    x[31, 0] = np.nan
    path = tmp_path / "s.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=x, chunks=(4, 4))
    j = info_json(run, path)  # plain info reads metadata only: succeeds
    assert j["n"] == 40
    assert_ok(run("info", path))
    line = assert_error(run("info", path, "--check-values"), "row 23", "NaN or Inf", "/features")
    assert "row 31" not in line
    assert_error(run("info", path, "--check-values", "--json"), "row 23")


def test_check_values_in_test_split(run, tmp_path):
    xt = np.zeros((6, 4), np.float32)
    xt[5, 3] = np.inf
    path = write_h5(tmp_path / "s.h5", GOOD_X, GOOD_Y, test_features=xt)
    assert_ok(run("info", path))
    assert_error(run("info", path, "--check-values"), "row 5", "/test/features")

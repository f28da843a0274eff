"""`subset import`: Fashion-MNIST (IDX), .npy and CSV into HDF5 feature stores, read back with h5py;
every bad input fails with one `error:` line and leaves outputs exactly as they were."""
import errno
import gzip
import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import h5py
import numpy as np
import pytest

from subset_testing import (REAL_FASHION_DIR, assert_error, assert_no_partials, assert_ok, file_digest,
                            make_fixtures)

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]
SENTINEL = b"pre-existing output: must survive a failed import byte for byte\n" * 10


def read_store(path):
    """Everything a v1 store holds, through h5py alone."""
    out = {}
    with h5py.File(path, "r") as f:
        out["attrs"] = {k: f.attrs[k] for k in f.attrs}
        ds = f["features"]
        out["features"] = ds[()]
        out["features_dtype"] = ds.dtype
        out["chunks"] = ds.chunks
        out["compression"] = ds.compression
        out["compression_opts"] = ds.compression_opts
        out["shuffle"] = ds.shuffle
        out["image_shape"] = ds.attrs["image_shape"] if "image_shape" in ds.attrs else None
        if "labels" in f:
            out["labels"] = f["labels"][()]
            out["labels_dtype"] = f["labels"].dtype
            cn = f["labels"].attrs.get("class_names")
            out["class_names"] = None if cn is None else [c.decode() if isinstance(c, bytes) else c for c in cn]
        else:
            out["labels"] = None
            out["class_names"] = None
        if "test" in f:
            out["test_features"] = f["test/features"][()]
            out["test_labels"] = f["test/labels"][()] if "labels" in f["test"] else None
        else:
            out["test_features"] = None
            out["test_labels"] = None
    return out


def import_ok(run, *args):
    out = assert_ok(run("import", *args))
    assert out.strip(), "import prints a description of what it wrote"
    return out


def check_bad_import(run, out_dir, args, *needles, code=None):
    """The bad input fails cleanly (a) with a fresh output path: nothing is created, and (b) with
    --force over an existing output: that file is untouched byte for byte."""
    fresh = out_dir / "fresh.h5"
    line = assert_error(run("import", *args, "-o", fresh), *needles, code=code)
    assert not fresh.exists(), "a failed import must not create the output"
    assert_no_partials(str(out_dir))

    existing = out_dir / "existing.h5"
    existing.write_bytes(SENTINEL)
    before = file_digest(existing)
    assert_error(run("import", *args, "-o", existing, "--force"), *needles, code=code)
    assert file_digest(existing) == before, "a failed import must leave an existing output untouched"
    assert_no_partials(str(out_dir))
    existing.unlink()
    return line


# ---- Fashion-MNIST ---------------------------------------------------------------------------------

def test_fashion_mnist_from_dataset_dir(run, fixtures, out_dir):
    out = out_dir / "f.h5"
    import_ok(run, "fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "-o", out)
    s = read_store(out)
    fm = fixtures["fashion"]
    expected = fm["train_images"].reshape(len(fm["train_images"]), 784).astype(np.float32) / np.float32(255)
    assert s["features_dtype"] == np.float32
    assert s["features"].shape == (make_fixtures.FASHION_TRAIN, 784)
    assert np.array_equal(s["features"], expected), "features must equal pixel / 255 exactly"
    assert s["features"].min() == 0.0 and s["features"].max() == 1.0
    assert s["labels_dtype"] == np.int64
    assert np.array_equal(s["labels"], fm["train_labels"].astype(np.int64))
    assert list(s["image_shape"]) == [1, 28, 28] and s["image_shape"].dtype == np.int64
    assert s["class_names"] == FASHION_CLASSES
    expected_test = fm["test_images"].reshape(-1, 784).astype(np.float32) / np.float32(255)
    assert s["test_features"].shape == (make_fixtures.FASHION_TEST, 784)
    assert np.array_equal(s["test_features"], expected_test)
    assert np.array_equal(s["test_labels"], fm["test_labels"].astype(np.int64))
    assert s["attrs"]["format"] == "subset-store"
    assert int(s["attrs"]["format_version"]) == 1


def test_fashion_mnist_uncompressed_idx_files(run, tmp_path, out_dir):
    d, fm = make_fixtures.make_fashion_mnist(str(tmp_path / "raw-idx"), gzipped=False)
    out = out_dir / "f.h5"
    assert_ok(run("import", "fashion-mnist", "--dataset-dir", d, "-o", out))
    s = read_store(out)
    assert np.array_equal(s["features"], fm["train_images"].reshape(-1, 784).astype(np.float32) / np.float32(255))


def test_fashion_mnist_json_output(run, fixtures, out_dir):
    out = out_dir / "f.h5"
    rc, stdout, err = run("import", "fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "-o", out, "--json")
    assert rc == 0, err
    j = json.loads(stdout)
    assert j["n"] == make_fixtures.FASHION_TRAIN and j["dim"] == 784 and j["test_n"] == make_fixtures.FASHION_TEST
    assert j["image_shape"] == [1, 28, 28]
    assert sum(j["class_counts"].values()) == make_fixtures.FASHION_TRAIN


@pytest.mark.skipif(not os.path.isdir(REAL_FASHION_DIR), reason=f"{REAL_FASHION_DIR} not installed "
                    "(Debian package dataset-fashion-mnist)")
def test_real_fashion_mnist(run, out_dir):
    out = out_dir / "fmnist.h5"
    assert_ok(run("import", "fashion-mnist", "-o", out))
    with h5py.File(out, "r") as f:
        x = f["features"]
        assert x.shape == (60000, 784) and x.dtype == np.float32
        assert f["test/features"].shape == (10000, 784)
        assert list(x.attrs["image_shape"]) == [1, 28, 28]
        assert list(f["labels"].attrs["class_names"]) == FASHION_CLASSES
        labels = f["labels"][()]
        test_labels = f["test/labels"][()]
        head = x[:2000]
        tail = f["test/features"][-2000:]
        for block in (head, tail):
            assert block.min() >= 0.0 and block.max() <= 1.0
        xmin, xmax = np.inf, -np.inf
        for begin in range(0, 60000, 10000):
            b = x[begin:begin + 10000]
            xmin, xmax = min(xmin, b.min()), max(xmax, b.max())
        assert xmin == 0.0 and xmax == 1.0
    assert np.array_equal(np.bincount(labels), [6000] * 10)
    assert np.array_equal(np.bincount(test_labels), [1000] * 10)
    # Exact values against the IDX bytes for the first rows.
    with gzip.open(os.path.join(REAL_FASHION_DIR, "train-images-idx3-ubyte.gz"), "rb") as g:
        raw = g.read(16 + 2000 * 784)
    pixels = np.frombuffer(raw[16:], dtype=np.uint8).reshape(2000, 784)
    assert np.array_equal(head, pixels.astype(np.float32) / np.float32(255))


def test_fashion_mnist_compression_and_chunks(run, fixtures, out_dir):
    out = out_dir / "f.h5"
    assert_ok(run("import", "fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "-o", out,
                  "--compression", "gzip", "--chunk-rows", "7"))
    s = read_store(out)
    assert s["chunks"] == (7, 784)
    assert s["compression"] == "gzip" and s["compression_opts"] == 4
    fm = fixtures["fashion"]
    assert np.array_equal(s["features"], fm["train_images"].reshape(-1, 784).astype(np.float32) / np.float32(255))


def test_fashion_mnist_missing_files(run, tmp_path, out_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    check_bad_import(run, out_dir, ["fashion-mnist", "--dataset-dir", empty], "train-images-idx3-ubyte", str(empty))


def test_fashion_mnist_truncated_idx(run, fixtures, tmp_path, out_dir):
    d = tmp_path / "trunc"
    shutil.copytree(fixtures["fashion_dir"], d)
    raw = gzip.decompress((d / "train-images-idx3-ubyte.gz").read_bytes())
    (d / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw[:-100], mtime=0))
    check_bad_import(run, out_dir, ["fashion-mnist", "--dataset-dir", d], "truncated", "train-images-idx3-ubyte")


def test_fashion_mnist_label_count_mismatch(run, fixtures, tmp_path, out_dir):
    d = tmp_path / "mismatch"
    shutil.copytree(fixtures["fashion_dir"], d)
    labels = fixtures["fashion"]["train_labels"][:-1]
    make_fixtures.write_idx_gz(str(d / "train-labels-idx1-ubyte.gz"), labels)
    check_bad_import(run, out_dir, ["fashion-mnist", "--dataset-dir", d], "train-labels-idx1-ubyte",
                     str(len(labels)))


@pytest.mark.parametrize("option,value", [("--labels", "x.npy"), ("--label-column", "y"), ("--image-shape", "1,28,28"),
                                          ("--class-names", "a,b"), ("--test-features", "t.npy"),
                                          ("--delimiter", ";")])
def test_fashion_mnist_rejects_options_for_other_sources(run, fixtures, out_dir, option, value):
    check_bad_import(run, out_dir, ["fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], option, value],
                     option, "does not apply")


# ---- .npy -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["features_f32", "features_f64", "features_u8"])
def test_npy_dtypes(run, fixtures, out_dir, name):
    out = out_dir / "s.h5"
    assert_ok(run("import", fixtures["npy"][name], "-o", out))
    s = read_store(out)
    src = fixtures["npy_arrays"][name]
    assert s["features_dtype"] == np.float32
    assert s["features"].shape == src.shape
    assert np.array_equal(s["features"], src.astype(np.float32)), "values are kept as they are (as float32)"
    assert s["labels"] is None and s["test_features"] is None and s["image_shape"] is None
    if name == "features_u8":
        assert s["features"].max() > 1.0, "uint8 .npy values are not rescaled"


def test_npy_image_stack_infers_image_shape(run, fixtures, out_dir):
    out = out_dir / "s.h5"
    assert_ok(run("import", fixtures["npy"]["images_u8"], "--labels", fixtures["npy"]["labels"], "-o", out))
    s = read_store(out)
    src = fixtures["npy_arrays"]["images_u8"]
    assert s["features"].shape == (src.shape[0], 20)
    assert np.array_equal(s["features"], src.reshape(src.shape[0], -1).astype(np.float32))
    assert list(s["image_shape"]) == [1, 5, 4] and s["image_shape"].dtype == np.int64


def test_npy_labels_test_split_and_class_names(run, fixtures, out_dir):
    p, a = fixtures["npy"], fixtures["npy_arrays"]
    out = out_dir / "s.h5"
    assert_ok(run("import", p["features_f32"], "--labels", p["labels"], "--test-features", p["test_features_f32"],
                  "--test-labels", p["test_labels"], "--class-names", "zero,one,two", "-o", out))
    s = read_store(out)
    assert s["labels_dtype"] == np.int64
    assert np.array_equal(s["labels"], a["labels"])
    assert np.array_equal(s["test_features"], a["test_features_f32"])
    assert np.array_equal(s["test_labels"], a["test_labels"])
    assert s["class_names"] == ["zero", "one", "two"]


def test_npy_int32_labels(run, fixtures, out_dir):
    out = out_dir / "s.h5"
    assert_ok(run("import", fixtures["npy"]["features_f32"], "--labels", fixtures["npy"]["labels_i32"], "-o", out))
    s = read_store(out)
    assert s["labels_dtype"] == np.int64
    assert np.array_equal(s["labels"], fixtures["npy_arrays"]["labels"])


@pytest.mark.parametrize("dtype", [">f4", ">f8", "<i2", ">i4", "<u2", "bool", "<i8"])
def test_npy_other_dtypes_and_byte_orders(run, fixtures, tmp_path, out_dir, dtype):
    src = fixtures["npy_arrays"]["features_u8"].astype(np.int64) - (0 if dtype in ("<u2", "bool") else 100)
    arr = (src % 2 == 0) if dtype == "bool" else src.astype(dtype)
    path = tmp_path / "x.npy"
    np.save(path, arr)
    out = out_dir / "s.h5"
    assert_ok(run("import", path, "-o", out))
    assert np.array_equal(read_store(out)["features"], arr.astype(np.float32))


def test_npy_nchw_stack_infers_image_shape(run, tmp_path, out_dir):
    arr = np.arange(6 * 3 * 2 * 4, dtype=np.float32).reshape(6, 3, 2, 4)
    path = tmp_path / "nchw.npy"
    np.save(path, arr)
    out = out_dir / "s.h5"
    assert_ok(run("import", path, "-o", out))
    s = read_store(out)
    assert list(s["image_shape"]) == [3, 2, 4]
    assert np.array_equal(s["features"], arr.reshape(6, 24))


def test_npy_test_features_without_labels(run, fixtures, out_dir):
    out = out_dir / "s.h5"
    assert_ok(run("import", fixtures["npy"]["features_f32"], "--test-features", fixtures["npy"]["test_features_f32"],
                  "-o", out))
    s = read_store(out)
    assert s["test_features"].shape == (make_fixtures.NPY_TEST, make_fixtures.NPY_DIM)
    assert s["test_labels"] is None and s["labels"] is None


def test_npy_explicit_image_shape(run, fixtures, out_dir):
    out = out_dir / "s.h5"
    assert_ok(run("import", fixtures["npy"]["features_f32"], "--image-shape", "1,2,3", "-o", out))
    assert list(read_store(out)["image_shape"]) == [1, 2, 3]


def test_npy_gzip_compression(run, fixtures, out_dir):
    out = out_dir / "s.h5"
    assert_ok(run("import", fixtures["npy"]["features_f64"], "--compression", "gzip:5", "-o", out))
    s = read_store(out)
    assert s["compression"] == "gzip" and s["compression_opts"] == 5 and s["shuffle"]
    assert np.array_equal(s["features"], fixtures["npy_arrays"]["features_f64"].astype(np.float32))
    j = json.loads(assert_ok(run("info", out, "--json")))
    assert "gzip(5)" in j["compression"]


def test_npy_no_compression_by_default(run, fixtures, out_dir):
    out = out_dir / "s.h5"
    assert_ok(run("import", fixtures["npy"]["features_f32"], "--compression", "none", "-o", out))
    assert read_store(out)["compression"] is None


@pytest.mark.parametrize("rows,expected", [("3", 3), ("1", 1), ("1000", make_fixtures.NPY_TRAIN)])
def test_npy_chunk_rows(run, fixtures, out_dir, rows, expected):
    out = out_dir / "s.h5"
    assert_ok(run("import", fixtures["npy"]["features_f32"], "--chunk-rows", rows, "-o", out))
    s = read_store(out)
    assert s["chunks"] == (expected, make_fixtures.NPY_DIM)
    assert np.array_equal(s["features"], fixtures["npy_arrays"]["features_f32"])


@pytest.mark.parametrize("shape", [(20, 6), (7, 5, 4), (5, 3, 2, 4)])
def test_npy_fortran_order(run, tmp_path, out_dir, shape):
    src = np.asfortranarray(np.arange(np.prod(shape), dtype=np.float64).reshape(shape) * 0.5 - 3)
    assert src.flags.f_contiguous and not src.flags.c_contiguous
    path = tmp_path / "fortran.npy"
    np.save(path, src)
    out = out_dir / "s.h5"
    assert_ok(run("import", path, "-o", out))
    s = read_store(out)
    assert np.array_equal(s["features"], src.reshape(shape[0], -1).astype(np.float32)), "rows as numpy sees them"
    if len(shape) > 2:
        assert list(s["image_shape"]) == ([1] if len(shape) == 3 else []) + list(shape[1:])


@pytest.mark.parametrize("value", ["gzip:0", "gzip:10", "zstd", "gzip:x", "", "GZIP"])
def test_bad_compression(run, fixtures, out_dir, value):
    check_bad_import(run, out_dir, [fixtures["npy"]["features_f32"], "--compression", value], "--compression")


@pytest.mark.parametrize("value", ["1,2", "1,2,3,1", "1,2,x", "0,2,3", "-1,2,3", "1,1,5", "2,3,1.5", ""])
def test_bad_image_shape(run, fixtures, out_dir, value):
    check_bad_import(run, out_dir, [fixtures["npy"]["features_f32"], "--image-shape", value], "--image-shape")


@pytest.mark.parametrize("value", ["-1", "abc"])
def test_bad_chunk_rows(run, fixtures, out_dir, value):
    line = check_bad_import(run, out_dir, [fixtures["npy"]["features_f32"], "--chunk-rows", value], "--chunk-rows")
    assert len(line) < 200, f"message should be short and readable: {line!r}"


def test_class_names_too_few(run, fixtures, out_dir):
    p = fixtures["npy"]
    check_bad_import(run, out_dir, [p["features_f32"], "--labels", p["labels"], "--class-names", "a,b"],
                     "--class-names", "label 2")


def test_test_labels_without_test_features(run, fixtures, out_dir):
    p = fixtures["npy"]
    check_bad_import(run, out_dir, [p["features_f32"], "--test-labels", p["test_labels"]], "--test-features")


def test_test_features_dimension_mismatch(run, fixtures, tmp_path, out_dir):
    bad = tmp_path / "t5.npy"
    np.save(bad, np.zeros((4, 5), np.float32))
    check_bad_import(run, out_dir, [fixtures["npy"]["features_f32"], "--test-features", bad], str(bad), "5")


@pytest.mark.parametrize("option", ["--label-column", "--delimiter", "--dataset-dir"])
def test_npy_rejects_options_for_other_sources(run, fixtures, out_dir, option):
    check_bad_import(run, out_dir, [fixtures["npy"]["features_f32"], option, "x"], option, "does not apply")


# ---- CSV ------------------------------------------------------------------------------------------

def test_csv_text_labels_become_class_names(run, fixtures, out_dir):
    t = fixtures["csv_tables"]
    out = out_dir / "c.h5"
    assert_ok(run("import", fixtures["csv"]["train"], "--label-column", make_fixtures.CSV_LABEL, "-o", out))
    s = read_store(out)
    assert s["features"].shape == (12, 3)
    assert np.array_equal(s["features"], t["train"])
    assert s["class_names"] == make_fixtures.CSV_CLASSES
    assert s["labels_dtype"] == np.int64
    assert np.array_equal(s["labels"], t["train_labels"])
    assert json.loads(s["attrs"]["feature_names"]) == make_fixtures.CSV_FEATURES


def test_csv_integer_labels(run, fixtures, out_dir):
    t = fixtures["csv_tables"]
    out = out_dir / "c.h5"
    assert_ok(run("import", fixtures["csv"]["int_labels"], "--label-column", "label", "-o", out))
    s = read_store(out)
    assert np.array_equal(s["features"], t["int"])
    assert np.array_equal(s["labels"], t["int_labels"])
    assert s["class_names"] is None


def test_csv_without_label_column_keeps_every_column(run, fixtures, out_dir):
    t = fixtures["csv_tables"]
    out = out_dir / "c.h5"
    assert_ok(run("import", fixtures["csv"]["int_labels"], "-o", out))
    s = read_store(out)
    assert np.array_equal(s["features"], np.column_stack([t["int"], t["int_labels"].astype(np.float32)]))
    assert s["labels"] is None


def test_csv_test_split_renumbered_with_training_names(run, fixtures, out_dir):
    t = fixtures["csv_tables"]
    out = out_dir / "c.h5"
    assert_ok(run("import", fixtures["csv"]["train"], "--label-column", make_fixtures.CSV_LABEL, "--test-features",
                  fixtures["csv"]["test"], "-o", out))
    s = read_store(out)
    assert np.array_equal(s["test_features"], t["test"])
    assert np.array_equal(s["test_labels"], t["test_labels"])  # versicolor=1, virginica=2 although no setosa


def test_csv_semicolon_delimiter(run, fixtures, out_dir):
    t = fixtures["csv_tables"]
    out = out_dir / "c.h5"
    assert_ok(run("import", fixtures["csv"]["semicolon"], "--label-column", "label", "--delimiter", ";", "-o", out))
    s = read_store(out)
    assert np.array_equal(s["features"], t["int"])
    assert np.array_equal(s["labels"], t["int_labels"])


def test_csv_quoting_bom_and_crlf(run, tmp_path, out_dir):
    path = tmp_path / "quoted.csv"
    path.write_bytes(b'\xef\xbb\xbf"x","y value",kind\r\n1.5,"2",\"big, \"\"red\"\"\"\r\n-3,4e2,small\r\n\r\n')
    out = out_dir / "c.h5"
    assert_ok(run("import", path, "--label-column", "kind", "-o", out))
    s = read_store(out)
    assert np.array_equal(s["features"], np.array([[1.5, 2], [-3, 400]], np.float32))
    assert s["class_names"] == ['big, "red"', "small"]
    assert json.loads(s["attrs"]["feature_names"]) == ["x", "y value"]


def test_csv_wrong_delimiter_is_an_error(run, fixtures, out_dir):
    check_bad_import(run, out_dir, [fixtures["csv"]["semicolon"], "--label-column", "label"], "label")
    check_bad_import(run, out_dir, [fixtures["csv"]["semicolon"], "--label-column", "label", "--delimiter", ";;"],
                     "--delimiter")


def test_csv_non_numeric_cell_names_line_and_column(run, tmp_path, out_dir):
    path = tmp_path / "bad.csv"
    path.write_text("x,y,label\n1,2,0\n3,4,1\n5,oops,1\n")
    check_bad_import(run, out_dir, [path, "--label-column", "label"], "line 4", "'y'", "oops")


@pytest.mark.parametrize("cell", ["nan", "inf", "-inf", "NaN"])
def test_csv_nan_or_inf_cell(run, tmp_path, out_dir, cell):
    path = tmp_path / "nan.csv"
    path.write_text(f"x,y\n1,2\n3,4\n{cell},6\n")
    check_bad_import(run, out_dir, [path], "line 4", "'x'")


def test_csv_ragged_row(run, tmp_path, out_dir):
    path = tmp_path / "ragged.csv"
    path.write_text("x,y\n1,2\n3\n")
    check_bad_import(run, out_dir, [path], "line 3")


def test_csv_negative_integer_label(run, tmp_path, out_dir):
    path = tmp_path / "neg.csv"
    path.write_text("x,label\n1,0\n2,-3\n")
    check_bad_import(run, out_dir, [path, "--label-column", "label"], "negative label -3")


def test_csv_unknown_label_column(run, fixtures, out_dir):
    check_bad_import(run, out_dir, [fixtures["csv"]["train"], "--label-column", "nope"], "'nope'")


def test_csv_header_only(run, tmp_path, out_dir):
    path = tmp_path / "header.csv"
    path.write_text("x,y\n")
    check_bad_import(run, out_dir, [path], "no data rows")


def test_csv_test_split_with_unknown_class(run, fixtures, tmp_path, out_dir):
    path = tmp_path / "test.csv"
    path.write_text("f0,f1,f2,species\n1,2,3,setosa\n1,2,3,daisy\n")
    check_bad_import(run, out_dir, [fixtures["csv"]["train"], "--label-column", "species", "--test-features", path],
                     "'daisy'")


@pytest.mark.parametrize("option,value", [("--labels", "y.npy"), ("--test-labels", "y.npy"),
                                          ("--image-shape", "1,1,3"), ("--class-names", "a,b"),
                                          ("--dataset-dir", "/tmp")])
def test_csv_rejects_options_for_other_sources(run, fixtures, out_dir, option, value):
    check_bad_import(run, out_dir, [fixtures["csv"]["int_labels"], option, value], option, "does not apply")


# ---- bad inputs -----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["features", "labels", "test-features", "test-labels", "csv"])
def test_missing_input_file(run, fixtures, tmp_path, out_dir, role):
    p = fixtures["npy"]
    missing = tmp_path / ("missing.csv" if role == "csv" else "missing.npy")
    args = {
        "features": [missing],
        "labels": [p["features_f32"], "--labels", missing],
        "test-features": [p["features_f32"], "--test-features", missing],
        "test-labels": [p["features_f32"], "--test-features", p["test_features_f32"], "--test-labels", missing],
        "csv": [missing],
    }[role]
    check_bad_import(run, out_dir, args, str(missing), "no such file")


def test_input_is_a_directory(run, tmp_path, out_dir):
    d = tmp_path / "dir.npy"
    d.mkdir()
    check_bad_import(run, out_dir, [d], str(d), "directory")


def test_not_a_npy_file(run, fixtures, tmp_path, out_dir):
    text = tmp_path / "text.npy"
    text.write_text("this is plain text, long enough to hold a whole npy preamble\n" * 4)
    check_bad_import(run, out_dir, [text], str(text), "not a .npy file")
    # An HDF5 store passed where a .npy is expected.
    h5 = tmp_path / "store.npy"
    with h5py.File(h5, "w") as f:
        f["features"] = np.zeros((2, 2), np.float32)
    check_bad_import(run, out_dir, [h5], str(h5), "not a .npy file")


@pytest.mark.parametrize("content", [b"", b"hi\n", b"\x93NUMP"])
def test_tiny_non_npy_file(run, tmp_path, out_dir, content):
    tiny = tmp_path / "tiny.npy"
    tiny.write_bytes(content)
    check_bad_import(run, out_dir, [tiny], str(tiny), "not a .npy file")
    check_bad_import(run, out_dir, [fixtures_labels_path(tmp_path), "--labels", tiny], str(tiny), "not a .npy file")


def fixtures_labels_path(tmp_path):
    path = tmp_path / "feats.npy"
    np.save(path, np.zeros((3, 2), np.float32))
    return path


def test_truncated_npy(run, fixtures, tmp_path, out_dir):
    raw = open(fixtures["npy"]["features_f32"], "rb").read()
    cut = tmp_path / "cut.npy"
    cut.write_bytes(raw[:-10])
    check_bad_import(run, out_dir, [cut], str(cut), "truncated")
    header_cut = tmp_path / "header_cut.npy"
    header_cut.write_bytes(raw[:40])
    check_bad_import(run, out_dir, [header_cut], str(header_cut), "truncated")


def test_truncated_labels(run, fixtures, tmp_path, out_dir):
    raw = open(fixtures["npy"]["labels"], "rb").read()
    cut = tmp_path / "labels.npy"
    cut.write_bytes(raw[:-8])
    check_bad_import(run, out_dir, [fixtures["npy"]["features_f32"], "--labels", cut], str(cut), "truncated")


def test_unsupported_npy_dtypes(run, tmp_path, out_dir):
    for name, arr in [("strings", np.array([["a", "b"], ["c", "d"]])),
                      ("complex", np.zeros((3, 2), np.complex64)),
                      ("structured", np.zeros(3, dtype=[("a", "f4"), ("b", "f4")]))]:
        path = tmp_path / f"{name}.npy"
        np.save(path, arr)
        check_bad_import(run, out_dir, [path], str(path))


def test_features_of_rank_one(run, tmp_path, out_dir):
    path = tmp_path / "vec.npy"
    np.save(path, np.arange(5, dtype=np.float32))
    check_bad_import(run, out_dir, [path], str(path), "2-D")


def test_features_without_rows(run, tmp_path, out_dir):
    path = tmp_path / "empty.npy"
    np.save(path, np.zeros((0, 4), np.float32))
    check_bad_import(run, out_dir, [path], str(path), "no rows")


def test_label_count_mismatch(run, fixtures, tmp_path, out_dir):
    short = tmp_path / "short.npy"
    np.save(short, fixtures["npy_arrays"]["labels"][:-1])
    check_bad_import(run, out_dir, [fixtures["npy"]["features_f32"], "--labels", short], str(short),
                     str(make_fixtures.NPY_TRAIN - 1), str(make_fixtures.NPY_TRAIN))
    p = fixtures["npy"]
    check_bad_import(run, out_dir, [p["features_f32"], "--test-features", p["test_features_f32"], "--test-labels",
                                    p["labels"]], p["labels"], str(make_fixtures.NPY_TRAIN))


def test_labels_not_integers(run, fixtures, tmp_path, out_dir):
    frac = tmp_path / "frac.npy"
    labels = fixtures["npy_arrays"]["labels"].astype(np.float64)
    labels[6] = 1.5
    np.save(frac, labels)
    check_bad_import(run, out_dir, [fixtures["npy"]["features_f32"], "--labels", frac], str(frac), "row 6")
    twod = tmp_path / "twod.npy"
    np.save(twod, np.zeros((make_fixtures.NPY_TRAIN, 2), np.int64))
    check_bad_import(run, out_dir, [fixtures["npy"]["features_f32"], "--labels", twod], str(twod), "1-D")


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8])
def test_negative_labels(run, fixtures, tmp_path, out_dir, dtype):
    neg = tmp_path / "neg.npy"
    labels = fixtures["npy_arrays"]["labels"].astype(dtype)
    labels[11] = -2
    np.save(neg, labels)
    check_bad_import(run, out_dir, [fixtures["npy"]["features_f32"], "--labels", neg], str(neg), "negative",
                     "row 11")


@pytest.mark.parametrize("dtype,bad_value,row", [(np.float32, np.nan, 7), (np.float32, np.inf, 0),
                                                 (np.float64, -np.inf, 19), (np.float64, np.nan, 13)])
def test_non_finite_features_name_the_first_bad_row(run, fixtures, tmp_path, out_dir, dtype, bad_value, row):
    x = fixtures["npy_arrays"]["features_f64"].astype(dtype)
    x[row, 2] = bad_value
    if row + 2 < len(x):
        x[row + 2, 0] = np.nan  # a later bad row must not be the one reported
    path = tmp_path / "bad.npy"
    np.save(path, x)
    line = check_bad_import(run, out_dir, [path], str(path), f"row {row}", "nan or inf")
    assert f"row {row + 2}" not in line


def test_float64_beyond_float32_range_is_named_as_such(run, fixtures, tmp_path, out_dir):
    x = fixtures["npy_arrays"]["features_f64"].copy()
    x[4, 3] = 1e300  # finite in float64, Inf once converted: must not be reported as "NaN or Inf"
    path = tmp_path / "huge.npy"
    np.save(path, x)
    check_bad_import(run, out_dir, [path], str(path), "row 4", "column 3", "out of float32 range")


def test_non_finite_test_features(run, fixtures, tmp_path, out_dir):
    x = fixtures["npy_arrays"]["test_features_f32"].copy()
    x[5, 1] = np.nan
    path = tmp_path / "test_bad.npy"
    np.save(path, x)
    check_bad_import(run, out_dir, [fixtures["npy"]["features_f32"], "--test-features", path], str(path), "row 5")


def test_non_finite_in_large_streamed_input(run, tmp_path, out_dir):
    # Bigger than one ~16 MiB write block, so the bad row sits in a later block after rows were
    # already written to the temporary file.
    x = np.zeros((9000, 784), np.float32)
    x[8500, 100] = np.inf
    path = tmp_path / "big.npy"
    np.save(path, x)
    check_bad_import(run, out_dir, [path], "row 8500")


def test_output_exists_without_force(run, fixtures, out_dir):
    existing = out_dir / "s.h5"
    existing.write_bytes(SENTINEL)
    before = file_digest(existing)
    for args in ([fixtures["npy"]["features_f32"]], [fixtures["csv"]["train"]],
                 ["fashion-mnist", "--dataset-dir", fixtures["fashion_dir"]]):
        assert_error(run("import", *args, "-o", existing), "already exists", "--force", str(existing))
        assert file_digest(existing) == before
    assert_no_partials(str(out_dir))


def test_force_replaces_existing_output(run, fixtures, out_dir):
    existing = out_dir / "s.h5"
    existing.write_bytes(SENTINEL)
    assert_ok(run("import", fixtures["npy"]["features_f32"], "-o", existing, "--force"))
    s = read_store(existing)
    assert np.array_equal(s["features"], fixtures["npy_arrays"]["features_f32"])
    # ... and an existing store is replaced by the new one.
    assert_ok(run("import", fixtures["npy"]["features_u8"], "-o", existing, "--force"))
    assert np.array_equal(read_store(existing)["features"], fixtures["npy_arrays"]["features_u8"].astype(np.float32))
    assert sorted(os.listdir(out_dir)) == ["s.h5"]


def test_output_path_is_a_directory(run, fixtures, out_dir):
    d = out_dir / "adir.h5"
    d.mkdir()
    assert_error(run("import", fixtures["npy"]["features_f32"], "-o", d, "--force"), str(d), "directory")
    assert d.is_dir() and not os.listdir(d)


def test_output_directory_missing(run, fixtures, tmp_path, out_dir):
    missing = tmp_path / "no" / "such" / "dir"
    for args in ([fixtures["npy"]["features_f32"]], [fixtures["csv"]["train"]],
                 ["fashion-mnist", "--dataset-dir", fixtures["fashion_dir"]]):
        assert_error(run("import", *args, "-o", missing / "s.h5"), str(missing), "does not exist")
    assert not (tmp_path / "no").exists()


def _nobody_runner(tmp_root, subset_bin):
    """How to run a copy of subset as user nobody (uid/gid 65534): returns (argv prefix, env,
    extra subprocess kwargs). The binary and the non-system shared libraries it needs are copied
    into a world-readable directory. setpriv is used where present; otherwise Python drops the
    privileges itself in the child (subprocess user=/group=)."""
    bindir = os.path.join(tmp_root, "bin")
    os.mkdir(bindir)
    shutil.copy2(subset_bin, os.path.join(bindir, "subset"))
    ldd = subprocess.run(["ldd", subset_bin], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in ldd.stdout.splitlines():
        parts = line.split("=>")
        if len(parts) != 2:
            continue
        lib = parts[1].strip().split(" ")[0]
        if lib.startswith("/") and not lib.startswith(("/lib", "/usr/lib", "/lib64")):
            shutil.copy2(lib, os.path.join(bindir, os.path.basename(parts[0].strip())))
    for name in os.listdir(bindir):
        os.chmod(os.path.join(bindir, name), 0o755)
    os.chmod(bindir, 0o755)
    env = dict(os.environ, LD_LIBRARY_PATH=bindir)
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"], os.path.join(bindir, "subset"), env, {}
    return [], os.path.join(bindir, "subset"), env, {"user": 65534, "group": 65534, "extra_groups": []}


def test_output_directory_not_writable(subset_bin, fixtures, tmp_path):
    # A world-traversable scratch tree (pytest's own tmp dirs are private to root).
    root = tempfile.mkdtemp(prefix="subset-nowrite-")
    try:
        os.chmod(root, 0o755)
        parent = root
        while parent != "/":
            assert os.stat(parent).st_mode & stat.S_IXOTH, f"{parent} is not world-traversable"
            parent = os.path.dirname(parent)
        if os.geteuid() == 0:  # root writes anywhere: run subset as nobody
            prefix, binary, env, popen = _nobody_runner(root, subset_bin)
        else:
            prefix, binary, env, popen = [], subset_bin, dict(os.environ), {}

        def run_as(argv):
            p = subprocess.run(prefix + [str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, env=env, timeout=60, **popen)
            return p.returncode, p.stdout.decode(), p.stderr.decode()

        rc, out, err = run_as([binary, "--version"])
        assert rc == 0 and "subset" in out, f"the unprivileged copy of subset cannot run: rc={rc} {err}"

        inputs = os.path.join(root, "in")
        os.mkdir(inputs, 0o755)
        os.chmod(inputs, 0o755)
        for name in ("features_f32", "labels"):
            dst = os.path.join(inputs, name + ".npy")
            shutil.copy(fixtures["npy"][name], dst)
            os.chmod(dst, 0o644)
        shutil.copy(fixtures["csv"]["train"], os.path.join(inputs, "train.csv"))
        os.chmod(os.path.join(inputs, "train.csv"), 0o644)
        fdir = os.path.join(inputs, "fashion")
        shutil.copytree(fixtures["fashion_dir"], fdir)
        os.chmod(fdir, 0o755)
        for name in os.listdir(fdir):
            os.chmod(os.path.join(fdir, name), 0o644)

        locked = os.path.join(root, "locked")
        os.mkdir(locked)
        existing = os.path.join(locked, "existing.h5")
        with open(existing, "wb") as f:
            f.write(SENTINEL)
        os.chmod(existing, 0o644)
        os.chmod(locked, 0o555)
        # The precondition is real: the user running subset cannot create files there.
        probe = run_as(["/bin/sh", "-c", f"echo x > '{locked}/probe'"])
        assert probe[0] != 0 and not os.path.exists(os.path.join(locked, "probe")), \
            "test setup failed: the output directory is writable"
        before = file_digest(existing)

        feats = os.path.join(inputs, "features_f32.npy")
        cases = [[feats, "--labels", os.path.join(inputs, "labels.npy")],
                 [os.path.join(inputs, "train.csv"), "--label-column", make_fixtures.CSV_LABEL],
                 ["fashion-mnist", "--dataset-dir", fdir]]
        for args in cases:
            new = os.path.join(locked, "new.h5")
            assert_error(run_as([binary, "import", *args, "-o", new]), "not writable", locked)
            assert not os.path.exists(new)
            assert_error(run_as([binary, "import", *args, "-o", existing, "--force"]), "not writable", locked)
            assert file_digest(existing) == before
            assert sorted(os.listdir(locked)) == ["existing.h5"]
    finally:
        for dirpath, dirnames, _ in os.walk(root):
            for d in dirnames:
                os.chmod(os.path.join(dirpath, d), 0o755)
        shutil.rmtree(root, ignore_errors=True)


def test_unknown_source_kind(run, tmp_path, out_dir):
    data = tmp_path / "data.txt"
    data.write_text("1,2\n")
    check_bad_import(run, out_dir, [data], "unknown source", str(data))
    check_bad_import(run, out_dir, ["mnist"], "unknown source", "mnist")


# ---- Ctrl-C ---------------------------------------------------------------------------------------

ROWS_PROMISED = 2_000_000
ROW_DIM = 8


def _npy_header(rows, cols):
    d = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
    pad = 64 - (10 + len(d) + 1) % 64
    d = d + " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + len(d).to_bytes(2, "little") + d.encode()


class FifoImport:
    """`subset import FIFO.npy -o OUT` with the writer end held open by the test, so the import
    blocks in the middle of reading its features with its temporary output already created."""

    def __init__(self, subset_bin, tmp_path, out_path, extra=()):
        self.fifo = str(tmp_path / "stream.npy")
        os.mkfifo(self.fifo)
        self.out_path = str(out_path)
        self.proc = subprocess.Popen([subset_bin, "import", self.fifo, "-o", self.out_path, *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.fd = None
        deadline = time.monotonic() + 10
        while self.fd is None:
            try:
                self.fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno != errno.ENXIO or time.monotonic() > deadline or self.proc.poll() is not None:
                    self.close()
                    raise AssertionError(f"subset never opened the FIFO: {self.proc.poll()} {e}")
                time.sleep(0.005)
        rows = np.arange(50 * ROW_DIM, dtype=np.float32).reshape(50, ROW_DIM)
        os.write(self.fd, _npy_header(ROWS_PROMISED, ROW_DIM) + rows.tobytes())

    def temp_name(self):
        return "." + os.path.basename(self.out_path) + ".partial-" + str(self.proc.pid)

    def wait_for_temp_file(self, timeout=10):
        path = os.path.join(os.path.dirname(self.out_path), self.temp_name())
        deadline = time.monotonic() + timeout
        while not os.path.exists(path):
            assert self.proc.poll() is None, f"import ended early: {self.proc.returncode} {self.proc.stderr.read()}"
            assert time.monotonic() < deadline, f"temporary file {path} never appeared"
            time.sleep(0.005)
        time.sleep(0.05)  # let it reach the blocking read
        return path

    def finish(self, timeout=10):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            raise AssertionError("subset did not stop after the interrupt")
        self.close()
        return self.proc.returncode, out.decode(), err.decode()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _signal_delivered(pid, signo):
    """True once `signo` is no longer pending for the process (it was delivered or it exited)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            status = f.read()
    except OSError:
        return True
    for line in status.splitlines():
        if line.startswith(("ShdPnd:", "SigPnd:")) and int(line.split()[1], 16) & (1 << (signo - 1)):
            return False
    return True


def test_ctrl_c_during_import_leaves_nothing(subset_bin, tmp_path, out_dir):
    out = out_dir / "s.h5"
    imp = FifoImport(subset_bin, tmp_path, out)
    try:
        temp = imp.wait_for_temp_file()
        imp.proc.send_signal(signal.SIGINT)
        rc, stdout, err = imp.finish()
    finally:
        imp.close()
    assert_error((rc, stdout, err), code=130)
    assert err == "error: interrupted\n"
    assert not out.exists()
    assert not os.path.exists(temp)
    assert os.listdir(out_dir) == []


def test_ctrl_c_keeps_existing_output(subset_bin, tmp_path, out_dir):
    out = out_dir / "s.h5"
    out.write_bytes(SENTINEL)
    before = file_digest(out)
    imp = FifoImport(subset_bin, tmp_path, out, extra=["--force"])
    try:
        temp = imp.wait_for_temp_file()
        imp.proc.send_signal(signal.SIGINT)
        rc, stdout, err = imp.finish()
    finally:
        imp.close()
    assert rc == 130 and err == "error: interrupted\n"
    assert file_digest(out) == before
    assert not os.path.exists(temp)
    assert os.listdir(out_dir) == ["s.h5"]


def test_sigterm_during_import_leaves_nothing(subset_bin, tmp_path, out_dir):
    out = out_dir / "s.h5"
    imp = FifoImport(subset_bin, tmp_path, out)
    try:
        imp.wait_for_temp_file()
        imp.proc.send_signal(signal.SIGTERM)
        rc, stdout, err = imp.finish()
    finally:
        imp.close()
    assert rc == 143, f"rc={rc}: SIGTERM is handled like Ctrl-C, with the status of a death by SIGTERM (docs/cli.md)"
    assert err == "error: interrupted\n"
    assert os.listdir(out_dir) == []


@pytest.mark.parametrize("attempt", range(3))
def test_second_ctrl_c_leaves_nothing(subset_bin, tmp_path, out_dir, attempt):
    out = out_dir / "s.h5"
    out.write_bytes(SENTINEL)
    before = file_digest(out)
    imp = FifoImport(subset_bin, tmp_path, out, extra=["--force"])
    try:
        imp.wait_for_temp_file()
        imp.proc.send_signal(signal.SIGINT)
        # The second signal as soon as the first was taken (two identical pending signals would merge).
        deadline = time.monotonic() + 5
        while not _signal_delivered(imp.proc.pid, signal.SIGINT) and time.monotonic() < deadline:
            pass
        if imp.proc.poll() is None:
            imp.proc.send_signal(signal.SIGINT)
        rc, stdout, err = imp.finish()
    finally:
        imp.close()
    assert rc == 130, f"rc={rc} stderr={err!r}"
    # The first signal prints `error: interrupted` while unwinding; the second may cut that short.
    assert err in ("", "error: interrupted\n"), repr(err)
    assert file_digest(out) == before
    assert os.listdir(out_dir) == ["s.h5"]

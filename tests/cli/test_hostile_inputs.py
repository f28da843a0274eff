"""Issue 12, "every value read from a file is validated before it is used for sizes, indices or
classes": hostile stores, arrays, selections and models crafted with h5py and numpy. Each must fail
with exactly one `error:` line naming the problem and a positive exit status, and leave nothing in
the output directory (no output, no `.partial-*`)."""
import os

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_ok

N = 40
D = 4
X = (np.arange(N * D, dtype=np.float32).reshape(N, D) / 9.0 - 2.0).astype(np.float32)
LABELS = np.arange(N, dtype=np.int64) % 4


def write_store(path, X=X, labels=LABELS, weights=None, test=True, label_dtype=None, class_names=None):
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=X, chunks=(8, X.shape[1]))
        if labels is not None:
            lds = f.create_dataset("labels", data=np.asarray(labels, dtype=label_dtype or np.int64))
            if class_names is not None:
                lds.attrs["class_names"] = class_names
        if weights is not None:
            f.create_dataset("weights", data=np.asarray(weights, np.float32))
        if test:
            f.create_dataset("test/features", data=X[:7] * 2)
            f.create_dataset("test/labels", data=LABELS[:7])
    return str(path)


def assert_nothing_left(out_dir):
    left = os.listdir(out_dir)
    assert not left, f"files left in the output directory: {left}"


def fails(run, out_dir, args, *needles, timeout=60):
    line = assert_error(run(*args, timeout=timeout), *needles)
    assert_nothing_left(out_dir)
    return line


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return write_store(tmp_path_factory.mktemp("hostile") / "good.h5")


# ---- case 2: --features must have the store's N rows, whatever its name ----------------------------

@pytest.mark.parametrize("method", ["kmeans", "kcenter", "herding", "random"])
def test_features_dataset_with_another_row_count(run, good, out_dir, method):
    fails(run, out_dir, ["select", good, "-m", method, "-k", "3", "--features", "/test/features",
                         "-o", out_dir / "s.h5"], "/test/features has 7 rows but /features has 40")


# ---- case 3: .npy headers whose sizes overflow or lie ----------------------------------------------

def npy_with_header(path, shape, descr="<f4", data=b"\0" * 1024):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + data)
    return str(path)


@pytest.mark.parametrize("shape,needles", [
    ("(%d, %d)" % (2**62, 2**62), ["too large to address"]),
    ("(0, %d)" % 2**62, ["too large to address"]),
    ("(1000, 1000)", ["needs 4000000 bytes of data but the file holds 1024"]),
    ("(16, 32)", ["needs 2048 bytes of data but the file holds 1024"]),
])
def test_npy_absurd_or_lying_shape(run, tmp_path, out_dir, shape, needles):
    src = npy_with_header(tmp_path / "x.npy", shape)
    fails(run, out_dir, ["import", src, "-o", out_dir / "x.h5"], *needles, "x.npy")


def test_npy_zero_dimensions(run, tmp_path, out_dir):
    fails(run, out_dir, ["import", npy_with_header(tmp_path / "r.npy", "(0, 4)", data=b""), "-o", out_dir / "x.h5"],
          "no rows")
    fails(run, out_dir, ["import", npy_with_header(tmp_path / "c.npy", "(4, 0)", data=b""), "-o", out_dir / "x.h5"],
          "zero columns")


# ---- case 9: labels that are not class ids, weights that are not weights ---------------------------

def test_uint64_label_above_int64_refused(run, tmp_path):
    labels = LABELS.astype(np.uint64)
    labels[5] = np.uint64(2**64 - 1)
    path = write_store(tmp_path / "u64.h5", labels=labels, label_dtype=np.uint64)
    assert_error(run("info", path), "label 18446744073709551615 at row 5", "/labels")
    assert_error(run("info", path, "--json"), "label 18446744073709551615 at row 5")


@pytest.mark.parametrize("args", [
    ["select", "-m", "balanced", "-k", "8"],
    ["select", "-m", "stratified", "-k", "8"],
    ["select", "-m", "random", "-k", "8", "--per-class"],
    ["select", "-m", "el2n", "-k", "8"],
    ["condense", "--ipc", "1", "--iterations", "1", "--net", "mlp"],
    ["evaluate", "--epochs", "1", "--repeats", "1", "--no-cache"],
    ["info"],
])
@pytest.mark.parametrize("label", [10**12, 2**62])
def test_huge_label_refused_on_open(run, tmp_path, out_dir, args, label):
    """Case 5 and 9 of issue 12: such a label reached the samplers as an allocation and libtorch as
    'numel: integer multiplication overflow' with 3 KB of frames."""
    labels = LABELS.copy()
    labels[11] = label
    path = write_store(tmp_path / "big.h5", labels=labels)
    out = ["-o", out_dir / "s.h5"] if args[0] in ("select", "condense") else []
    fails(run, out_dir, [args[0], path, *args[1:], *out], f"label {label} at row 11", "not a class id")


def test_label_at_row_count_refused_and_below_accepted(run, tmp_path):
    labels = LABELS.copy()
    labels[3] = N
    assert_error(run("info", write_store(tmp_path / "n.h5", labels=labels)), "label 40 at row 3")
    labels[3] = N - 1
    assert_ok(run("info", write_store(tmp_path / "n1.h5", labels=labels)))


def test_test_labels_bounded_by_training_rows(run, tmp_path):
    path = write_store(tmp_path / "t.h5")
    with h5py.File(path, "r+") as f:
        del f["test/labels"]
        f["test/labels"] = np.array([0, 1, 2, 3, 0, 1, 5000], np.int64)
    assert_error(run("info", path), "label 5000 at row 6", "/test/labels")


@pytest.mark.parametrize("value,needle", [(-1.0, "weight -1 at row 0"), (np.nan, "at row 0"), (np.inf, "at row 0")])
def test_weights_must_be_finite_and_non_negative(run, tmp_path, value, needle):
    path = write_store(tmp_path / "w.h5", weights=np.full(N, value, np.float32))
    assert_error(run("info", path), needle, "/weights")


def test_import_refuses_labels_that_are_not_class_ids(run, tmp_path, out_dir):
    np.save(tmp_path / "x.npy", X)
    big = LABELS.copy()
    big[2] = 10**12
    np.save(tmp_path / "big.npy", big)
    u64 = LABELS.astype(np.uint64)
    u64[4] = np.uint64(2**64 - 1)
    np.save(tmp_path / "u64.npy", u64)
    fails(run, out_dir, ["import", tmp_path / "x.npy", "--labels", tmp_path / "big.npy", "-o", out_dir / "s.h5"],
          "label 1000000000000 at row 2", "big.npy")
    fails(run, out_dir, ["import", tmp_path / "x.npy", "--labels", tmp_path / "u64.npy", "-o", out_dir / "s.h5"],
          "label 18446744073709551615 at row 4", "u64.npy")


# ---- case 14 and the source_n message: matching a selection to a store -----------------------------

@pytest.fixture(scope="module")
def pair(tmp_path_factory, run):
    d = tmp_path_factory.mktemp("pair")
    main = write_store(d / "main.h5")
    other_x = X.copy()
    other_x[3, 1] += 1.0
    other = write_store(d / "other.h5", X=other_x)
    sels = {}
    for name, store in (("main", main), ("other", other)):
        sels[name] = str(d / f"{name}.sel.h5")
        assert_ok(run("select", store, "-m", "random", "-k", "5", "--seed", "1", "-o", sels[name]))
    return main, other, sels


def edited_copy(src, dst, **edits):
    with h5py.File(src, "r") as s, h5py.File(dst, "w") as d:
        for k, v in s.attrs.items():
            d.attrs[k] = v
        for k in s:
            d.create_dataset(k, data=s[k][()])
        for k, v in edits.items():
            if k == "indices":
                del d["indices"]
                d.create_dataset("indices", data=np.asarray(v, np.int64))
            elif v is None:
                del d.attrs[k]
            else:
                d.attrs[k] = v
    return str(dst)


def test_selection_records_source_dim(pair):
    with h5py.File(pair[2]["main"], "r") as f:
        assert int(f.attrs["source_dim"]) == D


def test_selection_from_another_store_without_checksum_refused(run, pair, tmp_path, out_dir):
    main, _, sels = pair
    sel = edited_copy(sels["other"], tmp_path / "nock.h5", source_checksum=None)
    fails(run, out_dir, ["extract", main, "-s", sel, "-o", out_dir / "x.h5"],
          "no source_checksum", "other.h5", "main.h5")


def test_selection_without_checksum_from_the_same_store_accepted(run, pair, tmp_path, out_dir):
    main, _, sels = pair
    sel = edited_copy(sels["main"], tmp_path / "nock.h5", source_checksum=None, source_dim=None)
    assert_ok(run("extract", main, "-s", sel, "-o", out_dir / "x.h5"))


def test_selection_with_another_dimension_refused(run, pair, tmp_path, out_dir):
    main, _, sels = pair
    sel = edited_copy(sels["main"], tmp_path / "dim.h5", source_dim=np.int64(D + 3))
    fails(run, out_dir, ["extract", main, "-s", sel, "-o", out_dir / "x.h5"], "dimension 7")


def test_edited_source_n_is_named_not_an_index(run, pair, tmp_path, out_dir):
    main, _, sels = pair
    sel = edited_copy(sels["main"], tmp_path / "n.h5", indices=[0, N - 1], source_n=np.int64(N - 1))
    line = fails(run, out_dir, ["extract", main, "-s", sel, "-o", out_dir / "x.h5"],
                 f"made for a store of {N - 1} rows", f"has {N}")
    assert "out of range" not in line


def test_genuinely_bad_index_still_named(run, pair, tmp_path, out_dir):
    main, _, sels = pair
    sel = edited_copy(sels["main"], tmp_path / "i.h5", indices=[0, N + 5])
    fails(run, out_dir, ["extract", main, "-s", sel, "-o", out_dir / "x.h5"],
          f"index {N + 5} is out of range for a store of {N} rows")


# ---- case 15: virtual and external datasets --------------------------------------------------------

def test_virtual_dataset_with_missing_source_refused(run, tmp_path, out_dir):
    src = tmp_path / "src.h5"
    with h5py.File(src, "w") as f:
        f["data"] = X
    path = str(tmp_path / "vds.h5")
    layout = h5py.VirtualLayout(shape=X.shape, dtype=np.float32)
    layout[:] = h5py.VirtualSource(str(src), "data", shape=X.shape)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_virtual_dataset("features", layout, fillvalue=0)
    os.remove(src)
    assert_error(run("info", path), "virtual datasets are not supported", "h5repack", "/features")
    fails(run, out_dir, ["select", path, "-m", "kcenter", "-k", "3", "-o", out_dir / "s.h5"], "virtual")


def test_external_dataset_refused(run, tmp_path, out_dir):
    raw = tmp_path / "labels.raw"
    LABELS.tofile(raw)
    path = write_store(tmp_path / "ext.h5", labels=None)
    with h5py.File(path, "r+") as f:
        f.create_dataset("labels", shape=(N,), dtype=np.int64, external=[(str(raw), 0, N * 8)])
    assert_error(run("info", path), "external storage are not supported", "/labels")


def test_external_features_dataset_option_refused(run, good, tmp_path, out_dir):
    raw = tmp_path / "emb.raw"
    X.tofile(raw)
    path = write_store(tmp_path / "emb.h5")
    with h5py.File(path, "r+") as f:
        f.create_dataset("emb", shape=X.shape, dtype=np.float32, external=[(str(raw), 0, X.nbytes)])
    fails(run, out_dir, ["select", path, "-m", "kcenter", "-k", "3", "--features", "/emb", "-o", out_dir / "s.h5"],
          "external storage", "/emb")


# ---- a NaN in a model file is blamed on the model file ---------------------------------------------

def test_nan_in_model_names_the_model(run, good, tmp_path, out_dir):
    model = str(tmp_path / "m.h5")
    assert_ok(run("compress", good, "--method", "gaussian-rp", "--dim", "2", "-o", tmp_path / "c.h5",
                  "--model-out", model))
    with h5py.File(model, "r+") as f:
        name = next(k for k in f if isinstance(f[k], h5py.Dataset))
        values = f[name][()]
        values.flat[0] = np.nan
        f[name][...] = values
    fails(run, out_dir, ["compress", good, "--apply", model, "-o", out_dir / "c.h5"], "m.h5", "/" + name,
          "model array")


# ---- found by the adversarial pass (tests/cli/adversarial_pass.py) ---------------------------------

def test_huge_thread_count_refused_not_a_crash(run, good, out_dir):
    # libgomp overflowed its stack building a team of 100000 threads (SIGSEGV).
    fails(run, out_dir, ["--threads", "100000", "select", good, "-m", "kmeans", "-k", "3", "-o", out_dir / "s.h5"],
          "at most 4096", "100000")


@pytest.mark.parametrize("args", [["info"], ["select", "-m", "random", "-k", "3"], ["compress", "-m", "pca", "--dim", "2"]])
def test_fifo_as_hdf5_input_refused_at_once(run, tmp_path, out_dir, args):
    # Opening a FIFO with no writer waited forever; HDF5 cannot read a pipe anyway.
    fifo = tmp_path / "pipe.h5"
    os.mkfifo(fifo)
    out = ["-o", out_dir / "o.h5"] if args[0] != "info" else []
    fails(run, out_dir, [args[0], fifo, *args[1:], *out], "not a regular file", "pipe.h5", timeout=20)


def test_fifo_as_selection_refused_at_once(run, good, tmp_path, out_dir):
    fifo = tmp_path / "sel.h5"
    os.mkfifo(fifo)
    fails(run, out_dir, ["extract", good, "-s", fifo, "-o", out_dir / "x.h5"], "not a regular file", timeout=20)


def test_tiny_eps_is_refused_not_projected_to_one_dimension(run, good, out_dir):
    # The Johnson-Lindenstrauss bound became infinite and its conversion to an integer gave K = 1.
    fails(run, out_dir, ["compress", good, "-m", "gaussian-rp", "--eps", "1e-300", "-o", out_dir / "c.h5"],
          "Johnson-Lindenstrauss", "not below the input dimension")


def test_csv_value_beyond_double_range_refused_not_read_as_zero(run, tmp_path, out_dir):
    src = tmp_path / "big.csv"
    src.write_text("a,b,label\n1,1e999,0\n3,4,1\n")
    fails(run, out_dir, ["import", src, "--label-column", "label", "-o", out_dir / "s.h5"],
          "'1e999'", "out of float32 range", "big.csv")
    src.write_text("a,b,label\n1,-1e400,0\n3,4,1\n")
    fails(run, out_dir, ["import", src, "--label-column", "label", "-o", out_dir / "s.h5"], "'-1e400'")


def test_csv_value_below_double_range_still_rounds_to_zero(run, tmp_path, out_dir):
    src = tmp_path / "small.csv"
    src.write_text("a,b,label\n1,1e-999,0\n3,4,1\n")
    assert_ok(run("import", src, "--label-column", "label", "-o", out_dir / "s.h5"))
    with h5py.File(out_dir / "s.h5", "r") as f:
        assert f["features"][0, 1] == 0.0


@pytest.mark.parametrize("names,extra,needle", [
    ("a,b,c", [], "without --labels"),
    ("a,a,b", ["--labels"], "'a' is given twice"),
    ("a,,b", ["--labels"], "class name 1 is empty"),
])
def test_import_class_names_validated(run, tmp_path, out_dir, names, extra, needle):
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", LABELS % 3)
    labels = [tmp_path / "y.npy"] if extra else []
    fails(run, out_dir, ["import", tmp_path / "x.npy", *extra, *labels, "--class-names", names,
                         "-o", out_dir / "s.h5"], needle, "--class-names")


def test_bench_force_never_deletes_a_directory_holding_the_store(run, tmp_path):
    # `bench -o DIR --force` removed DIR whole, the input store and everything beside it included.
    d = tmp_path / "data"
    d.mkdir()
    store = write_store(d / "s.h5")
    (d / "notes.txt").write_text("keep me")
    before = sorted(os.listdir(d))
    args = ["--methods", "random", "--fractions", "0.5", "--epochs", "1", "--repeats", "1", "--no-plot"]
    assert_error(run("bench", store, *args, "-o", d, "--force"), "contains the input store", "--force")
    assert sorted(os.listdir(d)) == before


def test_bench_force_replaces_only_an_earlier_sweep(run, good, tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "thesis.tex").write_text("keep me")
    args = ["--methods", "random", "--fractions", "0.5", "--epochs", "1", "--repeats", "1", "--no-plot"]
    assert_error(run("bench", good, *args, "-o", d, "--force"), "no results.json", "not replaced")
    assert (d / "thesis.tex").read_text() == "keep me"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_ok(run("bench", good, *args, "-o", empty, "--force"))
    assert_ok(run("bench", good, *args, "-o", empty, "--force"))
    assert (empty / "results.json").exists()


@pytest.mark.parametrize("command", [
    ["evaluate", "--epochs", "1", "--repeats", "1", "--no-cache", "--hidden", "100000000000"],
    ["select", "-m", "el2n", "-k", "3", "--score-hidden", "100000000000"],
])
def test_mlp_wider_than_memory_refused_at_once(run, good, out_dir, command):
    # Such a width swapped for minutes (past any timeout) instead of failing.
    out = ["-o", out_dir / "s.h5"] if command[0] == "select" else []
    fails(run, out_dir, [command[0], good, *command[1:], *out], "hidden width 100000000000", "GB", timeout=30)

"""libsubset.Store, the importers and extract, against the CLI (`subset info --json`, `subset import`,
`subset extract`), h5py and the fixtures' own arrays."""
import json
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from subset_testing import REAL_FASHION_DIR, assert_no_partials, assert_ok

libsubset = pytest.importorskip("libsubset")


def info_json(run, path):
    return json.loads(assert_ok(run("info", path, "--json")))


def h5_datasets(path):
    """Every dataset of an HDF5 file with its attributes; root attributes except created_by/energy."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = (obj[()], {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in obj.attrs.items()})
        f.visititems(visit)
        out["/"] = {k: v for k, v in f.attrs.items() if k not in ("created_by", "energy", "source")}
    return out


def assert_same_store(a, b):
    da, db = h5_datasets(a), h5_datasets(b)
    assert sorted(da) == sorted(db)
    for name in da:
        if name == "/":
            assert da[name].keys() == db[name].keys()
            continue
        assert da[name][0].dtype == db[name][0].dtype, name
        assert np.array_equal(da[name][0], db[name][0]), name
        assert da[name][1] == db[name][1], name


@pytest.fixture(scope="module")
def fashion_store(fixtures, tmp_path_factory):
    """The fake Fashion-MNIST (20 + 10 images) imported by the CLI: the oracle store."""
    path = str(tmp_path_factory.mktemp("store") / "fashion.h5")
    binary = os.environ.get("SUBSET_BIN")
    if not binary:
        pytest.skip("SUBSET_BIN is not set")
    subprocess.run([binary, "import", "fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "--chunk-rows", "3",
                    "-o", path], check=True, stdout=subprocess.DEVNULL)
    return path


# ---- Store ---------------------------------------------------------------------------------------

def test_store_metadata_matches_cli_info(run, fixtures, fashion_store):
    store = libsubset.Store(fashion_store)
    cli = info_json(run, fashion_store)
    assert store.info == cli
    a = fixtures["fashion"]
    assert (store.n, store.dim, len(store)) == (20, 784, 20)
    assert store.image_shape == (1, 28, 28)
    assert store.has_labels and store.labels.dtype == np.int64
    assert np.array_equal(store.labels, a["train_labels"].astype(np.int64))
    assert store.class_names == cli["class_names"] and len(store.class_names) == 10
    assert store.num_classes == 10
    expected_counts = {int(c): int((a["train_labels"] == c).sum()) for c in np.unique(a["train_labels"])}
    assert store.class_counts == expected_counts
    assert store.has_test and store.n_test == 10 and store.has_test_labels
    assert np.array_equal(store.test_labels, a["test_labels"].astype(np.int64))
    assert store.test_class_counts == {int(c): 1 for c in range(10)}
    assert store.weights is None
    # Labels handed out are copies: changing them does not change the store's.
    store.labels[:] = 0
    assert np.array_equal(store.labels, a["train_labels"])


def test_features_read_as_h5py_reads_them(fixtures, fashion_store):
    store = libsubset.Store(fashion_store)
    with h5py.File(fashion_store, "r") as f:
        X = f["features"][()]
        T = f["test/features"][()]
    # The importer's own definition: pixel / 255 (the fixture's IDX bytes).
    a = fixtures["fashion"]
    assert np.array_equal(X, (a["train_images"].reshape(20, -1) / np.float32(255)).astype(np.float32))
    f = store.features
    assert f.shape == (20, 784) and f.dtype == np.float32 and len(f) == 20 and f.ndim == 2
    assert np.array_equal(np.asarray(f), X)
    assert np.asarray(f).dtype == np.float32
    assert np.array_equal(f[0], X[0]) and f[0].shape == (784,)
    assert np.array_equal(f[-1], X[-1])
    assert np.array_equal(f[np.int64(7)], X[7])
    assert np.array_equal(f[3:11], X[3:11])
    assert np.array_equal(f[::3], X[::3])
    assert np.array_equal(f[15:2:-4], X[15:2:-4])
    assert f[5:5].shape == (0, 784)
    rows = [19, 0, 4, 5, 6, 4, -2]  # unordered, repeated, a run across chunks, negative
    assert np.array_equal(f[rows], X[rows])
    assert np.array_equal(f[np.array(rows, dtype=np.int32)], X[rows])
    mask = np.arange(20) % 3 == 1
    assert np.array_equal(f[mask], X[mask])
    assert np.array_equal(f[rows, 100:110], X[rows, 100:110])
    assert np.array_equal(f[2, 5], X[2, 5])
    assert np.array_equal(np.stack(list(f)), X)
    assert f[[]].shape == (0, 784)
    t = store.test_features
    assert t.shape == (10, 784)
    assert np.array_equal(np.asarray(t), T)
    assert np.array_equal(t[[9, 1]], T[[9, 1]])


def test_bad_row_indices(fashion_store):
    f = libsubset.Store(fashion_store).features
    for bad in (20, -21):
        with pytest.raises(IndexError):
            f[bad]
    with pytest.raises(IndexError):
        f[[0, 20]]
    with pytest.raises(IndexError):
        f[np.array([0.5, 1.0])]
    with pytest.raises(IndexError):
        f[np.ones(5, dtype=bool)]
    with pytest.raises(IndexError):
        f[np.zeros((2, 2), dtype=np.int64)]


def test_store_without_labels_or_test(run, fixtures, tmp_path):
    p = fixtures["npy"]
    path = tmp_path / "plain.h5"
    assert_ok(run("import", p["features_f32"], "-o", path))
    store = libsubset.Store(path)
    assert store.info == info_json(run, path)
    assert not store.has_labels and store.labels is None and store.class_counts == {}
    assert not store.has_test and store.test_features is None and store.n_test == 0 and store.test_labels is None
    assert store.image_shape is None
    assert np.array_equal(np.asarray(store.features), fixtures["npy_arrays"]["features_f32"])


def test_bad_paths_raise_oserror_or_value_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        libsubset.Store(tmp_path / "missing.h5")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises((OSError, ValueError, RuntimeError)) as e:
        libsubset.Store(junk)
    assert "junk.h5" in str(e.value)
    with h5py.File(tmp_path / "nofeat.h5", "w") as f:
        f["labels"] = np.zeros(3, dtype=np.int64)
    with pytest.raises((ValueError, RuntimeError)) as e:
        libsubset.Store(tmp_path / "nofeat.h5")
    assert "features" in str(e.value)


# ---- imports ---------------------------------------------------------------------------------------

def test_import_fashion_mnist_as_cli(run, fixtures, out_dir):
    cli = out_dir / "cli.h5"
    assert_ok(run("import", "fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "-o", cli))
    py = out_dir / "py.h5"
    store = libsubset.import_fashion_mnist(py, dataset_dir=fixtures["fashion_dir"])
    assert isinstance(store, libsubset.Store) and store.path == str(py)
    assert_same_store(cli, py)
    with h5py.File(py, "r") as f:
        energy = json.loads(f.attrs["energy"])
    assert energy["kwh"] >= 0 and energy["components"], "the import's energy is recorded as the CLI does"
    # compression and chunking as --compression gzip:3 --chunk-rows 4
    cli2, py2 = out_dir / "cli2.h5", out_dir / "py2.h5"
    assert_ok(run("import", "fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "--compression", "gzip:3",
                  "--chunk-rows", "4", "-o", cli2))
    s2 = libsubset.import_fashion_mnist(py2, dataset_dir=fixtures["fashion_dir"], compression="gzip:3", chunk_rows=4,
                                        energy=False)
    assert s2.info["compression"] == info_json(run, cli2)["compression"] != "none"
    assert s2.info["chunk_rows"] == 4
    assert_same_store(cli2, py2)
    with h5py.File(py2, "r") as f:
        assert "energy" not in f.attrs
    with pytest.raises(ValueError, match="compression"):
        libsubset.import_fashion_mnist(out_dir / "x.h5", dataset_dir=fixtures["fashion_dir"], compression="zip")
    assert not (out_dir / "x.h5").exists()


def test_import_npy_as_cli(run, fixtures, out_dir):
    p = fixtures["npy"]
    cli, py = out_dir / "cli.h5", out_dir / "py.h5"
    assert_ok(run("import", p["features_f64"], "--labels", p["labels"], "--test-features", p["test_features_f32"],
                  "--test-labels", p["test_labels"], "--class-names", "a,b,c", "-o", cli))
    store = libsubset.import_npy(p["features_f64"], py, labels=p["labels"], test_features=p["test_features_f32"],
                                 test_labels=p["test_labels"], class_names=["a", "b", "c"])
    assert_same_store(cli, py)
    assert store.class_names == ["a", "b", "c"] and store.n_test == 8
    cli_img, py_img = out_dir / "cli_img.h5", out_dir / "py_img.h5"
    assert_ok(run("import", p["features_u8"], "--image-shape", "1,2,3", "-o", cli_img))
    assert libsubset.import_npy(p["features_u8"], py_img, image_shape=(1, 2, 3)).image_shape == (1, 2, 3)
    assert_same_store(cli_img, py_img)
    with pytest.raises(ValueError, match="image_shape"):
        libsubset.import_npy(p["features_u8"], out_dir / "bad.h5", image_shape=(2, 3))
    with pytest.raises(FileNotFoundError):
        libsubset.import_npy(out_dir / "missing.npy", out_dir / "bad.h5")
    assert not (out_dir / "bad.h5").exists()


def test_import_csv_as_cli(run, fixtures, out_dir):
    c = fixtures["csv"]
    cli, py = out_dir / "cli.h5", out_dir / "py.h5"
    assert_ok(run("import", c["train"], "--label-column", "species", "--test-features", c["test"], "-o", cli))
    store = libsubset.import_csv(c["train"], py, label_column="species", test_features=c["test"])
    assert_same_store(cli, py)
    t = fixtures["csv_tables"]
    assert np.array_equal(store.labels, t["train_labels"])
    assert np.array_equal(store.features[:], t["train"])
    cli2, py2 = out_dir / "cli2.h5", out_dir / "py2.h5"
    assert_ok(run("import", c["semicolon"], "--label-column", "label", "--delimiter", ";", "-o", cli2))
    libsubset.import_csv(c["semicolon"], py2, label_column="label", delimiter=";")
    assert_same_store(cli2, py2)
    with pytest.raises(ValueError, match="delimiter"):
        libsubset.import_csv(c["semicolon"], out_dir / "bad.h5", delimiter=";;")
    with pytest.raises((ValueError, RuntimeError), match="nope"):
        libsubset.import_csv(c["train"], out_dir / "bad.h5", label_column="nope")
    assert not (out_dir / "bad.h5").exists()


def test_import_layout_scale_and_test_fraction_as_cli(run, fixtures, tmp_path, out_dir):
    """layout=, scale=, test_fraction=/seed= write what `subset import --layout --scale --test-fraction
    --seed` writes; the recorded value range is Store.value_range."""
    arr = np.random.default_rng(3).integers(0, 256, size=(12, 4, 5, 3), dtype=np.uint8)
    labels = np.array([0] * 6 + [1] * 4 + [2] * 2)
    np.save(tmp_path / "x.npy", arr)
    np.save(tmp_path / "y.npy", labels)
    cli, py = out_dir / "cli.h5", out_dir / "py.h5"
    assert_ok(run("import", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", "--layout", "nhwc", "--scale", "1/255",
                  "--test-fraction", "0.25", "--seed", "4", "-o", cli))
    store = libsubset.import_npy(tmp_path / "x.npy", py, labels=tmp_path / "y.npy", layout="nhwc", scale="1/255",
                                 test_fraction=0.25, seed=4)
    assert_same_store(cli, py)
    assert store.image_shape == (3, 4, 5) and store.n == 9 and store.n_test == 3
    both = np.concatenate([store.features[:].ravel(), store.test_features[:].ravel()])
    assert store.value_range == (float(both.min()), float(both.max()))
    # A float scale is the same factor as its decimal text.
    half = libsubset.import_npy(tmp_path / "x.npy", out_dir / "half.h5", layout="nchw", scale=0.5)
    assert np.array_equal(half.features[:], (arr.reshape(12, -1).astype(np.float64) * 0.5).astype(np.float32))
    with pytest.raises(ValueError, match="layout"):
        libsubset.import_npy(tmp_path / "x.npy", out_dir / "bad.h5")
    with pytest.raises(ValueError, match="scale"):
        libsubset.import_npy(tmp_path / "x.npy", out_dir / "bad.h5", layout="nhwc", scale=0)
    with pytest.raises(ValueError, match="test.fraction"):
        libsubset.import_npy(tmp_path / "x.npy", out_dir / "bad.h5", layout="nhwc", test_fraction=0.25)
    assert not (out_dir / "bad.h5").exists()

    c = fixtures["csv"]
    cli2, py2 = out_dir / "cli2.h5", out_dir / "py2.h5"
    assert_ok(run("import", c["train"], "--label-column", "species", "--scale", "2", "--test-fraction", "0.25",
                  "--seed", "9", "-o", cli2))
    libsubset.import_csv(c["train"], py2, label_column="species", scale=2, test_fraction=0.25, seed=9)
    assert_same_store(cli2, py2)


def test_existing_output_refused_unless_force(fixtures, out_dir):
    out = out_dir / "s.h5"
    out.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        libsubset.import_fashion_mnist(out, dataset_dir=fixtures["fashion_dir"])
    assert out.read_bytes() == b"keep me"
    store = libsubset.import_fashion_mnist(out, dataset_dir=fixtures["fashion_dir"], force=True)
    assert store.n == 20


def test_output_equal_to_input_refused(fixtures, fashion_store, out_dir):
    p = fixtures["npy"]
    copy = out_dir / "f.npy"
    copy.write_bytes(open(p["features_f32"], "rb").read())
    before = copy.read_bytes()
    with pytest.raises((OSError, ValueError, RuntimeError)):
        libsubset.import_npy(copy, copy, force=True)
    assert copy.read_bytes() == before
    sel = libsubset.select(fashion_store, method="random", budget=5, energy=False)
    digest = open(fashion_store, "rb").read()
    with pytest.raises((OSError, ValueError, RuntimeError)):
        libsubset.extract(fashion_store, sel, fashion_store, force=True)
    assert open(fashion_store, "rb").read() == digest


# ---- extract ---------------------------------------------------------------------------------------

def test_extract_matches_cli(run, fashion_store, out_dir):
    sel_path = out_dir / "sel.h5"
    assert_ok(run("select", fashion_store, "--method", "kmeans", "--budget", "6", "--seed", "3", "-o", sel_path))
    cli = out_dir / "cli.h5"
    assert_ok(run("extract", fashion_store, "--selection", sel_path, "-o", cli))
    from_path = libsubset.extract(fashion_store, sel_path, out_dir / "from_path.h5")
    assert_same_store(cli, from_path.path)
    # A Selection in memory (no file written) gives the same store.
    sel = libsubset.select(fashion_store, method="kmeans", budget=6, seed=3, energy=False)
    from_memory = libsubset.extract(libsubset.Store(fashion_store), sel, out_dir / "from_memory.h5")
    assert_same_store(cli, from_memory.path)
    assert from_memory.n == 6 and from_memory.weights is not None
    store = libsubset.Store(fashion_store)
    assert np.array_equal(np.asarray(from_memory.features), store.features[sel.indices])
    assert np.array_equal(from_memory.labels, store.labels[sel.indices])
    assert np.array_equal(from_memory.weights, sel.weights)
    assert from_memory.n_test == store.n_test
    # A Selection loaded from the file too.
    loaded = libsubset.extract(fashion_store, libsubset.Selection.load(sel_path), out_dir / "loaded.h5")
    assert_same_store(cli, loaded.path)


def test_extract_memory_limit_reaches_subset_extract(run, fashion_store, out_dir):
    sel_path = out_dir / "sel.h5"
    assert_ok(run("select", fashion_store, "--method", "random", "--budget", "6", "-o", sel_path))
    cli = out_dir / "cli.h5"
    assert_ok(run("extract", fashion_store, "--selection", sel_path, "-o", cli))
    roomy = libsubset.extract(fashion_store, sel_path, out_dir / "roomy.h5", memory_limit="64G")
    assert_same_store(cli, roomy.path)
    # Less than the interpreter already holds: refused before anything is written.
    with pytest.raises(ValueError, match="too small"):
        libsubset.extract(fashion_store, sel_path, out_dir / "tight.h5", memory_limit=2 * 2**20)
    for bad in ("lots", 1.5, True):
        with pytest.raises(ValueError, match="memory_limit"):
            libsubset.extract(fashion_store, sel_path, out_dir / "bad.h5", memory_limit=bad)
    assert sorted(os.listdir(out_dir)) == ["cli.h5", "roomy.h5", "sel.h5"]


def test_extract_refuses_foreign_selection_and_existing_output(fixtures, fashion_store, out_dir):
    other = libsubset.import_npy(fixtures["npy"]["features_f32"], out_dir / "other.h5")
    sel = libsubset.select(other.path, method="random", budget=3, energy=False)
    with pytest.raises((ValueError, RuntimeError), match="made for a store of dimension 6"):
        libsubset.extract(fashion_store, sel, out_dir / "x.h5")
    assert not (out_dir / "x.h5").exists()
    good = libsubset.select(fashion_store, method="random", budget=3, energy=False)
    (out_dir / "exists.h5").write_bytes(b"x")
    with pytest.raises(FileExistsError):
        libsubset.extract(fashion_store, good, out_dir / "exists.h5")
    assert libsubset.extract(fashion_store, good, out_dir / "exists.h5", force=True).n == 3
    with pytest.raises(ValueError, match="selection"):
        libsubset.extract(fashion_store, [1, 2, 3], out_dir / "y.h5")
    with pytest.raises(FileNotFoundError):
        libsubset.extract(fashion_store, out_dir / "missing_sel.h5", out_dir / "y.h5")
    with pytest.raises(FileNotFoundError):
        libsubset.extract(out_dir / "missing.h5", good, out_dir / "y.h5")


# ---- Ctrl-C ----------------------------------------------------------------------------------------

CHILD = r"""
import sys, time
import libsubset
out = sys.argv[1]
print("ready", flush=True)
t0 = time.monotonic()
try:
    # gzip:1 makes the import last ~5 s; the importer checks for Ctrl-C between 16 MiB blocks.
    libsubset.import_fashion_mnist(out, compression="gzip:1", energy=False)
except KeyboardInterrupt:
    print("interrupted %.3f" % (time.monotonic() - t0), flush=True)
    sys.exit(3)
print("finished %.3f" % (time.monotonic() - t0), flush=True)
"""


@pytest.mark.skipif(not os.path.isdir(REAL_FASHION_DIR), reason="Fashion-MNIST is not installed")
def test_ctrl_c_during_import_leaves_nothing(out_dir):
    out = out_dir / "fmnist.h5"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.environ.get("SUBSET_PYTHON_PACKAGE", "")] + sys.path if p)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    elapsed = time.monotonic() - sent
    assert proc.returncode == 3, f"rc={proc.returncode}\n{stdout}\n{stderr}"
    assert stdout.startswith("interrupted"), stdout
    assert elapsed < 1.5, f"KeyboardInterrupt took {elapsed:.2f} s"
    assert not out.exists()
    assert_no_partials(str(out_dir))

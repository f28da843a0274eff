"""`subset info` on every kind of file the tool writes (a selection, a model, an embedding store, a
condensation checkpoint): each made with the CLI on a small fixture store, its table and --json
checked against what h5py reads from the file; --store verdicts; the --check-values line against a
numpy count; files of no known kind refused with one line."""
import json
import os
import signal
import sqlite3
import subprocess
import time

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_ok, make_fixtures


def info_json(run, path, *extra):
    rc, out, err = run("info", path, "--json", *extra)
    assert rc == 0, err
    assert err == ""
    return json.loads(out)


def attr_text(f, name):
    v = f.attrs[name]
    return v.decode() if isinstance(v, bytes) else str(v)


def attr_json(f, name):
    return json.loads(attr_text(f, name))


@pytest.fixture(scope="module")
def files(run, fixtures, tmp_path_factory):
    """Files made by the CLI: a labelled store with a test split and one with other rows, selections,
    models, an embedding store and a selection made on it."""
    d = tmp_path_factory.mktemp("files")
    p = fixtures["npy"]
    f = {k: str(d / v) for k, v in {
        "store": "store.h5", "other": "other.h5", "fashion": "fashion.h5", "sel": "kcenter.sel.h5",
        "rand": "random.sel.h5", "pca": "pca.model.h5", "pca_out": "pca.h5", "rp": "rp.model.h5", "rp_out": "rp.h5",
        "emb": "emb.h5", "emb_sel": "emb.sel.h5"}.items()}
    assert_ok(run("import", p["features_f32"], "--labels", p["labels"], "--test-features", p["test_features_f32"],
                  "--test-labels", p["test_labels"], "-o", f["store"]))
    assert_ok(run("import", p["test_features_f32"], "-o", f["other"]))
    assert_ok(run("import", "fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "-o", f["fashion"]))
    assert_ok(run("select", f["store"], "-m", "kcenter", "-k", "5", "--seed", "3", "-o", f["sel"]))
    assert_ok(run("select", f["store"], "-m", "random", "--fraction", "0.5", "--per-class", "--seed", "7",
                  "-o", f["rand"]))
    assert_ok(run("compress", f["store"], "-m", "pca", "--dim", "3", "-o", f["pca_out"], "--model-out", f["pca"]))
    assert_ok(run("compress", f["store"], "-m", "gaussian-rp", "--dim", "2", "--seed", "5", "-o", f["rp_out"],
                  "--model-out", f["rp"]))
    return f


@pytest.fixture(scope="module")
def emb(run, files):
    """An embedding store of files["store"] (`subset embed`, which loads libsubset_nn) and a
    selection made on it."""
    rc, _, err = run("embed", files["store"], "--model", "pca", "--dim", "2", "-o", files["emb"])
    if rc != 0 and "no libtorch" in err:
        pytest.skip("embed needs libsubset_nn: " + err)
    assert rc == 0, err
    assert_ok(run("select", files["emb"], "-m", "kcenter", "-k", "4", "-o", files["emb_sel"]))
    return files


# ---- kind, in every --json -------------------------------------------------------------------------

def test_kind_in_every_json(run, files):
    assert info_json(run, files["store"])["kind"] == "store"
    assert info_json(run, files["pca_out"])["kind"] == "store"
    assert info_json(run, files["sel"])["kind"] == "selection"
    assert info_json(run, files["pca"])["kind"] == "model"


# ---- selections ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sel", "rand"])
def test_selection_against_h5py(run, files, name):
    path = files[name]
    j = info_json(run, path)
    with h5py.File(path, "r") as f:
        indices = f["indices"][...]
        weights = f["weights"][...] if "weights" in f else None
        assert j["method"] == attr_text(f, "method")
        assert j["params"] == attr_json(f, "params")
        assert str(j["seed"]) == attr_text(f, "seed")
        assert j["budget"] == int(f.attrs["budget"])
        assert j["per_class"] == bool(f.attrs["per_class"])
        assert j["source"] == attr_text(f, "source")
        assert j["source_n"] == int(f.attrs["source_n"])
        assert j["source_checksum"] == attr_text(f, "source_checksum")
        energy = attr_json(f, "energy")
    assert j["selected"] == len(indices)
    assert j["fraction"] == pytest.approx(len(indices) / j["source_n"])
    assert j["weighted"] == (weights is not None)
    if weights is not None:
        assert j["weights_sum"] == pytest.approx(float(weights.astype(np.float64).sum()), rel=1e-6)
    assert j["energy_summary"]["kwh"] == pytest.approx(energy["kwh"])
    sources = {c["source"] for c in energy["components"]}
    expected = "measured" if sources == {"measured"} else "estimated" if "measured" not in sources else "partly measured"
    assert j["energy_summary"]["source"] == expected
    assert "store_match" not in j and "values_checked" not in j

    out = assert_ok(run("info", path))
    assert out.startswith(f"{path}: selection (subset-selection v1)")
    assert f"method      {j['method']}, seed {j['seed']}, budget {j['budget']}" in out
    assert f"selected    {len(indices)} of {make_fixtures.NPY_TRAIN} rows" in out
    assert ("weighted (weights sum to" in out) == (weights is not None)
    assert ("unweighted" in out) == (weights is None)
    assert ("(per class)" in out) == j["per_class"]
    assert f"source      {files['store']} ({make_fixtures.NPY_TRAIN} rows x {make_fixtures.NPY_DIM}" in out
    assert f"{energy['kwh']:.3g} kWh ({expected})" in out


def test_selection_values_as_made(run, files):
    j = info_json(run, files["rand"])
    assert j["method"] == "random" and j["seed"] == 7 and j["per_class"] is True
    assert j["weighted"] is False
    j = info_json(run, files["sel"])
    assert j["method"] == "kcenter" and j["seed"] == 3 and j["budget"] == 5 and j["selected"] == 5


def test_selection_matches_its_store(run, files):
    j = info_json(run, files["sel"], "--store", files["store"])
    assert j["store_match"] == {"store": files["store"], "matches": True, "reason": j["store_match"]["reason"]}
    out = assert_ok(run("info", files["sel"], "--store", files["store"]))
    assert f"store       matches {files['store']}" in out


def test_selection_does_not_match_another_store(run, files):
    # Other rows (the test split imported alone): the row counts differ.
    j = info_json(run, files["sel"], "--store", files["other"])
    assert j["store_match"]["matches"] is False
    assert f"{make_fixtures.NPY_TRAIN} rows" in j["store_match"]["reason"]
    # Same rows, other features (the PCA output): the dimension differs, as extract says.
    j = info_json(run, files["sel"], "--store", files["pca_out"])
    assert j["store_match"]["matches"] is False and "dimension" in j["store_match"]["reason"]
    rc, out, err = run("info", files["sel"], "--store", files["other"])
    assert rc == 0 and err == ""
    assert f"store       does NOT match {files['other']}" in out
    # extract refuses the same pair, for the same reason.
    reason = info_json(run, files["sel"], "--store", files["other"])["store_match"]["reason"]
    assert_error(run("extract", files["other"], "--selection", files["sel"], "-o", files["store"] + ".x.h5"), reason)


def test_selection_on_embedding_matches_source_store(run, files, emb):
    j = info_json(run, files["emb_sel"], "--store", files["store"])
    assert j["store_match"]["matches"] is True and "same-rows" in j["store_match"]["reason"]
    with h5py.File(files["emb_sel"], "r") as f:
        assert j["same_rows"] == attr_json(f, "same_rows")
    assert j["same_rows"]["source"] == files["store"]
    assert info_json(run, files["emb_sel"], "--store", files["emb"])["store_match"]["matches"] is True
    assert info_json(run, files["emb_sel"], "--store", files["other"])["store_match"]["matches"] is False


def test_store_option_errors(run, files, tmp_path):
    assert_error(run("info", files["sel"], "--store", tmp_path / "nope.h5"), "no such file", "nope.h5")
    assert_error(run("info", files["sel"], "--store", files["pca"]), "not a feature store")
    assert_error(run("info", files["pca"], "--store", files["store"]), "--store", "model")
    assert_error(run("info", files["store"], "--store", files["store"]), "--store")


# ---- models ----------------------------------------------------------------------------------------

def test_pca_model_against_h5py_and_numpy(run, files):
    j = info_json(run, files["pca"])
    with h5py.File(files["pca"], "r") as f:
        assert j["method"] == attr_text(f, "method") == "pca"
        assert j["input_dim"] == int(np.asarray(f.attrs["input_dim"]).ravel()[0]) == make_fixtures.NPY_DIM
        assert j["output_dim"] == int(np.asarray(f.attrs["output_dim"]).ravel()[0]) == 3
        assert j["params"] == attr_json(f, "params")
        assert j["source"] == attr_text(f, "source") == files["store"]
        assert j["source_checksum"] == attr_text(f, "source_checksum")
        assert j["arrays"] == {name: list(f[name].shape) for name in f}
    with h5py.File(files["store"], "r") as f:
        x = f["features"][...].astype(np.float64)
    # Oracle: the top-3 eigenvalues of the covariance over its trace.
    eig = np.sort(np.linalg.eigvalsh(np.cov(x, rowvar=False)))[::-1]
    ratio = eig[:3].sum() / eig.sum()
    assert j["explained_variance_ratio"] == pytest.approx(ratio, rel=1e-4)
    assert j["source_rows"] == x.shape[0]
    out = assert_ok(run("info", files["pca"]))
    assert out.startswith(f"{files['pca']}: model (subset-transform v1)")
    assert f"method      pca, {make_fixtures.NPY_DIM} -> 3 dimensions" in out
    assert f"explained   {100 * ratio:.4g}% of the variance" in out
    assert f"fitted on   {files['store']} ({x.shape[0]} rows, {j['source_checksum']}), seed 0" in out
    assert f"components 3x{make_fixtures.NPY_DIM}" in out


def test_random_projection_model(run, files):
    j = info_json(run, files["rp"])
    with h5py.File(files["rp"], "r") as f:
        assert j["method"] == attr_text(f, "method") == "gaussian-rp"
        assert j["seed"] == attr_text(f, "seed") == "5"
        shapes = {name: list(f[name].shape) for name in f}
    assert j["arrays"] == shapes
    assert j["explained_variance_ratio"] is None
    out = assert_ok(run("info", files["rp"]))
    assert "explained" not in out and f"gaussian-rp, {make_fixtures.NPY_DIM} -> 2 dimensions" in out


def test_model_source_rows_unknown_when_source_is_gone(run, files, tmp_path):
    moved = tmp_path / "m.h5"
    with open(files["pca"], "rb") as a, open(moved, "wb") as b:
        b.write(a.read())
    with h5py.File(moved, "r+") as f:
        f.attrs["source"] = str(tmp_path / "gone.h5")
    j = info_json(run, moved)
    assert j["source_rows"] is None
    assert "rows not recorded" in assert_ok(run("info", moved))


# ---- embedding stores ------------------------------------------------------------------------------

def test_embedding_store(run, files, emb):
    j = info_json(run, files["emb"])
    assert j["kind"] == "embedding store"
    with h5py.File(files["emb"], "r") as f:
        assert j["embedding"] == attr_json(f, "embedding")
        assert j["same_rows"] == attr_json(f, "same_rows")
        n, dim = f["features"].shape
    # The store report's keys are all there.
    for key in ("n", "dim", "image_shape", "class_counts", "test_n", "format_version", "dtype", "chunk_rows",
                "compression", "file_size"):
        assert key in j
    assert (j["n"], j["dim"]) == (n, dim) == (make_fixtures.NPY_TRAIN, 2)
    assert j["same_rows"]["source"] == files["store"] and j["embedding"]["model"] == "pca"
    out = assert_ok(run("info", files["emb"]))
    assert f"embedding   pca, {make_fixtures.NPY_DIM} -> 2" in out
    assert f"rows of     {files['store']} ({make_fixtures.NPY_TRAIN} rows, {j['same_rows']['checksum']})" in out


def test_embedding_store_against_stores(run, files, emb):
    assert info_json(run, files["emb"], "--store", files["store"])["store_match"]["matches"] is True
    j = info_json(run, files["emb"], "--store", files["other"])
    assert j["store_match"]["matches"] is False and "rows" in j["store_match"]["reason"]
    j = info_json(run, files["emb"], "--store", files["pca_out"])  # same row count, other features
    assert j["store_match"]["matches"] is False and "checksum" in j["store_match"]["reason"]
    assert "does NOT match" in assert_ok(run("info", files["emb"], "--store", files["pca_out"]))


# ---- checkpoints -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def checkpoint(subset_bin, files):
    """A condensation checkpoint: a long run checkpointing every 2 iterations, interrupted once the
    first is there."""
    out = files["fashion"].replace("fashion.h5", "syn.h5")
    path = out + ".checkpoint.h5"
    proc = subprocess.Popen([subset_bin, "condense", files["fashion"], "--iterations", "100000", "--method", "dm",
                             "--ipc", "1", "--batch-real", "2", "--net", "mlp", "--threads", "1", "--seed", "4",
                             "--checkpoint-every", "2", "-o", out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not os.path.exists(path) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode != 130 and b"libtorch" in err:
        pytest.skip("condense needs libsubset_nn: " + err.decode(errors="replace"))
    assert proc.returncode == 130, err
    assert os.path.exists(path) and not os.path.exists(out)
    return path, out


def test_checkpoint_against_h5py(run, files, checkpoint):
    path, out_path = checkpoint
    j = info_json(run, path)
    with h5py.File(path, "r") as f:
        assert attr_text(f, "method") == "condense-checkpoint"
        settings = attr_json(f, "params")
        stats = attr_json(f, "stats")
        images = f["images"].shape
        shapes = {name: list(f[name].shape) for name in f}
    assert j["kind"] == "checkpoint"
    assert j["settings"] == settings and j["method"] == settings["method"] == "dm"
    assert j["iterations_done"] == stats["iterations_done"] and j["iterations_done"] >= 2
    assert j["iterations"] == 100000
    assert (j["images"], j["dim"]) == images == (10, 784)
    assert j["ipc"] == 1 and j["classes"] == 10
    assert j["arrays"] == shapes
    assert j["source"] == files["fashion"] and j["output"] == out_path
    out = assert_ok(run("info", path))
    assert out.startswith(f"{path}: condensation checkpoint")
    assert "method      dm, 1 image per class, 10 classes (10 images of 784 values)" in out
    assert f"iterations  {stats['iterations_done']} done of 100000" in out
    assert f"subset condense {files['fashion']} -o {out_path} --resume" in out
    assert_error(run("info", path, "--store", files["fashion"]), "--store", "checkpoint")


def test_checkpoint_check_values(run, checkpoint):
    path, _ = checkpoint
    with h5py.File(path, "r") as f:
        total = sum(f[name].size for name in f)
    j = info_json(run, path, "--check-values")
    assert j["values_checked"]["values"] == total
    assert assert_ok(run("info", path, "--check-values")).splitlines()[-1].startswith(
        f"checked: all {total:,} values finite")


# ---- --check-values --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["store", "fashion", "emb", "pca_out"])
def test_check_values_line_counts_both_splits(run, files, name, request):
    if name == "emb":
        request.getfixturevalue("emb")
    with h5py.File(files[name], "r") as f:
        x = f["features"][...]
        xt = f["test/features"][...] if "test" in f else np.zeros((0, x.shape[1]), np.float32)
    assert np.isfinite(x).all() and np.isfinite(xt).all()
    expected = x.size + xt.size
    out = assert_ok(run("info", files[name], "--check-values"))
    last = out.splitlines()[-1]
    assert last.startswith(f"checked: all {expected:,} values finite")
    assert f"/features {x.shape[0]:,} x {x.shape[1]:,}" in last
    if xt.size:
        assert f"/test/features {xt.shape[0]:,} x {xt.shape[1]:,}" in last
    assert "checked:" not in "\n".join(out.splitlines()[:-1])
    j = info_json(run, files[name], "--check-values")
    assert j["values_checked"]["values"] == expected and j["values_checked"]["finite"] is True
    assert "values_checked" not in info_json(run, files[name])
    assert "checked:" not in assert_ok(run("info", files[name]))


def test_check_values_separators(run, files):
    # Fashion fixture: (20 + 10) x 784 = 23,520 values.
    out = assert_ok(run("info", files["fashion"], "--check-values"))
    n = (make_fixtures.FASHION_TRAIN + make_fixtures.FASHION_TEST) * 784
    assert n >= 1000 and f"all {n:,} values finite" in out.splitlines()[-1]


def test_check_values_model_and_selection(run, files, tmp_path):
    with h5py.File(files["pca"], "r") as f:
        total = sum(f[name].size for name in f)
    assert info_json(run, files["pca"], "--check-values")["values_checked"]["values"] == total
    assert assert_ok(run("info", files["pca"], "--check-values")).splitlines()[-1].startswith(
        f"checked: all {total:,} values finite")
    with h5py.File(files["sel"], "r") as f:
        k = f["weights"].size
    assert info_json(run, files["sel"], "--check-values")["values_checked"]["values"] == k
    # A NaN weight is found; a NaN model entry too (the model reader refuses it).
    bad = tmp_path / "bad.sel.h5"
    with open(files["sel"], "rb") as a, open(bad, "wb") as b:
        b.write(a.read())
    with h5py.File(bad, "r+") as f:
        w = f["weights"][...]
        w[2] = np.nan
        f["weights"][...] = w
    assert_ok(run("info", bad))
    assert_error(run("info", bad, "--check-values"), "NaN", "/weights")


# ---- files of no known kind ------------------------------------------------------------------------

def test_unknown_hdf5_refused(run, tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f["data"] = np.zeros((3, 2), np.float32)
        f.attrs["note"] = "not ours"
    line = assert_error(run("info", path), "not a file subset writes", "selection", "model", "checkpoint", str(path))
    assert_error(run("info", path, "--json"), "not a file subset writes")
    assert "Traceback" not in line


def test_foreign_format_refused(run, tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "someone-else"
        f["features"] = np.zeros((3, 2), np.float32)
    assert_error(run("info", path), "not a file subset writes", "someone-else")


def test_text_file_refused(run, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    assert_error(run("info", path), "not an HDF5 file", "not a file subset writes", str(path))


def test_sqlite_is_named_a_ledger(run, files, tmp_path):
    project = tmp_path / "p.al"
    assert_ok(run("al", "init", files["store"], "-o", project))
    with sqlite3.connect(project) as db:  # the oracle: it is a SQLite database
        db.execute("select 1").fetchall()
    assert_error(run("info", project), "active-learning ledger", "subset al status", str(project))


def test_damaged_selection_refused(run, tmp_path):
    path = tmp_path / "s.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-selection"
        f.attrs["format_version"] = 1
    assert_error(run("info", path), str(path))

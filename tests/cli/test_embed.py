"""`subset embed` and same-rows stores: the embedding of row i is the model's hidden activation of
row i (recomputed with numpy from --model-out), pca equals `subset compress`'s output, provenance
attributes, selections made on an embedding accepted by extract/evaluate/bench on the source and
refused on another store, `select --embedding`, and bad input: one `error:` line, nothing written."""
import json
import os
import signal
import subprocess
import time
import zlib

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_no_partials, assert_ok, file_digest

N, M, D = 240, 60, 12


def write_store(path, seed=0, labels=True, image=False, D=D):
    rs = np.random.RandomState(seed)
    y = rs.randint(0, 3, N).astype(np.int64)
    x = (rs.randn(N, D) + y[:, None]).astype(np.float32)
    ty = rs.randint(0, 3, M).astype(np.int64)
    tx = (rs.randn(M, D) + ty[:, None]).astype(np.float32)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        ds = f.create_dataset("features", data=x)
        if image:
            ds.attrs["image_shape"] = np.array([1, 8, D // 8], np.int64)
        if labels:
            f.create_dataset("labels", data=y).attrs["class_names"] = ["a", "b", "c"]
            f.create_dataset("weights", data=rs.uniform(0.5, 2, N).astype(np.float32))
        f.create_dataset("test/features", data=tx)
        f.create_dataset("test/labels", data=ty)
    return str(path)


def checksum(x):
    return "crc32:%08x" % (zlib.crc32(np.ascontiguousarray(x, np.float32).tobytes()) & 0xFFFFFFFF)


@pytest.fixture(scope="module")
def setup(run, tmp_path_factory):
    d = tmp_path_factory.mktemp("embed")
    s = {"store": write_store(d / "in.h5"), "other": write_store(d / "other.h5", seed=1), "dir": d}
    s["emb"], s["model"] = str(d / "emb.h5"), str(d / "emb.model.h5")
    assert_ok(run("embed", s["store"], "--model", "mlp", "--dim", "16", "--epochs", "3", "--seed", "4", "-o", s["emb"],
                  "--model-out", s["model"]))
    s["other_emb"] = str(d / "other_emb.h5")
    assert_ok(run("embed", s["other"], "--model", "pca", "--dim", "4", "-o", s["other_emb"]))
    return s


def read(path, name):
    with h5py.File(path, "r") as f:
        return f[name][...]


def test_mlp_rows_are_the_hidden_layer_in_order(setup):
    x, tx = read(setup["store"], "features"), read(setup["store"], "test/features")
    w1, b1 = read(setup["model"], "w1"), read(setup["model"], "b1")
    assert w1.shape == (16, D)
    emb, temb = read(setup["emb"], "features"), read(setup["emb"], "test/features")
    assert emb.shape == (N, 16) and emb.dtype == np.float32 and temb.shape == (M, 16)
    np.testing.assert_allclose(emb, np.maximum(x @ w1.T + b1, 0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(temb, np.maximum(tx @ w1.T + b1, 0), rtol=1e-4, atol=1e-4)


def test_labels_weights_and_provenance(setup):
    src, emb = setup["store"], setup["emb"]
    for name in ["labels", "weights", "test/labels"]:
        np.testing.assert_array_equal(read(emb, name), read(src, name))
    with h5py.File(emb, "r") as f:
        assert list(f["labels"].attrs["class_names"]) == ["a", "b", "c"]
        assert "image_shape" not in f["features"].attrs
        same = json.loads(f.attrs["same_rows"])
        assert same == {"source": src, "checksum": checksum(read(src, "features")), "n": N}
        e = json.loads(f.attrs["embedding"])
        assert e["model"] == "mlp" and e["settings"]["dim"] == 16 and e["settings"]["epochs"] == 3
        assert json.loads(f.attrs["energy"])["kwh"] > 0


def test_pca_equals_compress(run, setup, tmp_path):
    emb, comp = str(tmp_path / "pca.h5"), str(tmp_path / "comp.h5")
    assert_ok(run("embed", setup["store"], "--model", "pca", "--dim", "5", "--seed", "2", "-o", emb))
    assert_ok(run("compress", setup["store"], "--method", "pca", "--dim", "5", "--seed", "2", "-o", comp))
    for name in ["features", "test/features"]:
        np.testing.assert_array_equal(read(emb, name), read(comp, name))
    with h5py.File(emb, "r") as f:
        assert json.loads(f.attrs["same_rows"])["n"] == N
        assert f.attrs["created_by"].endswith("(subset embed)")  # made through compress's code, by embed
    with h5py.File(comp, "r") as f:
        assert f.attrs["created_by"].endswith("(subset compress)")


def test_selection_on_embedding_is_accepted_on_source(run, setup, tmp_path):
    sel, ext = str(tmp_path / "sel.h5"), str(tmp_path / "ext.h5")
    assert_ok(run("select", setup["emb"], "--method", "kcenter", "--budget", "20", "-o", sel))
    assert_ok(run("extract", setup["store"], "-s", sel, "-o", ext))
    idx = read(sel, "indices")
    np.testing.assert_array_equal(read(ext, "features"), read(setup["store"], "features")[idx])
    assert_ok(run("evaluate", setup["store"], "-s", sel, "--epochs", "1", "--repeats", "1", "--no-full"))
    # ... and refused on another store, naming the mismatch.
    assert_error(run("extract", setup["other"], "-s", sel, "-o", str(tmp_path / "x.h5")), "another store")
    assert not os.path.exists(tmp_path / "x.h5")


def test_select_embedding_names_the_source_and_counts_its_energy(run, setup, tmp_path):
    sel = str(tmp_path / "sel.h5")
    assert_ok(run("select", setup["store"], "--embedding", setup["emb"], "--method", "kcenter", "--budget", "20",
                  "-o", sel))
    with h5py.File(sel, "r") as f:
        assert f.attrs["source"] == setup["store"] and f.attrs["source_n"] == N and f.attrs["source_dim"] == D
        assert f.attrs["source_checksum"] == checksum(read(setup["store"], "features"))
        e = json.loads(f.attrs["embedding"])
        total = json.loads(f.attrs["energy"])["kwh"]
    assert e["path"] == setup["emb"]
    assert total == pytest.approx(e["energy"]["kwh"] + e["selection_energy"]["kwh"], rel=1e-6)
    # The same choice as selecting on the embedding itself.
    plain = str(tmp_path / "plain.h5")
    assert_ok(run("select", setup["emb"], "--method", "kcenter", "--budget", "20", "-o", plain))
    np.testing.assert_array_equal(read(sel, "indices"), read(plain, "indices"))
    assert_ok(run("extract", setup["store"], "-s", sel, "-o", str(tmp_path / "ext.h5")))


def test_select_embedding_refuses_other_stores(run, setup, tmp_path):
    out = str(tmp_path / "sel.h5")
    assert_error(run("select", setup["store"], "--embedding", setup["other_emb"], "--method", "random", "-k", "5",
                     "-o", out), "--embedding", "embeds another store")
    assert_error(run("select", setup["store"], "--embedding", setup["other"], "--method", "random", "-k", "5",
                     "-o", out), "--embedding", "not a same-rows store")
    assert not os.path.exists(out)


def test_bench_embedding_column(run, setup, tmp_path):
    out = tmp_path / "bench"
    assert_ok(run("bench", setup["store"], "--embedding", setup["emb"], "--methods", "random", "--fractions", "0.5",
                  "--repeats", "1", "--epochs", "1", "--no-plot", "-o", out, timeout=120))
    r = json.load(open(out / "results.json"))
    row = r["rows"][0]
    emb_kwh = json.loads(h5py.File(setup["emb"], "r").attrs["energy"])["kwh"]
    assert row["embed_kwh"] == pytest.approx(emb_kwh, rel=1e-6) and row["select_kwh"] > 0
    assert row["saved_kwh"] == pytest.approx(r["full"]["train_kwh"] - row["embed_kwh"] - row["select_kwh"] -
                                             row["train_kwh"], rel=1e-6, abs=1e-15)
    header = open(out / "results.csv").readline().strip().split(",")
    assert header[-2:] == ["embed_kwh", "j_per_point"]  # columns are only ever appended
    assert_error(run("bench", setup["store"], "--embedding", setup["other_emb"], "--methods", "random", "--fractions",
                     "0.5", "--no-plot", "-o", tmp_path / "b2"), "--embedding")
    assert not os.path.exists(tmp_path / "b2")


def test_force(run, setup, tmp_path):
    out = tmp_path / "e.h5"
    out.write_bytes(b"keep me")
    args = ["embed", setup["store"], "--model", "pca", "--dim", "2", "-o", str(out)]
    assert_error(run(*args), "e.h5")
    assert out.read_bytes() == b"keep me"
    assert_ok(run(*args, "--force"))
    assert read(str(out), "features").shape == (N, 2)


@pytest.mark.parametrize("args,needles", [
    (["--model", "linear"], ["--model", "linear"]),
    (["--dim", "0"], ["--dim"]),
    (["--model", "pca", "--epochs", "2"], ["--epochs"]),
    (["--model", "convnet", "--dim", "8"], ["--dim"]),
    (["--model", "convnet"], ["image_shape"]),
    (["--epochs", "x"], ["--epochs"]),
    # Absurd sizes: refused before any allocation, naming the option.
    (["--dim", "1000000000"], ["--dim", "memory"]),
    (["--dim", "100000000"], ["--dim", "memory"]),
    (["--epochs", "99999999999999999999"], ["--epochs"]),
])
def test_bad_settings(run, setup, tmp_path, args, needles):
    out = tmp_path / "e.h5"
    assert_error(run("embed", setup["store"], *args, "-o", str(out)), *needles)
    assert not out.exists()


def test_refused_inputs(run, setup, tmp_path):
    no_labels = write_store(tmp_path / "nolabels.h5", labels=False)
    assert_error(run("embed", no_labels, "--model", "mlp", "-o", str(tmp_path / "e.h5")), "labels")
    before = file_digest(setup["store"])
    assert_error(run("embed", setup["store"], "--model", "pca", "--force", "-o", setup["store"]), "input")
    assert file_digest(setup["store"]) == before
    model = tmp_path / "m.h5"
    assert_error(run("embed", setup["store"], "-o", str(model), "--model-out", str(model)), "--model-out")
    assert_error(run("embed", str(tmp_path / "missing.h5"), "-o", str(tmp_path / "e.h5")), "missing.h5")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(os.urandom(5000))
    assert_error(run("embed", str(junk), "-o", str(tmp_path / "e.h5")), "junk.h5", "not an HDF5 file")
    assert not (tmp_path / "e.h5").exists()


def test_convnet_on_images(run, tmp_path):
    store = write_store(tmp_path / "img.h5", image=True, D=64)
    out = str(tmp_path / "e.h5")
    assert_ok(run("embed", store, "--model", "convnet", "--epochs", "1", "-o", out, timeout=120))
    emb, temb = read(out, "features"), read(out, "test/features")
    # 128 channels after 3 poolings of an 8x8 image: 128 x 1 x 1 features a row.
    assert emb.shape == (N, 128) and temb.shape == (M, 128) and np.isfinite(emb).all()
    assert json.loads(h5py.File(out, "r").attrs["embedding"])["model"] == "convnet"


def test_ctrl_c_leaves_nothing(subset_bin, setup, out_dir):
    out = out_dir / "e.h5"
    proc = subprocess.Popen([subset_bin, "embed", setup["store"], "--model", "mlp", "--epochs", "100000", "-o",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and err.endswith("error: interrupted\n"), err
    assert not out.exists()
    assert_no_partials(out_dir)


def test_kill_9_leaves_no_output_and_the_next_run_succeeds(run, subset_bin, setup, out_dir):
    out = out_dir / "e.h5"
    proc = subprocess.Popen([subset_bin, "embed", setup["store"], "--model", "mlp", "--epochs", "100000", "-o",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    proc.kill()
    proc.communicate(timeout=30)
    assert not out.exists()
    assert_ok(run("embed", setup["store"], "--model", "pca", "--dim", "2", "-o", str(out)))
    assert_no_partials(out_dir)


def test_two_runs_at_once_to_one_output_never_both_succeed(subset_bin, setup, tmp_path):
    for trial in range(3):
        out = tmp_path / f"e{trial}.h5"
        procs = [subprocess.Popen([subset_bin, "embed", setup["store"], "--model", "mlp", "--epochs", "3", "-o",
                                   str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        results = [(p.wait(timeout=120), p.stderr.read().decode()) for p in procs]
        assert sorted(rc for rc, _ in results) == [0, 1], results
        loser = [err for rc, err in results if rc == 1][0]
        assert loser.count("\n") == 1 and loser.startswith("error: "), loser
        assert read(str(out), "features").shape[0] == N
    assert_no_partials(str(tmp_path))

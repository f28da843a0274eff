"""`select`/`bench` `--embed MODEL[:NAME=VALUE...]`: the embedding is computed once, cached next to the
store as a same-rows store and reused untouched; the picks equal `subset embed` + `--embedding`; other
settings make another file; bad specs and `--embed` with `--embedding` fail in one line; Ctrl-C during
the embedding leaves no cache file."""
import glob
import json
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_no_partials, assert_ok, file_digest
from test_embed import write_store


def caches(store):
    return sorted(glob.glob(store + ".embed-*.h5"))


def indices(path):
    with h5py.File(path, "r") as f:
        return f["indices"][...]


def select(run, store, spec, out, *extra):
    return run("select", store, "--embed", spec, "--method", "kcenter", "--budget", "20", "-o", out, *extra)


def test_first_run_caches_and_equals_embed_then_embedding(run, tmp_path):
    store = write_store(tmp_path / "in.h5")
    rc, out, err = select(run, store, "mlp:epochs=2:dim=16", str(tmp_path / "a.h5"))
    assert rc == 0, err
    [cache] = caches(store)
    assert os.path.basename(cache).startswith("in.h5.embed-mlp-")
    assert out.startswith("embedding %s (computed)\n" % cache)
    with h5py.File(cache, "r") as f:
        assert json.loads(f.attrs["embedding"])["settings"]["epochs"] == 2 and f["features"].shape[1] == 16
        cache_kwh = json.loads(f.attrs["energy"])["kwh"]
    # The same picks as the two-step form, whose seed and settings are the same.
    emb = str(tmp_path / "emb.h5")
    assert_ok(run("embed", store, "--model", "mlp", "--epochs", "2", "--dim", "16", "-o", emb))
    assert_ok(run("select", store, "--embedding", emb, "--method", "kcenter", "--budget", "20", "-o",
                  str(tmp_path / "b.h5")))
    np.testing.assert_array_equal(indices(tmp_path / "a.h5"), indices(tmp_path / "b.h5"))
    with h5py.File(tmp_path / "a.h5", "r") as f:
        assert json.loads(f.attrs["embedding"])["energy"]["kwh"] == pytest.approx(cache_kwh, rel=1e-9)

    # Reused: the file untouched, its recorded cost still counted, the output says so.
    before, mtime = file_digest(cache), os.stat(cache).st_mtime_ns
    rc, out, err = select(run, store, "mlp:dim=16:epochs=2", str(tmp_path / "c.h5"))
    assert rc == 0, err
    assert out.startswith("embedding %s (cached)\n" % cache)
    assert file_digest(cache) == before and os.stat(cache).st_mtime_ns == mtime and caches(store) == [cache]
    np.testing.assert_array_equal(indices(tmp_path / "a.h5"), indices(tmp_path / "c.h5"))
    with h5py.File(tmp_path / "c.h5", "r") as f:
        assert json.loads(f.attrs["embedding"])["energy"]["kwh"] == pytest.approx(cache_kwh, rel=1e-9)

    # Other settings: another file, the first one kept.
    assert_ok(select(run, store, "pca:dim=4", str(tmp_path / "d.h5")))
    assert len(caches(store)) == 2 and file_digest(cache) == before


def test_cache_of_other_rows_is_refused_not_overwritten(run, tmp_path):
    store = write_store(tmp_path / "in.h5")
    assert_ok(select(run, store, "pca:dim=3", str(tmp_path / "a.h5")))
    [cache] = caches(store)
    other = write_store(tmp_path / "other.h5", seed=1)
    assert_ok(run("embed", other, "--model", "pca", "--dim", "3", "-o", cache, "--force"))
    before = file_digest(cache)
    assert_error(select(run, store, "pca:dim=3", str(tmp_path / "b.h5")), os.path.basename(cache), "remove it")
    assert file_digest(cache) == before and not (tmp_path / "b.h5").exists()


def test_cache_of_other_settings_under_the_name_is_refused(run, tmp_path):
    # Same rows and dimension, other settings (epochs): only the recorded settings tell them apart.
    store = write_store(tmp_path / "in.h5")
    assert_ok(select(run, store, "mlp:epochs=2:dim=8", str(tmp_path / "a.h5")))
    [cache] = caches(store)
    assert_ok(run("embed", store, "--model", "mlp", "--epochs", "1", "--dim", "8", "-o", cache, "--force"))
    before = file_digest(cache)
    assert_error(select(run, store, "mlp:epochs=2:dim=8", str(tmp_path / "b.h5")), os.path.basename(cache),
                 "remove it")
    assert file_digest(cache) == before and not (tmp_path / "b.h5").exists()


@pytest.mark.parametrize("spec,needles", [
    ("xyz", ["--embed", "xyz"]),
    ("mlp:epochs=0", ["--embed", "epochs"]),
    ("mlp:foo=1", ["--embed", "foo"]),
    ("mlp:epochs", ["--embed", "NAME=VALUE"]),
    ("pca:epochs=2", ["--embed", "epochs"]),
    ("mlp:epochs=1:epochs=2", ["--embed", "twice"]),
])
def test_bad_spec(run, tmp_path, spec, needles):
    store = write_store(tmp_path / "in.h5")
    assert_error(select(run, store, spec, str(tmp_path / "a.h5")), *needles)
    assert_error(run("bench", store, "--embed", spec, "--methods", "random", "--fractions", "0.5", "--no-plot",
                     "-o", tmp_path / "b"), *needles)
    assert sorted(os.listdir(tmp_path)) == ["in.h5"]


def test_embed_and_embedding_refused_together(run, tmp_path):
    store = write_store(tmp_path / "in.h5")
    assert_error(select(run, store, "pca", str(tmp_path / "a.h5"), "--embedding", store), "--embed", "--embedding")
    assert_error(run("bench", store, "--embed", "pca", "--embedding", store, "--methods", "random", "--fractions",
                     "0.5", "--no-plot", "-o", tmp_path / "b"), "--embed", "--embedding")
    assert sorted(os.listdir(tmp_path)) == ["in.h5"]


def test_bench_reuses_the_cache_and_counts_it(run, tmp_path):
    store = write_store(tmp_path / "in.h5")
    assert_ok(select(run, store, "pca:dim=4", str(tmp_path / "a.h5")))
    [cache] = caches(store)
    before = file_digest(cache)
    out = tmp_path / "bench"
    rc, text, err = run("bench", store, "--embed", "pca:dim=4", "--methods", "random", "--fractions", "0.5",
                        "--repeats", "1", "--epochs", "1", "--no-plot", "-o", out, timeout=120)
    assert rc == 0, err
    assert "embedding %s (cached)" % cache in text and file_digest(cache) == before
    row = json.load(open(out / "results.json"))["rows"][0]
    assert row["embed_kwh"] == pytest.approx(json.loads(h5py.File(cache, "r").attrs["energy"])["kwh"], rel=1e-6)


def test_ctrl_c_during_the_embedding_leaves_no_cache(subset_bin, tmp_path):
    store = write_store(tmp_path / "in.h5")
    proc = subprocess.Popen([subset_bin, "select", store, "--embed", "mlp:epochs=100000", "--method", "random",
                             "-k", "5", "-o", str(tmp_path / "a.h5")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and err.endswith("error: interrupted\n"), err
    assert caches(store) == [] and not (tmp_path / "a.h5").exists()
    assert_no_partials(tmp_path)

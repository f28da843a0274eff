"""`subset evaluate`: the table and --json on a small labelled store, the energy-saved arithmetic,
the full-data cache, weights, and every bad input."""
import json
import os

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_ok

N, D, K = 900, 16, 3
TRAINING = ["--epochs", "3", "--repeats", "2", "--batch", "64"]


def blobs(n, seed):
    """Three well separated Gaussian blobs: any proxy model should classify them almost perfectly."""
    rng = np.random.RandomState(seed)
    y = np.arange(n) % K
    centres = np.eye(K, D, dtype=np.float32) * 6.0
    x = (centres[y] + rng.standard_normal((n, D))).astype(np.float32)
    return x, y.astype(np.int64)


def write_store(path, labels=True, test=True, test_labels=True, shift=0.0):
    x, y = blobs(N, 1)
    tx, ty = blobs(300, 2)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=x + np.float32(shift))
        if labels:
            f.create_dataset("labels", data=y)
        if test:
            f.create_dataset("test/features", data=tx)
            if test_labels:
                f.create_dataset("test/labels", data=ty)
    return str(path)


@pytest.fixture(scope="module")
def setup(run, tmp_path_factory):
    d = tmp_path_factory.mktemp("evaluate")
    s = {
        "store": write_store(d / "blobs.h5"),
        "other": write_store(d / "other.h5", shift=0.5),
        "no_test": write_store(d / "no_test.h5", test=False),
        "no_labels": write_store(d / "no_labels.h5", labels=False),
        "no_test_labels": write_store(d / "no_test_labels.h5", test_labels=False),
    }
    for method, extra in (("random", []), ("kcenter", [])):
        s[method] = str(d / f"{method}.sel.h5")
        assert_ok(run("select", s["store"], "--method", method, "--budget", "90", "-o", s[method], *extra))
    s["other_sel"] = str(d / "other.sel.h5")
    assert_ok(run("select", s["other"], "--method", "random", "--budget", "90", "-o", s["other_sel"]))
    return s


def evaluate_json(run, *args):
    rc, out, err = run("evaluate", *args, "--json", timeout=300)
    assert rc == 0, err
    return json.loads(out)


def test_full_and_selections(run, setup, tmp_path):
    cache = tmp_path / "cache.json"
    r = evaluate_json(run, setup["store"], "-s", setup["random"], "-s", setup["kcenter"], *TRAINING, "--cache", cache)
    full = r["full"]
    assert full["n"] == N and full["cached"] is False
    assert len(full["accuracies"]) == 2
    assert full["accuracy_mean"] > 0.95, "separable blobs"
    assert full["accuracy_mean"] == pytest.approx(np.mean(full["accuracies"]))
    assert full["accuracy_std"] == pytest.approx(np.std(full["accuracies"], ddof=1))
    assert full["train_kwh"] > 0
    assert [s["method"] for s in r["selections"]] == ["random", "kcenter"]
    for s in r["selections"]:
        assert s["n"] == 90
        for key in ("accuracy_mean", "accuracy_std", "train_kwh", "select_kwh", "saved_kwh", "saved_percent"):
            assert isinstance(s[key], float), key
        assert s["select_kwh"] > 0, "select records its own energy in the selection file"
        assert s["saved_kwh"] == pytest.approx(full["train_kwh"] - (s["select_kwh"] + s["train_kwh"]))
        assert s["saved_percent"] == pytest.approx(100 * s["saved_kwh"] / full["train_kwh"])
        assert s["saved_gco2e"] == pytest.approx(s["saved_kwh"] * r["carbon_intensity"])
        per_training = full["train_kwh"] - s["train_kwh"]
        if per_training > 0:
            k = s["break_even_trainings"]
            assert k >= 1
            assert k * full["train_kwh"] >= s["select_kwh"] + k * s["train_kwh"] - 1e-15
            if k > 1:
                assert (k - 1) * full["train_kwh"] < s["select_kwh"] + (k - 1) * s["train_kwh"]
        else:
            assert s["break_even_trainings"] is None
    assert r["selections"][0]["weighted"] is False
    assert r["selections"][1]["weighted"] is True, "k-center selections carry cell sizes as weights"


def test_cache_is_reused_and_labelled(run, setup, tmp_path):
    cache = tmp_path / "cache.json"
    first = evaluate_json(run, setup["store"], *TRAINING, "--cache", cache)
    assert cache.exists()
    second = evaluate_json(run, setup["store"], *TRAINING, "--cache", cache)
    assert second["full"]["cached"] is True
    assert second["full"]["accuracies"] == first["full"]["accuracies"]
    assert second["full"]["train_kwh"] == pytest.approx(first["full"]["train_kwh"])
    # Repriced with today's accounting: same joules, other carbon intensity.
    fr = evaluate_json(run, setup["store"], *TRAINING, "--cache", cache, "--carbon-intensity", "10")
    assert fr["full"]["cached"] is True
    assert fr["full"]["train_gco2e"] == pytest.approx(fr["full"]["train_kwh"] * 10)
    # Other settings are another key; --no-cache measures again.
    other = evaluate_json(run, setup["store"], "--epochs", "2", "--repeats", "2", "--cache", cache)
    assert other["full"]["cached"] is False
    fresh = evaluate_json(run, setup["store"], *TRAINING, "--cache", cache, "--no-cache")
    assert fresh["full"]["cached"] is False
    rc, out, err = run("evaluate", setup["store"], *TRAINING, "--cache", cache, timeout=300)
    assert rc == 0, err
    assert "(cached)" in out


def test_default_cache_sits_next_to_the_store(run, tmp_path):
    store = write_store(tmp_path / "s.h5")
    evaluate_json(run, store, "--epochs", "1", "--repeats", "1")
    assert os.path.exists(store + ".evaluate-cache.json")


def test_same_seed_same_accuracy(run, setup, tmp_path):
    a = evaluate_json(run, setup["store"], "-s", setup["random"], *TRAINING, "--no-cache", "--seed", "5")
    b = evaluate_json(run, setup["store"], "-s", setup["random"], *TRAINING, "--no-cache", "--seed", "5")
    assert a["full"]["accuracies"] == b["full"]["accuracies"]
    assert a["selections"][0]["accuracies"] == b["selections"][0]["accuracies"]


def test_table(run, setup, tmp_path):
    rc, out, err = run("evaluate", setup["store"], "-s", setup["kcenter"], *TRAINING, "--cache", tmp_path / "c.json",
                       "--model", "linear", timeout=300)
    assert rc == 0, err
    header = next(line for line in out.splitlines() if line.startswith("method"))
    assert header.split() == ["method", "n", "seconds", "kWh", "gCO2e", "test-acc"]
    assert "energy saved" in out and "selection cost" in out
    assert "(weighted)" in out


def test_unweighted(run, setup, tmp_path):
    r = evaluate_json(run, setup["store"], "-s", setup["kcenter"], *TRAINING, "--cache", tmp_path / "c.json",
                      "--unweighted")
    assert r["selections"][0]["weighted"] is False


def test_selection_without_energy_is_noted(run, setup, tmp_path):
    legacy = tmp_path / "legacy.sel.h5"
    with h5py.File(setup["random"], "r") as src, h5py.File(legacy, "w") as dst:
        src.copy("indices", dst)
        for k, v in src.attrs.items():
            if k != "energy":
                dst.attrs[k] = v
    r = evaluate_json(run, setup["store"], "-s", legacy, *TRAINING, "--cache", tmp_path / "c.json")
    assert r["selections"][0]["select_kwh"] is None
    assert any("records no energy" in n for n in r["notes"])


@pytest.mark.parametrize("case,needles", [
    ("other", ["checksum"]),
    ("no_test", ["/test"]),
    ("no_labels", ["labels"]),
    ("no_test_labels", ["/test/labels"]),
    ("missing_selection", ["missing.sel.h5"]),
    ("epochs0", ["--epochs"]),
    ("repeats0", ["--repeats"]),
    ("model", ["--model"]),
    ("lr", ["--lr"]),
    ("device", ["--device"]),
    ("region", ["unknown region"]),
    ("not_a_selection", ["not a selection file"]),
])
def test_bad_input(run, setup, tmp_path, case, needles):
    store = setup["store"]
    args = {
        "other": [store, "-s", setup["other_sel"]],
        "no_test": [setup["no_test"]],
        "no_labels": [setup["no_labels"]],
        "no_test_labels": [setup["no_test_labels"]],
        "missing_selection": [store, "-s", tmp_path / "missing.sel.h5"],
        "epochs0": [store, "--epochs", "0"],
        "repeats0": [store, "--repeats", "0"],
        "model": [store, "--model", "resnet"],
        "lr": [store, "--lr", "-1"],
        "device": [store, "--device", "tpu"],
        "region": [store, "--region", "XX"],
        "not_a_selection": [store, "-s", setup["other"]],
    }[case]
    assert_error(run("evaluate", *args, "--cache", tmp_path / "c.json"), *needles)
    assert not (tmp_path / "c.json").exists(), "nothing is trained or cached when the input is bad"

"""`subset evaluate`: the table and --json on a small labelled store, the energy-saved arithmetic,
the full-data cache, weights, and every bad input."""
import json
import os
import re

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


def test_one_repeat_has_no_spread_and_says_repeat(run, setup, tmp_path):
    rc, out, err = run("evaluate", setup["store"], "-s", setup["kcenter"], "--epochs", "2", "--repeats", "1",
                       "--cache", tmp_path / "c.json", "--model", "linear", timeout=300)
    assert rc == 0, err
    assert "1 repeat;" in out and "repeats" not in out.splitlines()[0]
    assert "±" not in out
    rows = [line for line in out.splitlines() if line.startswith(("full", "kcenter")) and "epochs" in line]
    assert rows and all(re.search(r" \d+\.\d\d%", line) for line in rows)
    rc, out, err = run("evaluate", setup["store"], "-s", setup["kcenter"], "--epochs", "2", "--repeats", "2",
                       "--cache", tmp_path / "c.json", "--model", "linear", timeout=300)
    assert rc == 0, err
    assert "2 repeats;" in out and out.count("±") >= 3


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


# ---- selection stores, --no-full and the ConvNet protocol ----------------------------------------

def extract(run, store, selection, output):
    assert_ok(run("extract", store, "-s", selection, "-o", output))
    return str(output)


def test_selection_store_trains_like_its_selection(run, setup, tmp_path):
    """A store extracted from a selection holds the same rows in the same order: the same training,
    bit for bit, with the store's recorded energy as its cost and its file name as its label."""
    sub = extract(run, setup["store"], setup["random"], tmp_path / "random90.h5")
    r = evaluate_json(run, setup["store"], "-s", setup["random"], "--selection-store", sub, *TRAINING,
                      "--cache", tmp_path / "c.json")
    sel, st = r["selections"]
    assert sel["kind"] == "selection" and st["kind"] == "store"
    assert st["method"] == "random90.h5" and st["path"] == sub and "source" in st
    assert st["n"] == 90 and st["weighted"] is False
    assert st["accuracies"] == sel["accuracies"]
    assert st["select_kwh"] > 0, "extract records its own energy in the store"
    assert st["saved_kwh"] == pytest.approx(r["full"]["train_kwh"] - (st["select_kwh"] + st["train_kwh"]))
    assert st["break_even_trainings"] is None or st["break_even_trainings"] >= 1


def test_selection_store_weights_and_table(run, setup, tmp_path):
    sub = extract(run, setup["store"], setup["kcenter"], tmp_path / "kcenter-cells.h5")
    r = evaluate_json(run, setup["store"], "--selection-store", sub, *TRAINING, "--cache", tmp_path / "c.json")
    assert r["selections"][0]["weighted"] is True, "the store's /weights count like a selection's"
    r = evaluate_json(run, setup["store"], "--selection-store", sub, *TRAINING, "--cache", tmp_path / "c.json",
                      "--unweighted")
    assert r["selections"][0]["weighted"] is False
    rc, out, err = run("evaluate", setup["store"], "--selection-store", sub, *TRAINING, "--cache",
                       tmp_path / "c.json", timeout=300)
    assert rc == 0, err
    assert any(line.startswith("kcenter-cells.h5 ") for line in out.splitlines()), out
    assert "store cost" in out and "energy saved" in out


def test_selection_store_without_energy_is_noted(run, setup, tmp_path):
    sub = extract(run, setup["store"], setup["random"], tmp_path / "sub.h5")
    with h5py.File(sub, "a") as f:
        del f.attrs["energy"]
    r = evaluate_json(run, setup["store"], "--selection-store", sub, *TRAINING, "--cache", tmp_path / "c.json")
    assert r["selections"][0]["select_kwh"] is None
    assert any("records no energy" in n for n in r["notes"])


def test_no_full(run, setup, tmp_path):
    cache = tmp_path / "c.json"
    r = evaluate_json(run, setup["store"], "-s", setup["random"], *TRAINING, "--cache", cache, "--no-full")
    assert r["full"] is None
    s = r["selections"][0]
    assert s["n"] == 90 and len(s["accuracies"]) == 2 and s["select_kwh"] > 0
    for key in ("saved_kwh", "saved_gco2e", "saved_percent", "break_even_trainings"):
        assert s[key] is None, key
    assert any("--no-full" in n for n in r["notes"])
    assert not cache.exists(), "nothing to cache without full-data trainings"
    rc, out, err = run("evaluate", setup["store"], "-s", setup["random"], *TRAINING, "--cache", cache, "--no-full",
                       timeout=300)
    assert rc == 0, err
    assert not any(line.startswith("full ") for line in out.splitlines()), out
    assert "  energy saved" not in out and "  break-even" not in out, "no savings section"
    assert "  selection cost" in out
    assert "note:" in out and "--no-full" in out


def write_npy_images(directory, n, n_test, side, seed, classes=2):
    """Images of `classes` classes, class c bright in its c-th vertical band; .npy files to import."""
    rng = np.random.RandomState(seed)
    paths = {}
    for split, count in (("train", n), ("test", n_test)):
        y = (np.arange(count) % classes).astype(np.int64)
        x = 0.2 + 0.1 * rng.standard_normal((count, 1, side, side))
        band = side // classes
        for i, c in enumerate(y):
            x[i, 0, :, c * band:(c + 1) * band] += 0.6
        paths[split] = (directory / f"{split}_x.npy", directory / f"{split}_y.npy")
        np.save(paths[split][0], x.reshape(count, -1).astype(np.float32))
        np.save(paths[split][1], y)
    return paths


@pytest.fixture(scope="module")
def images(run, tmp_path_factory):
    d = tmp_path_factory.mktemp("images")
    p = write_npy_images(d, 40, 20, 8, 3)
    store = str(d / "img.h5")
    assert_ok(run("import", p["train"][0], "--labels", p["train"][1], "--test-features", p["test"][0],
                  "--test-labels", p["test"][1], "--image-shape", "1,8,8", "-o", store))
    sel = str(d / "b10.sel.h5")
    assert_ok(run("select", store, "--method", "balanced", "--budget", "10", "-o", sel))
    sub = extract(run, store, sel, d / "b10.h5")
    # The same 64 features, but another image shape.
    other_shape = str(d / "other_shape.h5")
    assert_ok(run("import", p["train"][0], "--labels", p["train"][1], "--image-shape", "4,4,4", "-o", other_shape))
    return {"store": store, "sel": sel, "sub": sub, "other_shape": other_shape}


# One thread: on a busy machine, tiny convolutions spend their time waiting for a second thread.
CONVNET = ["--model", "convnet", "--epochs", "2", "--repeats", "1", "--batch", "16", "--threads", "1"]


def test_convnet_on_images(run, images, tmp_path):
    cache = tmp_path / "c.json"
    r = evaluate_json(run, images["store"], "-s", images["sel"], "--selection-store", images["sub"], *CONVNET,
                      "--cache", cache)
    assert r["model"] == "convnet" and r["optimizer"] == "sgd"
    assert r["momentum"] == pytest.approx(0.9) and r["weight-decay"] == pytest.approx(5e-4)
    assert r["augment"] == "none"
    assert r["lr"] == pytest.approx(0.01), "the reference's rate when --lr is not given"
    assert r["epochs"] == 2
    assert r["full"]["n"] == 40 and 0 <= r["full"]["accuracy_mean"] <= 1
    sel, st = r["selections"]
    assert sel["n"] == st["n"] == 10
    assert st["accuracies"] == sel["accuracies"], "same rows, same order, same standardisation"
    # The cache keys on the protocol: DSA is another entry, the same settings reuse it.
    again = evaluate_json(run, images["store"], *CONVNET, "--cache", cache)
    assert again["full"]["cached"] is True
    dsa = evaluate_json(run, images["store"], *CONVNET, "--cache", cache, "--augment", "dsa")
    assert dsa["full"]["cached"] is False and dsa["augment"] == "dsa"
    with open(cache) as f:
        keys = [e["key"] for e in json.load(f)["entries"]]
    assert {k.get("augment") for k in keys} == {"none", "dsa"}
    assert all(k["image_shape"] == [1, 8, 8] and k["model"] == "convnet" for k in keys)


def test_convnet_defaults_to_the_reference_epochs(run, images, tmp_path):
    r = evaluate_json(run, images["store"], "--selection-store", images["sub"], "--model", "convnet", "--repeats", "1",
                      "--no-full", "--threads", "1")
    assert r["epochs"] == 300 and r["lr"] == pytest.approx(0.01)
    assert r["full"] is None
    # Given values win; the MLP keeps its own defaults.
    r = evaluate_json(run, images["store"], "--selection-store", images["sub"], "--model", "convnet", "--repeats", "1",
                      "--no-full", "--epochs", "1", "--lr", "0.05")
    assert r["epochs"] == 1 and r["lr"] == pytest.approx(0.05)
    r = evaluate_json(run, images["store"], "--selection-store", images["sub"], "--repeats", "1", "--no-full")
    # early-stop is the default schedule: epochs is its cap.
    assert r["model"] == "mlp" and r["epochs"] == 200 and r["lr"] == pytest.approx(1e-3)
    assert r["schedule"] == "early-stop" and r["patience"] == 10 and r["validation"] == pytest.approx(0.1)


def test_convnet_on_a_store_without_images(run, setup, tmp_path):
    result = run("evaluate", setup["store"], "--model", "convnet", "--epochs", "1", "--cache", tmp_path / "c.json")
    assert_error(result, "image_shape", setup["store"], code=1)
    assert not (tmp_path / "c.json").exists()


def write_store_like(path, dim=D, labels=None, classes=K):
    x, y = blobs(60, 7)
    if labels is not None:
        y = labels
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=np.ascontiguousarray(x[:, :dim]))
        if classes:
            f.create_dataset("labels", data=y)
    return str(path)


@pytest.mark.parametrize("case,needles", [
    ("other_dim", ["features"]),
    ("no_labels", ["labels"]),
    ("label_out_of_range", ["label 7"]),
    ("missing", ["missing.h5"]),
    ("not_a_store", ["b10.sel.h5"]),
    ("image_shape", ["image shape"]),
    ("nothing", ["--no-full"]),
    ("augment_mlp", ["--augment", "convnet"]),
    ("augment_value", ["--augment"]),
])
def test_bad_selection_store_and_protocol(run, setup, images, tmp_path, case, needles):
    store = setup["store"]
    args = {
        "other_dim": [store, "--selection-store", write_store_like(tmp_path / "d.h5", dim=D - 1)],
        "no_labels": [store, "--selection-store", write_store_like(tmp_path / "nl.h5", classes=0)],
        "label_out_of_range": [store, "--selection-store",
                               write_store_like(tmp_path / "lr.h5", labels=np.full(60, 7, dtype=np.int64))],
        "missing": [store, "--selection-store", tmp_path / "missing.h5"],
        "not_a_store": [images["store"], "--selection-store", images["sel"]],
        "image_shape": [images["store"], "--selection-store", images["other_shape"], "--model", "convnet",
                        "--epochs", "1"],
        "nothing": [store, "--no-full"],
        "augment_mlp": [store, "--augment", "dsa"],
        "augment_value": [store, "--augment", "mixup"],
    }[case]
    assert_error(run("evaluate", *args, "--cache", tmp_path / "c.json"), *needles)
    assert not (tmp_path / "c.json").exists(), "nothing is trained or cached when the input is bad"


# ---- the full-data cache: never written over a file that is not one, never stale ---------------

QUICK = ["--epochs", "1", "--repeats", "1", "--batch", "64"]


def digest(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.mark.parametrize("kind,needles", [
    ("the_store", ["input of this run"]),
    ("hard_link_to_the_store", ["input of this run"]),
    ("the_selection", ["input of this run"]),
    ("text", ["is not an evaluate cache", "--cache"]),
    ("empty", ["is not an evaluate cache"]),
    ("other_json", ["is not an evaluate cache"]),
    ("bad_json", ["is not an evaluate cache"]),
    ("directory", ["is a directory", "--cache"]),
    ("missing_directory", ["does not exist"]),
])
def test_cache_that_is_not_ours_is_refused_before_training(run, setup, tmp_path, kind, needles):
    work = tmp_path / "w"
    work.mkdir()
    store = str(work / "s.h5")
    with open(setup["store"], "rb") as src, open(store, "wb") as dst:
        dst.write(src.read())
    selection = str(work / "r.sel.h5")
    assert_ok(run("select", store, "--method", "random", "--budget", "90", "-o", selection))
    cache = str(work / "cache.json")
    if kind == "the_store":
        cache = store
    elif kind == "hard_link_to_the_store":
        os.link(store, cache)
    elif kind == "the_selection":
        cache = str(work / "." / "r.sel.h5")
    elif kind == "text":
        open(cache, "w").write("my notes, not a cache\n")
    elif kind == "empty":
        open(cache, "w").close()
    elif kind == "other_json":
        open(cache, "w").write(json.dumps({"format": "something-else", "entries": []}))
    elif kind == "bad_json":
        open(cache, "w").write('{"format": "subset-evaluate-cache", "entries": [')
    elif kind == "directory":
        os.mkdir(cache)
    elif kind == "missing_directory":
        cache = str(work / "nowhere" / "cache.json")
    files = sorted(os.listdir(work))
    before = {name: digest(work / name) for name in files if os.path.isfile(work / name)}
    # 300 epochs would take far longer than the timeout: refused before any training.
    assert_error(run("evaluate", store, "-s", selection, "--epochs", "300", "--repeats", "3", "--cache", cache,
                     timeout=20), *needles)
    assert sorted(os.listdir(work)) == files
    assert {name: digest(work / name) for name in before} == before


def test_default_cache_path_holding_another_file_is_refused(run, setup, tmp_path):
    store = str(tmp_path / "s.h5")
    with open(setup["store"], "rb") as src, open(store, "wb") as dst:
        dst.write(src.read())
    with open(store + ".evaluate-cache.json", "w") as f:
        f.write("not ours\n")
    assert_error(run("evaluate", store, *QUICK), "is not an evaluate cache", "evaluate-cache.json")
    assert open(store + ".evaluate-cache.json").read() == "not ours\n"
    # --no-full reads and writes no cache, so there is nothing to refuse.
    selection = str(tmp_path / "r.sel.h5")
    assert_ok(run("select", store, "--method", "random", "--budget", "90", "-o", selection))
    assert_ok(run("evaluate", store, "-s", selection, *QUICK, "--no-full"))
    assert open(store + ".evaluate-cache.json").read() == "not ours\n"


def write_variant(path, labels=None, test=None, test_labels=None, weights=None):
    """The blobs store with some of its parts replaced."""
    x, y = blobs(N, 1)
    tx, ty = blobs(300, 2)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=x)
        f.create_dataset("labels", data=y if labels is None else labels)
        f.create_dataset("test/features", data=tx if test is None else test)
        f.create_dataset("test/labels", data=ty if test_labels is None else test_labels)
        if weights is not None:
            f.create_dataset("weights", data=weights)
    return str(path)


def test_cache_key_covers_labels_weights_and_the_test_split(run, tmp_path):
    cache = tmp_path / "cache.json"
    _, y = blobs(N, 1)
    tx, ty = blobs(300, 2)
    rng = np.random.RandomState(7)
    original = write_variant(tmp_path / "a.h5")
    first = evaluate_json(run, original, *QUICK, "--cache", cache)
    assert first["full"]["cached"] is False and first["full"]["accuracy_mean"] > 0.9
    # Each variant is the same /features (same features checksum) with other data elsewhere.
    variants = {
        "permuted_labels": dict(labels=rng.permutation(y)),
        "other_test_features": dict(test=blobs(300, 3)[0]),
        "other_test_labels": dict(test_labels=np.roll(ty, 1)),
        "weights": dict(weights=np.full(N, 2.0, np.float32)),
    }
    for name, parts in variants.items():
        path = write_variant(tmp_path / f"{name}.h5", **parts)
        r = evaluate_json(run, path, *QUICK, "--cache", cache)
        assert r["full"]["cached"] is False, f"{name}: figures of other data reused"
        if name in ("permuted_labels", "other_test_labels"):
            assert r["full"]["accuracy_mean"] < 0.6, name
    again = evaluate_json(run, write_variant(tmp_path / "copy.h5"), *QUICK, "--cache", cache)
    assert again["full"]["cached"] is True, "the same data under another name is the same entry"
    assert again["full"]["accuracies"] == first["full"]["accuracies"]
    entries = json.load(open(cache))["entries"]
    assert len(entries) == 1 + len(variants)


@pytest.mark.parametrize("option,value,needle", [
    ("--lr", "0", "must be a number in (0, inf), got '0'"),
    ("--lr", "nan", "must be a number in (0, inf), got 'nan'"),
    ("--lr", "-1e-3", "must be a number in (0, inf)"),
    ("--hidden", "0", "must be an integer in [1, inf), got '0'"),
    ("--epochs", "0", "must be an integer in [1, inf)"),
    ("--batch", "-5", "must be an integer in [1, inf)"),
    ("--batch", "1.5", "must be an integer in [1, inf)"),
    ("--repeats", "0", "must be an integer in [1, inf)"),
    ("--repeats", "99999999999999999999", "must be an integer in [1, inf)"),
])
def test_numeric_options_print_their_range_readably(run, setup, tmp_path, option, value, needle):
    line = assert_error(run("evaluate", setup["store"], option, value, "--cache", tmp_path / "c.json"), option, needle)
    assert "179769" not in line and "not in range" not in line and len(line) < 200, line
    assert not (tmp_path / "c.json").exists()


# ---- --schedule -----------------------------------------------------------------------------------

def test_schedule_early_stop_is_the_default_and_reports_its_epochs(run, setup, tmp_path):
    r = evaluate_json(run, setup["store"], "-s", setup["random"], "--repeats", "2", "--batch", "64", "--patience", "2",
                      "--cache", tmp_path / "c.json")
    assert r["schedule"] == "early-stop" and r["patience"] == 2 and "steps" not in r
    for runs in (r["full"], r["selections"][0]):
        assert len(runs["epochs_trained"]) == 2 and len(runs["best_epochs"]) == 2
        assert len(runs["validation_accuracies"]) == 2
        for trained, best in zip(runs["epochs_trained"], runs["best_epochs"]):
            assert trained == best + 2  # stopped after `patience` epochs without improvement
        assert all(0 <= v <= 1 for v in runs["validation_accuracies"])
    out = assert_ok(run("evaluate", setup["store"], "-s", setup["random"], "--repeats", "2", "--batch", "64",
                        "--patience", "2", "--cache", tmp_path / "c.json"))
    assert "early-stop (validation 10%, patience 2, at most 200 epochs)" in out
    random_row = next(line for line in out.splitlines() if line.startswith("random "))
    assert "val-acc" in random_row and "epochs" in random_row, out


def test_schedule_steps_gives_every_set_the_same_steps(run, setup, tmp_path):
    # 810 full rows in batches of 64 take 13 steps an epoch, 90 rows 2: 26 steps is 2 and 13 epochs.
    r = evaluate_json(run, setup["store"], "-s", setup["random"], "--schedule", "steps", "--steps", "26",
                      "--repeats", "1", "--batch", "64", "--cache", tmp_path / "c.json")
    assert r["schedule"] == "steps" and r["steps"] == 26 and "epochs" not in r
    assert r["full"]["epochs_trained"] == [2] and r["selections"][0]["epochs_trained"] == [13]
    assert r["full"]["validation_accuracies"] is None


def test_schedule_epochs_keeps_the_old_protocol(run, setup, tmp_path):
    r = evaluate_json(run, setup["store"], "-s", setup["random"], "--schedule", "epochs", "--epochs", "3",
                      "--repeats", "1", "--batch", "64", "--cache", tmp_path / "c.json")
    assert r["schedule"] == "epochs" and r["epochs"] == 3 and "patience" not in r
    assert r["selections"][0]["epochs_trained"] == [3] and r["selections"][0]["best_epochs"] == [3]


def test_cache_key_holds_the_schedule(run, setup, tmp_path):
    cache = tmp_path / "c.json"
    evaluate_json(run, setup["store"], "--schedule", "epochs", "--epochs", "1", "--repeats", "1", "--cache", cache)
    other = evaluate_json(run, setup["store"], "--schedule", "steps", "--steps", "13", "--repeats", "1", "--cache", cache)
    assert not other["full"]["cached"], "another schedule is not the cached one"
    keys = [e["key"] for e in json.load(open(cache))["entries"]]
    assert sorted(k["schedule"] for k in keys) == ["epochs", "steps"]
    again = evaluate_json(run, setup["store"], "--schedule", "steps", "--steps", "13", "--repeats", "1", "--cache", cache)
    assert again["full"]["cached"] and again["full"]["epochs_trained"] == other["full"]["epochs_trained"]


@pytest.mark.parametrize("args,needles", [
    (["--schedule", "sometimes"], ["--schedule", "sometimes"]),
    (["--schedule", "steps", "--epochs", "3"], ["--epochs", "steps"]),
    (["--steps", "10"], ["--steps", "early-stop"]),
    (["--schedule", "epochs", "--patience", "3"], ["--patience", "early-stop only"]),
    (["--schedule", "steps", "--validation", "0.2"], ["--validation", "early-stop only"]),
    (["--validation", "1"], ["--validation", "(0, 1)"]),
    (["--patience", "0"], ["--patience", "[1, inf)"]),
    (["--schedule", "steps", "--steps", "0"], ["--steps", "[1, inf)"]),
])
def test_bad_schedule(run, setup, tmp_path, args, needles):
    assert_error(run("evaluate", setup["store"], *args, "--cache", tmp_path / "c.json"), *needles)
    assert not (tmp_path / "c.json").exists()


def test_early_stop_refuses_a_set_too_small_to_hold_out(run, setup, tmp_path):
    store = str(tmp_path / "three.h5")
    x, y = blobs(3, 1)
    tx, ty = blobs(30, 2)
    with h5py.File(store, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=x)
        f.create_dataset("labels", data=y)
        f.create_dataset("test/features", data=tx)
        f.create_dataset("test/labels", data=ty)
    assert_error(run("evaluate", store, "--repeats", "1", "--cache", tmp_path / "c.json"), "--validation",
                 "no class", "schedule epochs or steps")

"""`subset select` with the importance methods (loss, el2n, grand, forgetting, entropy, margin,
least-confidence): each writes /scores consistent with its --order, mislabelled points rank top,
--per-class orders within classes, the scoring's energy is recorded and counted by evaluate,
`subset bench` takes METHOD:PARAM=VALUE entries, and bad input fails with one error line and
writes nothing. Scores are checked against the same proxy's scores of every point (a selection of
all N points, same seed), read back with h5py."""
import json
import os

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_no_partials, assert_ok, file_digest

METHODS = ["loss", "el2n", "grand", "forgetting", "entropy", "margin", "least-confidence"]
N, D, K = 240, 6, 3
FLIP = np.arange(N) % 20 == 10      # 12 points (5%) carry the next class's label
# Cheap but well-trained proxies, so that the tests run in a fraction of a second each.
PROXY = ["--score-epochs", "6", "--score-lr", "0.01", "--score-batch", "32", "--score-hidden", "32"]


def write_store(path, labels=True):
    rng = np.random.RandomState(3)
    y = np.arange(N) % K
    x = (rng.standard_normal((N, D)) * 0.5).astype(np.float32)
    x[np.arange(N), y] += 4.0
    noisy = np.where(FLIP, (y + 1) % K, y).astype(np.int64)
    with h5py.File(path, "w") as f:
        f.create_dataset("features", data=x)
        if labels:
            f.create_dataset("labels", data=noisy)
        f.create_dataset("test/features", data=x[:60])
        f.create_dataset("test/labels", data=y[:60].astype(np.int64))
    return str(path), noisy


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("importance")
    path, labels = write_store(d / "s.h5")
    return {"path": path, "labels": labels, "nolabels": write_store(d / "nolabels.h5", labels=False)[0]}


def read(path):
    with h5py.File(path, "r") as f:
        return {"indices": f["indices"][()], "scores": f["scores"][()] if "scores" in f else None,
                "attrs": {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}}


def select(run, store, out, *args):
    assert_ok(run("select", store["path"], *args, "-o", out, "--force"))
    return read(out)


def all_scores(run, store, out_dir, method, *args):
    """Every point's score: a selection of all N points, in index order."""
    sel = select(run, store, out_dir / f"all-{method}.h5", "-m", method, "-k", str(N), "--order", "hardest", *PROXY,
                 *args)
    assert sorted(sel["indices"].tolist()) == list(range(N))
    full = np.empty(N, np.float32)
    full[sel["indices"]] = sel["scores"]
    return full


@pytest.mark.parametrize("method", [m for m in METHODS if m not in ("el2n", "forgetting")])
def test_each_method_ranks_all_points_hardest_first(run, store, out_dir, method):
    sel = select(run, store, out_dir / "sel.h5", "-m", method, "-k", str(N), "--order", "hardest", *PROXY)
    assert sorted(sel["indices"].tolist()) == list(range(N))
    scores = sel["scores"]
    assert np.all(np.isfinite(scores)) and scores.min() >= 0
    assert np.all(np.diff(scores) <= 0), "hardest picks the highest scores first"
    if method in ("loss", "grand"):  # the deliberately mislabelled points rank top
        assert FLIP[sel["indices"][:FLIP.sum()]].mean() >= 0.9
    a = sel["attrs"]
    assert a["method"] == method
    params = json.loads(a["params"])
    assert params["order"] == "hardest" and params["score-epochs"] == 6 and params["prune-hardest"] == 0
    assert json.loads(a["stats"])["pruned"] == 0
    assert json.loads(a["energy"])["kwh"] > 0


@pytest.mark.parametrize("method", ["el2n", "forgetting"])  # forgetting: integer counts, many ties
def test_each_order_against_every_points_score(run, store, out_dir, method):
    full = all_scores(run, store, out_dir, method)
    if method == "el2n":  # the deliberately mislabelled points rank top
        assert FLIP[np.argsort(-full, kind="stable")[:FLIP.sum()]].mean() >= 0.9
    for order in ("hardest", "easiest", "coverage"):
        sel = select(run, store, out_dir / "sel.h5", "-m", method, "-k", "24", "--order", order, "--bins", "4", *PROXY)
        idx, scores = sel["indices"], sel["scores"]
        assert len(set(idx.tolist())) == 24 and idx.min() >= 0 and idx.max() < N
        np.testing.assert_array_equal(scores, full[idx])  # the same proxy, the same scores
        rest = full[np.setdiff1d(np.arange(N), idx)]
        if order == "hardest":
            assert scores.min() >= rest.max()
            assert np.all(np.diff(scores) <= 0)
        elif order == "easiest":
            assert scores.max() <= rest.min()
            assert np.all(np.diff(scores) >= 0)
        else:
            assert 1 <= json.loads(sel["attrs"]["stats"])["strata"] <= 4


def test_coverage_with_pruning_never_picks_the_hardest(run, store, out_dir):
    for seed in ("1",):
        full = all_scores(run, store, out_dir, "el2n", "--seed", seed)
        hardest = set(np.argsort(-full, kind="stable")[:48].tolist())  # 20% of 240
        sel = select(run, store, out_dir / "sel.h5", "-m", "el2n", "-k", "60", "--order", "coverage",
                     "--prune-hardest", "0.2", "--bins", "10", "--seed", seed, *PROXY)
        assert not hardest & set(sel["indices"].tolist())
        stats = json.loads(sel["attrs"]["stats"])
        assert stats["pruned"] == 48 and 1 <= stats["strata"] <= 10


def test_per_class_orders_within_each_class(run, store, out_dir):
    full = all_scores(run, store, out_dir, "margin")
    sel = select(run, store, out_dir / "sel.h5", "-m", "margin", "-k", "15", "--per-class", "--order", "hardest",
                 *PROXY)
    labels = store["labels"]
    idx = sel["indices"]
    assert list(np.bincount(labels[idx], minlength=K)) == [5, 5, 5]
    np.testing.assert_array_equal(sel["scores"], full[idx])  # scored once, over all classes
    for c in range(K):
        picked = idx[labels[idx] == c]
        rest = np.setdiff1d(np.flatnonzero(labels == c), picked)
        assert full[picked].min() >= full[rest].max()


def test_same_selection_at_any_thread_count(run, store, out_dir):
    sels = []
    for threads in ("1", "2"):
        out = out_dir / f"t{threads}.h5"
        assert_ok(run("--threads", threads, "select", store["path"], "-m", "grand", "-k", "30", "--order", "coverage",
                      "--seed", "4", *PROXY, "-o", out))
        sels.append(read(out))
    np.testing.assert_array_equal(sels[0]["indices"], sels[1]["indices"])
    np.testing.assert_array_equal(sels[0]["scores"], sels[1]["scores"])


def test_scoring_energy_is_counted_by_evaluate(run, store, out_dir):
    path = out_dir / "sel.h5"
    sel = select(run, store, path, "-m", "el2n", "-k", "24", *PROXY[2:], "--score-epochs", "30")
    assert json.loads(sel["attrs"]["params"])["order"] == "coverage"  # the default
    recorded = json.loads(sel["attrs"]["energy"])
    assert recorded["seconds"] > 0 and recorded["kwh"] > 0
    rc, out, err = run("evaluate", store["path"], "-s", path, "--epochs", "1", "--repeats", "1", "--json", timeout=300)
    assert rc == 0, err
    ev = json.loads(out)["selections"][0]
    assert ev["select_kwh"] == pytest.approx(recorded["kwh"], rel=1e-6)
    assert ev["saved_kwh"] == pytest.approx(json.loads(out)["full"]["train_kwh"] - ev["select_kwh"] - ev["train_kwh"])


def check_bad(run, out_dir, args, *needles):
    out = out_dir / "sel.h5"
    before = {name: file_digest(out_dir / name) for name in os.listdir(out_dir)}
    assert_error(run("select", *args, "-o", out), *needles)
    assert {name: file_digest(out_dir / name) for name in os.listdir(out_dir)} == before
    assert not out.exists()
    assert_no_partials(str(out_dir))


@pytest.mark.parametrize("method", ["loss", "entropy"])
def test_store_without_labels(run, store, out_dir, method):
    check_bad(run, out_dir, [store["nolabels"], "-m", method, "-k", "5"], "needs labels", method)


@pytest.mark.parametrize("option,value", [
    ("--score-epochs", "0"), ("--score-repeats", "0"), ("--prune-hardest", "1"), ("--prune-hardest", "-0.1"),
    ("--prune-hardest", "1.5"), ("--order", "bogus"), ("--bins", "0"), ("--score-lr", "0"), ("--score-model", "cnn"),
])
def test_bad_parameter(run, store, out_dir, option, value):
    check_bad(run, out_dir, [store["path"], "-m", "el2n", "-k", "5", option, value], option[2:])


def test_bench_takes_method_parameters(run, store, tmp_path):
    out = tmp_path / "bench"
    spec = "el2n:order=coverage:score-epochs=2:bins=5"
    rc, stdout, err = run("bench", store["path"], "--methods", f"random,{spec}", "--fractions", "0.1", "--repeats", "1",
                          "--epochs", "1", "--no-plot", "-o", out, "--json", timeout=300)
    assert rc == 0, err
    rows = json.loads(stdout)["rows"]
    assert [r["method"] for r in rows] == ["random", spec]
    assert rows[1]["select_kwh"] > rows[0]["select_kwh"]  # scoring costs what random does not
    sel = read(out / "selections" / f"{spec}-0.1-r0.sel.h5")
    params = json.loads(sel["attrs"]["params"])
    assert sel["attrs"]["method"] == "el2n" and params["order"] == "coverage" and params["bins"] == 5
    assert params["score-epochs"] == 2 and len(sel["scores"]) == 24


@pytest.mark.parametrize("entry,needles", [
    ("el2n:order=bogus", ["order", "bogus"]),
    ("el2n:order", ["PARAM=VALUE"]),
    ("el2n:bins=2:bins=3", ["twice"]),
    ("random:order=hardest", ["order"]),
])
def test_bench_bad_method_entry(run, store, tmp_path, entry, needles):
    out = tmp_path / "bad"
    assert_error(run("bench", store["path"], "--methods", entry, "--fractions", "0.1", "--no-plot", "-o", out),
                 *needles)
    assert not os.listdir(tmp_path)


def test_help_lists_the_methods(run):
    out = assert_ok(run("select", "--help"))
    for word in METHODS + ["--order", "--prune-hardest", "--score-epochs", "--score-repeats"]:
        assert word in out

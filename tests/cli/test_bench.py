"""`subset bench`: the sweep's results.json / results.csv / plot.png and selections, the table on
stdout, and bad input that writes nothing and leaves an existing directory alone."""
import csv
import json
import os
import re
import sys

import pytest

from subset_testing import assert_error, assert_ok
from test_evaluate import write_store

SWEEP = ["--methods", "random,kcenter", "--fractions", "0.1,0.5", "--repeats", "2", "--epochs", "2", "--batch", "64"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_store(tmp_path_factory.mktemp("bench") / "blobs.h5")


@pytest.fixture(scope="module")
def sweep(run, store, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-out") / "sweep"
    rc, stdout, err = run("bench", store, *SWEEP, "-o", out, timeout=600)
    assert rc == 0, err
    return out, stdout


def test_results_json(sweep):
    out, _ = sweep
    r = json.load(open(out / "results.json"))
    assert r["full"]["n"] == 900 and len(r["full"]["accuracies"]) == 2
    rows = r["rows"]
    assert [(x["method"], x["fraction"]) for x in rows] == [("random", 0.1), ("random", 0.5), ("kcenter", 0.1),
                                                            ("kcenter", 0.5)]
    for x in rows:
        assert x["n"] == round(900 * x["fraction"])
        assert len(x["accuracies"]) == 2 and len(x["select_seconds"]) == 2
        assert x["select_kwh"] > 0 and x["train_kwh"] > 0
        assert x["saved_kwh"] == pytest.approx(r["full"]["train_kwh"] - x["select_kwh"] - x["train_kwh"])


def test_results_csv_matches_json(sweep):
    out, _ = sweep
    r = json.load(open(out / "results.json"))
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert rows[0]["method"] == "full"
    assert len(rows) == 1 + len(r["rows"])
    for c, j in zip(rows[1:], r["rows"]):
        assert c["method"] == j["method"]
        assert float(c["accuracy_mean"]) == pytest.approx(j["accuracy_mean"], abs=1e-6)
        assert float(c["saved_kwh"]) == pytest.approx(j["saved_kwh"], rel=1e-5)


def test_plot_and_selections(sweep):
    out, stdout = sweep
    with open(out / "plot.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(out / "selections")) == sorted(
        f"{m}-{f}-r{r}.sel.h5" for m in ("random", "kcenter") for f in ("0.1", "0.5") for r in (0, 1))
    assert "results:" in stdout and "kcenter" in stdout
    assert not [n for n in os.listdir(out.parent) if ".partial-" in n]


def test_existing_directory_needs_force(run, store, sweep):
    out, _ = sweep
    before = sorted(os.listdir(out))
    assert_error(run("bench", store, *SWEEP, "-o", out), "exists", "--force")
    assert sorted(os.listdir(out)) == before


def test_no_plot_and_force(run, store, tmp_path):
    out = tmp_path / "quick"
    args = ["--methods", "random", "--fractions", "0.2", "--repeats", "1", "--epochs", "1", "--no-plot", "-o", out]
    assert_ok(run("bench", store, *args, timeout=300))
    assert not (out / "plot.png").exists()
    (out / "marker").write_text("old")
    assert_ok(run("bench", store, *args, "--force", timeout=300))
    assert not (out / "marker").exists(), "--force replaces the whole directory"
    assert (out / "results.json").exists()
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")], "no staging or old directory left"


@pytest.mark.parametrize("change,needles", [
    (["--methods", "nosuch"], ["nosuch"]),
    (["--fractions", "0"], ["fraction"]),
    (["--fractions", "1.5"], ["fraction"]),
    (["--repeats", "0"], ["--repeats"]),
    (["--python", "/nonexistent/python3"], ["plot"]),
    # Lists are checked item by item before any work, naming the option and the item.
    (["--methods", ",,"], ["--methods", "empty item 1 in ',,'"]),
    (["--methods", "random,"], ["--methods", "empty item 2"]),
    (["--methods", ""], ["--methods", "empty list"]),
    (["--methods", "random,random"], ["--methods", "'random' given twice"]),
    (["--methods", "random,nosuch"], ["nosuch"]),
    (["--fractions", ",0.1"], ["--fractions", "empty item 1"]),
    (["--fractions", "0.1,0.1"], ["--fractions", "fraction 0.1 given twice"]),
    (["--fractions", "0.1,0.10"], ["--fractions", "fraction 0.1 given twice"]),
    (["--fractions", "0.1,abc"], ["--fractions", "'abc' is not a number"]),
    (["--fractions", "0.1x"], ["--fractions", "'0.1x' is not a number"]),
    (["--fractions", "0.5,-0.1"], ["--fractions", "-0.1 is not in (0, 1]"]),
    (["--fractions", "nan"], ["--fractions", "'nan' is not a number"]),
    (["--epochs", "0"], ["--epochs", "must be an integer in [1, inf), got '0'"]),
    (["--lr", "0"], ["--lr", "must be a number in (0, inf), got '0'"]),
])
def test_bad_input_writes_nothing(run, store, tmp_path, change, needles):
    out = tmp_path / "bad"
    args = dict(zip(SWEEP[::2], SWEEP[1::2]))
    for k, v in zip(change[::2], change[1::2]):
        args[k] = v
    flat = [x for kv in args.items() for x in kv]
    line = assert_error(run("bench", store, *flat, "-o", out, timeout=20), *needles)
    assert "179769" not in line and ".partial" not in line, line
    assert not out.exists()
    assert not os.listdir(tmp_path)


def test_store_without_test_split(run, tmp_path):
    store = write_store(tmp_path / "s.h5", test=False)
    assert_error(run("bench", store, *SWEEP, "-o", tmp_path / "o"), "/test")


def test_empty_list_item_does_not_swallow_the_next_option(run, store, tmp_path):
    # CLI11 once read ",," as no value and took --fractions as the next item: "--fractions is required".
    assert_error(run("bench", store, "--methods", ",,", "--fractions", "0.1", "-o", tmp_path / "o"),
                 "--methods", "empty item")
    assert not os.listdir(tmp_path)


def test_foreign_file_at_the_cache_path_is_refused(run, tmp_path):
    store = write_store(tmp_path / "s.h5")
    cache = tmp_path / "s.h5.evaluate-cache.json"
    cache.write_text("mine\n")
    assert_error(run("bench", store, *SWEEP, "--no-plot", "-o", tmp_path / "o", timeout=20),
                 "is not an evaluate cache")
    assert cache.read_text() == "mine\n"
    assert sorted(os.listdir(tmp_path)) == ["s.h5", "s.h5.evaluate-cache.json"]


# ---- joules per accuracy point and the plot's energy axis (issue 19) ----------------------------

def test_joules_per_accuracy_point(sweep):
    out, stdout = sweep
    r = json.load(open(out / "results.json"))
    # One run (selection with its embedding + one training), kWh -> J, per percentage point.
    for x in r["rows"]:
        joules = (x["select_kwh"] + x["embed_kwh"] + x["train_kwh"]) * 3.6e6
        assert x["j_per_point"] == pytest.approx(joules / (100 * x["accuracy_mean"]), rel=1e-9)
    full = r["full"]
    assert full["j_per_point"] == pytest.approx(full["train_kwh"] * 3.6e6 / (100 * full["accuracy_mean"]), rel=1e-9)
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert float(rows[0]["j_per_point"]) == pytest.approx(full["j_per_point"], rel=1e-5)
    for c, j in zip(rows[1:], r["rows"]):
        assert float(c["j_per_point"]) == pytest.approx(j["j_per_point"], rel=1e-5)
    # The table: a J/pt column, with each row's value to 3 significant digits.
    lines = stdout.splitlines()
    header = next(line for line in lines if line.startswith("method"))
    assert "J/pt" in header.split()
    for j in r["rows"]:
        line = next(line for line in lines if line.split()[:2] == [j["method"], "%g" % j["fraction"]])
        values = [v for v in line.split() if re.fullmatch(r"[0-9.]+(e[+-][0-9]+)?", v)]
        assert any(float(v) == pytest.approx(j["j_per_point"], rel=5e-3) for v in values), (line, j["j_per_point"])


def labelled_energy_ticks(results, source_dir):
    """The labels matplotlib draws on the plot's energy axis (major and minor ticks), within its limits."""
    sys.path.insert(0, os.path.join(source_dir, "python_scripts"))
    try:
        import plot_bench
    finally:
        sys.path.pop(0)
    fig = plot_bench.figure(results)
    fig.canvas.draw()
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    labels = [t.get_text() for t in ax.get_xticklabels(which="both") if t.get_text() and lo <= t.get_position()[0] <= hi]
    return lo, hi, labels


def test_plot_energy_axis_is_readable(sweep, source_dir):
    out, _ = sweep
    r = json.load(open(out / "results.json"))
    lo, hi, labels = labelled_energy_ticks(r, source_dir)
    assert len(labels) >= 3, (lo, hi, labels)
    assert len(set(labels)) == len(labels)
    # Narrower ranges than a small sweep's, down to a spread of 0.2%: still 3 distinct labels, each
    # naming its tick's value.
    for spread in (8.0, 2.0, 1.2, 1.002):
        s = json.loads(json.dumps(r))
        n = len(s["rows"])
        for i, x in enumerate(s["rows"]):
            x["select_kwh"], x["train_kwh"] = 0.0, 1e-5 * spread ** (i / max(1, n - 1))
        s["full"]["train_kwh"] = 1e-5 * spread
        lo, hi, labels = labelled_energy_ticks(s, source_dir)
        assert hi / lo < 10 and len(labels) >= 3, (spread, lo, hi, labels)
        assert len(set(labels)) == len(labels), labels
        assert all(lo <= float(t) <= hi for t in labels), labels

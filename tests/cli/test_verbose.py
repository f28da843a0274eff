"""-v/--verbose, select's default output, and "did you mean" for mistyped names (issue 19).

The default select output keeps what a user reads (the selection, the method's results, energy);
the method's internal counters print with -v and stay in --json. -v adds the phases with their
times and the files written; -q and -v together are refused. A mistyped method, model, strategy,
subcommand or option names the nearest known one when it is close (edit distance), and only then."""
import json
import re

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_ok
from test_evaluate import write_store as write_labelled_store

N, D = 120, 5


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("verbose") / "s.h5"
    rng = np.random.RandomState(3)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=rng.randn(N, D).astype(np.float32))
        f.create_dataset("labels", data=rng.randint(0, 3, N).astype(np.int64))
        f.create_dataset("test/features", data=rng.randn(20, D).astype(np.float32))
        f.create_dataset("test/labels", data=rng.randint(0, 3, 20).astype(np.int64))
    return str(path)


def indented_keys(text):
    """The `  key value` lines of select's output, by key."""
    out = {}
    for line in text.splitlines()[1:]:
        m = re.match(r"^  ([a-z_0-9]+) (.*)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


# ---- select's default output and -v ------------------------------------------------------------

def test_select_default_output_hides_internal_counters(run, store, tmp_path):
    out = tmp_path / "k.sel.h5"
    text = assert_ok(run("select", store, "--method", "kcenter", "--budget", "10", "-o", out))
    first = text.splitlines()[0]
    assert first.startswith("selected 10 of 120 rows with kcenter, seed 0, in ") and first.endswith(f"-> {out}")
    keys = indented_keys(text)
    # kcenter's result is shown, with the value the file records.
    with h5py.File(out, "r") as f:
        stats = json.loads(f.attrs["stats"]) if "stats" in f.attrs else None
    j = json.loads(assert_ok(run("select", store, "--method", "kcenter", "--budget", "10", "-o", out, "--force",
                                 "--json")))
    assert float(keys["covering_radius"]) == pytest.approx(j["stats"]["covering_radius"], rel=1e-5)
    # The counters are in --json (and the file) but not in the default text.
    for counter in ("skipped_by_8bit_copy", "skipped_by_triangle", "distance_evaluations", "updates", "sketch_dims"):
        assert counter in j["stats"], counter
        assert counter not in text, counter
    if stats is not None:
        assert "skipped_by_8bit_copy" in stats
    assert "energy" in keys


def test_select_verbose_shows_counters_phases_and_files(run, store, tmp_path):
    out, idx = tmp_path / "k.sel.h5", tmp_path / "k.txt"
    for flag in ("-v", "--verbose"):
        text = assert_ok(run(flag, "select", store, "--method", "kcenter", "--budget", "10", "-o", out,
                             "--indices-out", idx, "--force"))
        keys = indented_keys(text)
        j = json.loads(assert_ok(run("select", store, "--method", "kcenter", "--budget", "10", "-o", out, "--force",
                                     "--json")))
        for counter in ("skipped_by_8bit_copy", "skipped_by_triangle", "distance_evaluations", "updates"):
            assert int(keys[counter]) == j["stats"][counter], counter  # deterministic for a seed
        assert "covering_radius" in keys
        phases = re.search(r"^  phases: read ([0-9.e+-]+) s, select ([0-9.e+-]+) s, write ([0-9.e+-]+) s$", text, re.M)
        assert phases, text
        assert all(float(x) >= 0 for x in phases.groups())
        assert f"  wrote {out}, {idx}" in text
        assert json.loads(keys["parameters"]) == j["params"]
    # -v also follows the subcommand, as the other global options do.
    text = assert_ok(run("select", store, "--method", "random", "--budget", "5", "-o", out, "--force", "-v"))
    assert "  phases: read " in text


def test_kmeans_default_shows_its_results_not_its_counters(run, store, tmp_path):
    out = tmp_path / "m.sel.h5"
    text = assert_ok(run("select", store, "--method", "kmeans", "--budget", "6", "-o", out))
    keys = indented_keys(text)
    assert {"inertia", "iterations", "converged"} <= set(keys)
    assert "seeding_distances" not in keys and "blas" not in keys and "assignments_skipped" not in keys
    keys = indented_keys(assert_ok(run("-v", "select", store, "--method", "kmeans", "--budget", "6", "-o", out,
                                       "--force")))
    assert {"seeding_distances", "blas", "assignments_skipped", "inertia"} <= set(keys)


def test_json_is_the_same_with_and_without_verbose(run, store, tmp_path):
    out = tmp_path / "j.sel.h5"
    a = json.loads(assert_ok(run("select", store, "-m", "kcenter", "-k", "7", "-o", out, "--json")))
    b = json.loads(assert_ok(run("-v", "select", store, "-m", "kcenter", "-k", "7", "-o", out, "--json", "--force")))
    for j in (a, b):
        j.pop("seconds"), j.pop("energy"), j["stats"].pop("seconds")
    assert a == b


def test_quiet_and_verbose_together_are_refused(run, store, tmp_path):
    out = tmp_path / "q.sel.h5"
    for args in (["-q", "-v"], ["--quiet", "--verbose"], ["-qv"]):
        r = run(*args, "select", store, "-m", "random", "-k", "5", "-o", out)
        assert_error(r, "-q/--quiet", "-v/--verbose", "not both")
    assert not out.exists()


# ---- -v on compress, extract, evaluate and bench --------------------------------------------------

def test_compress_verbose(run, store, tmp_path):
    out, model = tmp_path / "c.h5", tmp_path / "c.model.h5"
    plain = assert_ok(run("compress", store, "-m", "pca", "--dim", "2", "-o", out, "--model-out", model))
    assert "phases:" not in plain
    text = assert_ok(run("-v", "compress", store, "-m", "pca", "--dim", "2", "-o", out, "--model-out", model,
                         "--force"))
    m = re.search(r"^  phases: fit ([0-9.e+-]+) s, apply ([0-9.e+-]+) s, write ([0-9.e+-]+) s$", text, re.M)
    assert m, text
    assert f"  wrote {out}, {model}" in text
    j = json.loads(assert_ok(run("compress", store, "-m", "pca", "--dim", "2", "-o", out, "--force", "--json")))
    assert j["write_seconds"] >= 0 and j["apply_seconds"] >= 0
    # Applying a saved model has no fit phase.
    applied = tmp_path / "a.h5"
    text = assert_ok(run("-v", "compress", store, "--apply", model, "-o", applied))
    assert re.search(r"^  phases: apply [0-9.e+-]+ s, write [0-9.e+-]+ s$", text, re.M), text


def test_extract_verbose(run, store, tmp_path):
    sel, out = tmp_path / "e.sel.h5", tmp_path / "e.h5"
    assert_ok(run("select", store, "-m", "random", "-k", "9", "-o", sel))
    text = assert_ok(run("-v", "extract", store, "-s", sel, "-o", out))
    assert re.search(rf"^  time +[0-9.e+-]+ s reading the 9 selected rows of {re.escape(store)}", text, re.M), text
    assert f"wrote       {out}" in text
    assert "reading the" not in assert_ok(run("extract", store, "-s", sel, "-o", out, "--force"))


@pytest.fixture(scope="module")
def blobs(run, tmp_path_factory):
    d = tmp_path_factory.mktemp("verbose-blobs")
    store = write_labelled_store(d / "blobs.h5")
    sel = str(d / "r.sel.h5")
    assert_ok(run("select", store, "-m", "random", "-k", "90", "-o", sel))
    return store, sel


def test_evaluate_verbose_times_every_training(run, blobs):
    store, sel = blobs
    args = ["evaluate", store, "-s", sel, "--epochs", "1", "--repeats", "2", "--no-cache"]
    plain = assert_ok(run(*args, timeout=300))
    assert "where the time went" not in plain
    text = assert_ok(run("-v", *args, timeout=300))
    full = re.search(r"^  full: training ([0-9.e+-]+), ([0-9.e+-]+) s$", text, re.M)
    assert full, text
    row = re.search(rf"^  random \({re.escape(sel)}\): selection ([0-9.e+-]+) s \(recorded\), "
                    r"training ([0-9.e+-]+), ([0-9.e+-]+) s$", text, re.M)
    assert row, text
    # The same seconds as --json reports (3 significant digits).
    j = json.loads(assert_ok(run(*args, "--json", timeout=300)))
    assert len(j["full"]["seconds"]) == 2 and len(j["selections"][0]["seconds"]) == 2


def test_bench_verbose(run, blobs, tmp_path):
    store, _ = blobs
    out = tmp_path / "b"
    text = assert_ok(run("-v", "bench", store, "--methods", "random", "--fractions", "0.1,0.2", "--repeats", "2",
                         "--epochs", "1", "--no-plot", "-o", out, timeout=300))
    assert re.search(r"^  full: training [0-9.e+-]+, [0-9.e+-]+ s", text, re.M), text
    for f in ("0.1", "0.2"):
        assert re.search(rf"^  random {f}: selection [0-9.e+-]+, [0-9.e+-]+ s, training [0-9.e+-]+, [0-9.e+-]+ s$",
                         text, re.M), text
    assert f"wrote {out}/results.json, {out}/results.csv, {out}/selections/ (4 selection files)" in text


# ---- "did you mean" ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, needles", [
    (["select", "S", "--method", "kcentre", "-k", "5", "-o", "O"],
     ["unknown method 'kcentre'", "did you mean 'kcenter'?", "--method"]),
    (["select", "S", "--method", "randm", "-k", "5", "-o", "O"], ["did you mean 'random'?"]),
    (["compress", "S", "--method", "pac", "--dim", "2", "-o", "O"], ["unknown method 'pac'", "did you mean 'pca'?"]),
    (["select", "S", "--budgt", "5", "-m", "random", "-o", "O"], ["unknown option --budgt; did you mean --budget?"]),
    (["select", "S", "--budgt=5", "-m", "random", "-o", "O"], ["unknown option --budgt; did you mean --budget?"]),
    (["select", "S", "-m", "random", "-k", "5", "-o", "O", "--forse"], ["unknown option --forse; did you mean --force?"]),
    # A global option is suggested after a subcommand too (they follow it).
    (["select", "S", "-m", "random", "-k", "5", "-o", "O", "--thread", "2"],
     ["unknown option --thread; did you mean --threads?"]),
    (["compress", "S", "-m", "pca", "--dimm", "2", "-o", "O"], ["unknown option --dimm; did you mean --dim?"]),
    (["selct", "S"], ["unknown subcommand 'selct'; did you mean 'select'?"]),
    (["evalute", "S"], ["unknown subcommand 'evalute'; did you mean 'evaluate'?"]),
    (["evaluate", "S", "--model", "mpl"], ["parameter 'model' must be one of: linear, mlp, convnet, got 'mpl'",
                                           "did you mean 'mlp'?"]),
    (["condense", "S", "--method", "dn", "-o", "O"], ["got 'dn'", "did you mean 'dm'?"]),
    (["bench", "S", "--methods", "random,kcentre", "--fractions", "0.1", "-o", "O"], ["did you mean 'kcenter'?"]),
    (["bench", "S", "--methods", "el2n:ordr=coverage", "--fractions", "0.1", "-o", "O"],
     ["unknown parameter 'ordr'", "did you mean 'order'?"]),
])
def test_did_you_mean(run, store, tmp_path, args, needles):
    args = [store if a == "S" else str(tmp_path / "o.h5") if a == "O" else a for a in args]
    assert_error(run(*args), *needles)
    assert not (tmp_path / "o.h5").exists()


@pytest.mark.parametrize("args, needles, absent", [
    # Far from every name: the known ones are listed, nothing is guessed.
    (["select", "S", "--method", "frobnicate", "-k", "5", "-o", "O"], ["unknown method 'frobnicate'", "known:"],
     "did you mean"),
    (["select", "S", "--zzzzzz", "5", "-m", "random", "-o", "O"], ["unknown option --zzzzzz"], "did you mean"),
    (["frobnicate"], ["unknown subcommand 'frobnicate'"], "did you mean"),
    # A single-letter option is one edit from every other: no guess.
    (["select", "S", "-m", "random", "-k", "5", "-o", "O", "-z"], ["unknown option -z"], "did you mean"),
    # A stray positional argument keeps CLI11's message.
    (["select", "S", "-m", "random", "-k", "5", "-o", "O", "extra"], ["not expected: extra"], "unknown option"),
])
def test_no_guess_for_far_names(run, store, tmp_path, args, needles, absent):
    args = [store if a == "S" else str(tmp_path / "o.h5") if a == "O" else a for a in args]
    r = run(*args)
    assert_error(r, *needles)
    assert absent not in r[2]


def test_al_strategy_suggestion(run, store, tmp_path):
    project = tmp_path / "p.al"
    assert_ok(run("al", "init", store, "-o", project))
    assert_error(run("al", "query", project, "--strategy", "entropi"), "got 'entropi'", "did you mean 'entropy'?")
    assert_error(run("al", "query", project, "--strategy", "leastconfidence"), "did you mean 'least-confidence'?")

"""`subset hpo`: a search over 3 configurations on 2 coresets and the full data (results.json,
results.csv, hpo.png, the ledger, the table), the rank metrics against scipy, resuming after kill -9
or a torn ledger line, every bad space entry, and the output directory rules."""
import csv
import json
import math
import os
import signal
import subprocess
import time

import pytest

from subset_testing import assert_error, assert_ok
# Four classes near a low-rank subspace: configurations differ in accuracy on it.
from test_compress import write_store

SPACE = {"lr": {"log": [1e-3, 1e-1]}, "hidden": {"choice": [4, 32]}, "epochs": {"int": [2, 4]}}
ARGS = ["--trials", "3", "--methods", "random,kcenter", "--fractions", "0.2", "--batch", "64", "--seed", "3"]


def write_space(path, space):
    with open(path, "w") as f:
        f.write(space if isinstance(space, str) else json.dumps(space))
    return str(path)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("hpo")
    return {"dir": d, "store": write_store(d / "store.h5"), "space": write_space(d / "space.json", SPACE)}


@pytest.fixture(scope="module")
def search(run, setup):
    out = setup["dir"] / "search"
    rc, stdout, err = run("hpo", setup["store"], "--space", setup["space"], *ARGS, "-o", out, timeout=300)
    assert rc == 0, err
    return out, stdout


def ledger(out):
    with open(out / "trials.jsonl") as f:
        return [json.loads(line) for line in f]


def test_end_to_end(search):
    out, stdout = search
    r = json.load(open(out / "results.json"))
    assert [c["id"] for c in r["configs"]] == ["c0", "c1", "c2"]
    assert [c["set"] for c in r["coresets"]] == ["random-0.2", "kcenter-0.2"]
    trials = ledger(out)
    assert len(trials) == 9  # 3 configurations x (2 coresets + full)
    assert sorted({t["set"] for t in trials}) == ["full", "kcenter-0.2", "random-0.2"]
    for c in r["configs"]:
        assert set(c["accuracy"]) == {"full", "random-0.2", "kcenter-0.2"}
        assert 1e-3 <= c["config"]["lr"] <= 1e-1 and c["config"]["hidden"] in (4, 32)
    full = {c["id"]: c["accuracy"]["full"] for c in r["configs"]}
    best_full = max(full.values())
    for s in r["coresets"]:
        assert s["n"] == 120 and s["configs_trained"] == 3 and s["configs_compared"] == 3
        sub = {c["id"]: c["accuracy"][s["set"]] for c in r["configs"]}
        best = max(sub, key=lambda k: (sub[k], -int(k[1:])))
        assert s["best_config"] == best
        assert s["regret"] == pytest.approx(best_full - full[best])
        assert s["top1_agreement"] == (full[best] == best_full)
        assert s["selection_kwh"] > 0
        train_kwh = sum(t["energy"]["kwh"] for t in trials if t["set"] == s["set"])
        assert s["search_kwh"] == pytest.approx(s["selection_kwh"] + train_kwh)
        full_kwh = sum(t["energy"]["kwh"] for t in trials if t["set"] == "full")
        assert s["full_search_kwh"] == pytest.approx(full_kwh)
        assert s["energy_ratio"] == pytest.approx(s["search_kwh"] / full_kwh)
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [row["set"] for row in rows] == ["random-0.2", "kcenter-0.2"]
    assert (out / "hpo.png").stat().st_size > 1000
    assert (out / "selections" / "random-0.2.sel.h5").exists()
    assert "random-0.2" in stdout and "tau" in stdout and "regret" in stdout


def test_rank_metrics_match_scipy(search):
    stats = pytest.importorskip("scipy.stats")
    out, _ = search
    r = json.load(open(out / "results.json"))
    for s in r["coresets"]:
        x = [c["accuracy"][s["set"]] for c in r["configs"]]
        y = [c["accuracy"]["full"] for c in r["configs"]]
        for ours, theirs in ((s["kendall_tau"], stats.kendalltau(x, y)[0]), (s["spearman"], stats.spearmanr(x, y)[0])):
            if math.isnan(theirs):
                assert ours is None
            else:
                assert ours == pytest.approx(theirs)


def test_same_seed_same_search(run, setup, search):
    out, _ = search
    again = setup["dir"] / "again"
    assert_ok(run("hpo", setup["store"], "--space", setup["space"], *ARGS, "--no-plot", "-o", again, timeout=300))
    assert [c["config"] for c in json.load(open(again / "results.json"))["configs"]] == \
        [c["config"] for c in json.load(open(out / "results.json"))["configs"]]


def accuracies(out):
    return {t["key"]: t["accuracy"] for t in ledger(out)}


def test_resume_after_kill(subset_bin, run, setup, search, tmp_path):
    out, _ = search
    space = write_space(tmp_path / "slow.json", dict(SPACE, epochs={"int": [30, 40]}))
    args = ["hpo", setup["store"], "--space", space, *ARGS, "--schedule", "epochs", "--no-plot"]
    clean = tmp_path / "clean"
    assert_ok(run(*args, "-o", clean, timeout=300))
    killed = tmp_path / "killed"
    proc = subprocess.Popen([subset_bin, *map(str, args), "-o", str(killed)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if (killed / "trials.jsonl").exists() and len(open(killed / "trials.jsonl").readlines()) >= 2:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait()
    done_before = len(ledger(killed))
    assert proc.returncode == -signal.SIGKILL and 2 <= done_before < 9
    # Without --resume the directory is refused, and nothing in it changes.
    assert_error(run(*args, "-o", killed), "--resume")
    assert len(ledger(killed)) == done_before
    out_text = assert_ok(run(*args, "--resume", "-o", killed, timeout=300))
    assert "resumed from the ledger" in out_text
    assert len(ledger(killed)) == 9
    assert accuracies(killed) == accuracies(clean)


def test_ctrl_c_leaves_whole_lines(subset_bin, setup, tmp_path):
    space = write_space(tmp_path / "slow.json", dict(SPACE, epochs={"int": [30, 40]}))
    out = tmp_path / "interrupted"
    proc = subprocess.Popen([subset_bin, "hpo", setup["store"], "--space", space, *ARGS, "--schedule", "epochs",
                             "--no-plot", "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if (out / "trials.jsonl").exists() and open(out / "trials.jsonl").read().count("\n") >= 1:
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.005)
    _, err = proc.communicate()
    assert proc.returncode == 130, err
    text = open(out / "trials.jsonl").read()
    assert text.endswith("\n") and 1 <= len(ledger(out)) < 9
    assert not (out / "results.json").exists()


def test_two_searches_in_one_directory_one_is_refused(subset_bin, run, setup, tmp_path):
    space = write_space(tmp_path / "slow.json", dict(SPACE, epochs={"int": [3000, 4000]}))
    out = tmp_path / "shared"
    first = subprocess.Popen([subset_bin, "hpo", setup["store"], "--space", space, *ARGS, "--schedule", "epochs",
                              "--no-plot", "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and first.poll() is None and not (out / "hpo.json").exists():
        time.sleep(0.005)
    # The second, even with --resume (the same plan), is refused while the first holds the directory.
    second = run("hpo", setup["store"], "--space", space, *ARGS, "--schedule", "epochs", "--no-plot", "--resume",
                 "-o", out)
    still_running = first.poll() is None
    first.send_signal(signal.SIGINT)
    first.communicate()
    assert still_running, "the first search ended before the second started: make it slower"
    assert_error(second, "another subset hpo is running")
    keys = [(t["config_hash"], t["set"]) for t in ledger(out)] if (out / "trials.jsonl").exists() else []
    assert len(keys) == len(set(keys))


def copy_search(out, dest, ledger_text):
    """DEST with OUT's plan and the ledger `ledger_text(OUT's ledger lines)`: an interrupted search."""
    dest.mkdir()
    (dest / "hpo.json").write_bytes((out / "hpo.json").read_bytes())
    (dest / "trials.jsonl").write_text(ledger_text(open(out / "trials.jsonl").read().splitlines(keepends=True)))
    return dest


def test_resume_drops_a_torn_last_line(run, setup, search, tmp_path):
    out, _ = search
    torn = copy_search(out, tmp_path / "torn", lambda lines: "".join(lines[:4]) + lines[4][:40])
    stdout = assert_ok(run("hpo", setup["store"], "--space", setup["space"], *ARGS, "--no-plot", "--resume",
                           "-o", torn, timeout=300))
    assert "cut short by an interruption" in stdout
    assert accuracies(torn) == accuracies(out)
    assert len(ledger(torn)) == 9


def test_damaged_ledger_is_refused(run, setup, search, tmp_path):
    out, _ = search
    bad = copy_search(out, tmp_path / "bad", lambda lines: lines[0] + "garbage\n" + lines[1])
    assert_error(run("hpo", setup["store"], "--space", setup["space"], *ARGS, "--no-plot", "--resume", "-o", bad),
                 "damaged (line 2")


def test_resume_of_another_search_is_refused(run, setup, search, tmp_path):
    out, _ = search
    other = write_space(tmp_path / "other.json", {"hidden": {"choice": [4, 8]}})
    before = open(out / "trials.jsonl").read()
    assert_error(run("hpo", setup["store"], "--space", other, *ARGS, "--resume", "-o", out),
                 "was searched with another", "--resume continues the same search only")
    assert_error(run("hpo", setup["store"], "--space", setup["space"], *ARGS[:-1], "4", "--resume", "-o", out),
                 "another")
    assert open(out / "trials.jsonl").read() == before


def test_given_selections_and_top_k(run, setup, tmp_path):
    sels = []
    for method in ("random", "kcenter"):
        sels.append(str(tmp_path / f"{method}.sel.h5"))
        assert_ok(run("select", setup["store"], "--method", method, "--budget", "60", "-o", sels[-1]))
    out = tmp_path / "topk"
    stdout = assert_ok(run("hpo", setup["store"], "--space", setup["space"], "--trials", "3", "--selection", *sels,
                           "--full", "top-1", "--epochs", "2", "--no-plot", "-o", out, timeout=300))
    r = json.load(open(out / "results.json"))
    assert [c["set"] for c in r["coresets"]] == ["random", "kcenter"]
    full = [t for t in ledger(out) if t["set"] == "full"]
    assert 1 <= len(full) <= 2
    assert {t["config_id"] for t in full} == {c["best_config"] for c in r["coresets"]}
    for c in r["coresets"]:
        assert c["regret"] is not None and c["n"] == 60
    assert "top-1" in stdout


def test_full_none_and_grid(run, setup, tmp_path):
    space = write_space(tmp_path / "grid.json", {"hidden": {"choice": [4, 8, 16]}, "epochs": {"int": [2, 3]}})
    out = tmp_path / "grid"
    stdout = assert_ok(run("hpo", setup["store"], "--space", space, "--search", "grid", "--trials", "4",
                           "--methods", "random", "--fractions", "0.1", "--full", "none", "--no-plot", "--json",
                           "-o", out, timeout=300))
    r = json.loads(stdout)
    assert [c["config"] for c in r["configs"]] == [{"epochs": 2, "hidden": 4}, {"epochs": 2, "hidden": 8},
                                                  {"epochs": 2, "hidden": 16}, {"epochs": 3, "hidden": 4}]
    assert any("the grid has 6 configurations" in n for n in r["notes"])
    assert all(t["set"] != "full" for t in ledger(out))
    assert r["coresets"][0]["regret"] is None and r["coresets"][0]["kendall_tau"] is None
    assert_error(run("hpo", setup["store"], "--space", setup["space"], "--search", "grid", "--methods", "random",
                     "--fractions", "0.1", "-o", tmp_path / "g2"), "--search", "'lr' is a log range")
    assert not (tmp_path / "g2").exists()


BAD_SPACES = [
    ({"bogus": {"choice": [1]}}, "'bogus': not a parameter of model mlp"),
    ({"lr": {"gauss": [1, 2]}}, "unknown kind"),
    ({"lr": {"log": [1e-2, 1e-3]}}, "low < high"),
    ({"lr": {"log": [0, 1e-3]}}, "positive bounds"),
    ({"hidden": {"choice": []}}, "non-empty list"),
    ({"hidden": {"choice": [0]}}, "'hidden': value 0"),
    ({"lr": {"log": ["a", 1]}}, "two numbers"),
    ({"epochs": {"int": [1.5, 3]}}, "whole-number bounds"),
    ({"hidden": {"float": [4, 8]}}, "takes whole numbers"),
    ({"lr": 0.01}, "expected an object"),
    ({}, "the space is empty"),
    ("[1]", "JSON object"),
    ("{not json", "not valid JSON"),
]


@pytest.mark.parametrize("space,needle", BAD_SPACES)
def test_bad_space_entries(run, setup, tmp_path, space, needle):
    path = write_space(tmp_path / "bad.json", space)
    assert_error(run("hpo", setup["store"], "--space", path, "--methods", "random", "--fractions", "0.1",
                     "-o", tmp_path / "out"), "--space", needle)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args,needles", [
    (["--space", "/nonexistent.json"], ["cannot read the space file"]),
    (["--search", "halving", "--eta", "1"], ["--eta", "in [2, inf)"]),
    (["--full", "top-0"], ["--full", "top-K"]),
    (["--trials", "0"], ["--trials"]),
    (["--model", "linear"], ["'hidden': not a parameter of model linear"]),
])
def test_bad_options(run, setup, tmp_path, args, needles):
    argv = ["--space", setup["space"]] + args if args[0] != "--space" else args
    assert_error(run("hpo", setup["store"], *argv, "--methods", "random", "--fractions", "0.1",
                     "-o", tmp_path / "out"), *needles)
    assert not (tmp_path / "out").exists()


def test_coresets_are_required_once(run, setup, tmp_path):
    base = ["hpo", setup["store"], "--space", setup["space"], "-o", tmp_path / "out"]
    assert_error(run(*base), "no coreset given")
    assert_error(run(*base, "--methods", "random"), "--fractions")
    assert_error(run(*base, "--methods", "random", "--fractions", "0.1", "--selection", setup["store"]), "not both")


def test_output_dir_rules(run, setup, tmp_path):
    base = ["hpo", setup["store"], "--space", setup["space"], "--methods", "random", "--fractions", "0.1",
            "--no-plot"]
    a_file = tmp_path / "file"
    a_file.write_text("keep me")
    assert_error(run(*base, "-o", a_file), "exists and is not a directory")
    assert a_file.read_text() == "keep me"
    assert_error(run(*base, "-o", tmp_path / "missing" / "out"), "parent directory does not exist")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "hpo.json").write_text("{}")
    assert_error(run(*base, "-o", foreign), "not the plan of a `subset hpo` search")
    # An empty existing directory is used.
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_ok(run(*base, "--trials", "1", "--epochs", "2", "-o", empty, timeout=300))
    assert len(ledger(empty)) == 2


# Successive halving: 5 configurations, eta 2 (5, 2, 1 per rung), rungs 10% < 30% < the full data.
HALVING_OPTIONS = {"--search": "halving", "--trials": "5", "--eta": "2", "--methods": "kcenter",
                   "--fractions": "0.3,0.1", "--batch": "64", "--seed": "3"}


def halving_args(**changes):
    """The halving options with some changed (`eta="3"` for --eta 3); the options cannot be repeated."""
    options = dict(HALVING_OPTIONS, **{"--" + k.replace("_", "-"): v for k, v in changes.items()})
    return [x for k, v in options.items() for x in (k, v)] + ["--no-plot"]


HALVING = halving_args()


@pytest.fixture(scope="module")
def halving(run, setup):
    out = setup["dir"] / "halving"
    stdout = assert_ok(run("hpo", setup["store"], "--space", setup["space"], *HALVING, "-o", out, timeout=300))
    return out, stdout


def halving_oracle(trials, configs, sets, eta):
    """Successive halving recomputed from the ledger: keep floor(k / eta) (at least 1) by validation
    accuracy, ties to the lower configuration index; choose the best validation on the last rung."""
    val = {(t["config_id"], t["set"]): t["validation_accuracy"] for t in trials}
    rungs, current = [], list(configs)
    for i, s in enumerate(sets):
        if i > 0:
            keep = max(1, len(rungs[-1][1]) // eta)
            ranked = sorted(rungs[-1][1], key=lambda c: (-val[(c, sets[i - 1])], configs.index(c)))
            current = sorted(ranked[:keep], key=configs.index)
        rungs.append((s, current))
    last = rungs[-1]
    chosen = min(last[1], key=lambda c: (-val[(c, last[0])], configs.index(c)))
    return rungs, chosen


def test_halving_end_to_end(halving, setup):
    out, stdout = halving
    r = json.load(open(out / "results.json"))
    trials = ledger(out)
    configs = [c["id"] for c in r["configs"]]
    assert configs == ["c0", "c1", "c2", "c3", "c4"]
    assert [h["method"] for h in r["halving"]] == ["kcenter", "random"]  # random: the peer, added
    full = {t["config_id"]: t["accuracy"] for t in trials if t["set"] == "full"}
    assert sorted(full) == configs  # --full all (the default): the reference for regret
    for h in r["halving"]:
        m = h["method"]
        sets = [f"{m}-0.1", f"{m}-0.3", "full"]
        rungs, chosen = halving_oracle(trials, configs, sets, 2)
        assert [x["set"] for x in h["rungs"]] == sets
        assert [x["fraction"] for x in h["rungs"]] == [0.1, 0.3, 1]
        assert [x["n"] for x in h["rungs"]] == [60, 180, 600]
        assert [x["configs"] for x in h["rungs"]] == [c for _, c in rungs]
        assert [len(x["configs"]) for x in h["rungs"]] == [5, 2, 1]
        assert h["chosen"] == chosen
        assert h["chosen_test"] == full[chosen]
        assert h["regret_reference"] == "full search"
        assert h["regret"] == pytest.approx(max(full.values()) - full[chosen])
        assert h["trainings"] == 8
        # Energy: every rung's selection (the rows it adds) and trainings, a shared full-data training included.
        kwh = {(t["config_id"], t["set"]): t["energy"]["kwh"] for t in trials}
        sel = {c["set"]: c["selection_kwh"] for c in r["coresets"]}
        for x in h["rungs"]:
            assert x["selection_kwh"] == pytest.approx(sel.get(x["set"], 0))
            assert x["training_kwh"] == pytest.approx(sum(kwh[(c, x["set"])] for c in x["configs"]))
        assert h["kwh"] == pytest.approx(sum(x["selection_kwh"] + x["training_kwh"] for x in h["rungs"]))
        assert all(x["selection_kwh"] > 0 for x in h["rungs"][:2])
    # Rung trainings are keyed by configuration hash + set + rung.
    assert {t["key"].split("/", 1)[1] for t in trials} == {"kcenter-0.1/r0", "kcenter-0.3/r1", "random-0.1/r0",
                                                          "random-0.3/r1", "full"}
    rows = list(csv.DictReader(open(out / "halving.csv")))
    assert [(row["method"], row["set"]) for row in rows] == [
        ("kcenter", "kcenter-0.1"), ("kcenter", "kcenter-0.3"), ("kcenter", "full"),
        ("random", "random-0.1"), ("random", "random-0.3"), ("random", "full")]
    assert "successive halving" in stdout and "random added" in stdout


def test_halving_coresets_are_nested(halving):
    h5py = pytest.importorskip("h5py")
    out, _ = halving
    for m in ("kcenter", "random"):
        with h5py.File(out / "selections" / f"{m}-0.1.sel.h5") as a, \
                h5py.File(out / "selections" / f"{m}-0.3.sel.h5") as b:
            small, large = list(a["indices"][:]), list(b["indices"][:])
            # Made around the smaller one (a greedy method's prefix alone could look nested).
            assert json.loads(b.attrs["stats"])["already_selected"] == 60
        assert len(small) == 60 and len(large) == 180 and len(set(large)) == 180
        assert large[:60] == small


def test_halving_picks_by_validation_not_test(halving):
    """Survivors follow the validation accuracies even where the test accuracies order them otherwise."""
    out, _ = halving
    trials = ledger(out)
    assert all(t["validation_accuracy"] is not None for t in trials)
    r = json.load(open(out / "results.json"))
    for h in r["halving"]:
        first, second = h["rungs"][0], h["rungs"][1]
        val = {t["config_id"]: t["validation_accuracy"] for t in trials if t["set"] == first["set"]}
        worst_kept = min(val[c] for c in second["configs"])
        assert all(val[c] <= worst_kept for c in first["configs"] if c not in second["configs"])


def test_halving_resumes(run, setup, halving, tmp_path):
    out, _ = halving
    cut = copy_search(out, tmp_path / "cut", lambda lines: "".join(lines[:6]) + lines[6][:30])
    (cut / "selections").mkdir()
    for f in (out / "selections").iterdir():
        (cut / "selections" / f.name).write_bytes(f.read_bytes())
    stdout = assert_ok(run("hpo", setup["store"], "--space", setup["space"], *HALVING, "--resume", "-o", cut,
                           timeout=300))
    assert "cut short by an interruption" in stdout
    assert accuracies(cut) == accuracies(out)
    def picks(path):  # the energy of the training run again differs, what it picked does not
        return [(h["chosen"], h["regret"], [x["configs"] for x in h["rungs"]])
                for h in json.load(open(path / "results.json"))["halving"]]
    assert picks(cut) == picks(out)
    # Another eta is another search.
    assert_error(run("hpo", setup["store"], "--space", setup["space"], *halving_args(eta="3"), "--resume", "-o", cut),
                 "another eta")


def test_halving_full_none_regret_against_its_own_full_rung(run, setup, tmp_path):
    out = tmp_path / "none"
    r = json.loads(assert_ok(run("hpo", setup["store"], "--space", setup["space"],
                                 *halving_args(eta="3", methods="random", full="none"), "--json", "-o", out,
                                 timeout=300)))
    assert [h["method"] for h in r["halving"]] == ["random"]
    h = r["halving"][0]
    assert [len(x["configs"]) for x in h["rungs"]] == [5, 1, 1]
    full = [t for t in ledger(out) if t["set"] == "full"]
    assert [t["config_id"] for t in full] == h["rungs"][2]["configs"]
    assert h["regret_reference"] == "this search's full-data rung" and h["regret"] == 0
    assert "random added" not in " ".join(r["notes"])


@pytest.mark.parametrize("changes,needles", [
    ({"fractions": "0.1,1"}, ["--fractions", "not below 1"]),
    ({"full": "top-2"}, ["--full", "survivors"]),
    ({"schedule": "epochs"}, ["--schedule", "validation accuracy"]),
    ({"fractions": "0.1,0.1001"}, ["--fractions", "not more than the 60"]),
])
def test_halving_bad_options(run, setup, tmp_path, changes, needles):
    assert_error(run("hpo", setup["store"], "--space", setup["space"], *halving_args(**changes),
                     "-o", tmp_path / "out"), *needles)
    assert not (tmp_path / "out").exists()


def test_halving_refuses_selection_files(run, setup, tmp_path):
    assert_error(run("hpo", setup["store"], "--space", setup["space"], "--search", "halving", "--selection",
                     setup["store"], "-o", tmp_path / "out"), "--selection", "nested coresets")
    assert not (tmp_path / "out").exists()

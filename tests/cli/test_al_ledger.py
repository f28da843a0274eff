"""`subset al init|label|status|export`: the loop end to end, the ledger's crash safety (kill -9 at
random moments of `label` and `init`, then the project opens and holds every answer a command
reported, all or none of an unreported one), two writers at once, and hostile inputs."""
import json
import re
import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_ok, file_digest


def write_pool(path, n=300, d=6, labels=False, test=True, seed=0):
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        f["features"] = rng.normal(size=(n, d)).astype(np.float32)
        if labels:
            ds = f.create_dataset("labels", data=(np.arange(n) % 3).astype(np.int64))
            ds.attrs["class_names"] = np.array([b"cat", b"dog", b"owl"], dtype=object)
        if test:
            f["test/features"] = rng.normal(size=(40, d)).astype(np.float32)
            f["test/labels"] = (np.arange(40) % 3).astype(np.int64)
    return str(path)


def write_answers(path, lines, header=True):
    with open(path, "w") as f:
        if header:
            f.write("row,label\n")
        for row, label in lines:
            f.write(f"{row},{label}\n")
    return str(path)


def labels_in(project):
    """Current labels straight from the SQLite file: the oracle, independent of the CLI."""
    con = sqlite3.connect(f"file:{project}?mode=ro", uri=True)
    try:
        return dict(con.execute("SELECT row, label FROM labels").fetchall())
    finally:
        con.close()


@pytest.fixture
def project(run, out_dir):
    pool = write_pool(out_dir / "pool.h5")
    path = str(out_dir / "p.al")
    assert_ok(run("al", "init", pool, "-o", path, "--class-names", "cat,dog,owl", "--seed-size", "12",
                  "--seed-method", "kcenter", "--seed-out", out_dir / "seed.csv"))
    return path


def seed_rows(out_dir):
    with open(out_dir / "seed.csv") as f:
        return [int(line.split(",")[0]) for line in f.read().splitlines()[1:]]


def test_loop_init_label_status_export(run, out_dir, project):
    rows = seed_rows(out_dir)
    assert len(rows) == 12 and len(set(rows)) == 12
    assert "12 pending rows" in assert_ok(run("al", "pending", project, "-o", out_dir / "owed.csv"))
    owed = [line.split(",") for line in (out_dir / "owed.csv").read_text().splitlines()[1:]]
    assert [int(r) for r, _, _ in owed] == rows and {q for _, _, q in owed} == {"0"}
    (out_dir / "owed.csv").unlink()
    answers = write_answers(out_dir / "a.csv", [(r, ["cat", "dog", "owl"][i % 3]) for i, r in enumerate(rows)])
    out = assert_ok(run("al", "label", project, "--answers", answers))
    assert "12 new labels, 0 relabels, 0 unchanged" in out
    again = json.loads(assert_ok(run("al", "label", project, "--answers", answers, "--json")))
    assert (again["applied"], again["relabels"], again["unchanged"]) == (0, 0, 12)
    relabel = write_answers(out_dir / "r.csv", [(rows[0], "owl")])
    assert "1 relabels" in assert_ok(run("al", "label", project, "--answers", relabel))
    status = json.loads(assert_ok(run("al", "status", project, "--json")))
    assert status["labelled"] == 12 and status["pending"] == 0 and status["relabels"] == 1
    assert status["class_counts"] == {"cat": 3, "dog": 4, "owl": 5}
    assert status["rounds"][0]["strategy"] == "kcenter" and status["rounds"][0]["answered"] == 12
    assert status["rounds"][0]["kwh"] > 0 and status["total_kwh"] > 0
    assert "labelled 12, pending 0" in assert_ok(run("al", "status", project))
    assert "0 pending rows" in assert_ok(run("al", "pending", project, "-o", out_dir / "owed.csv"))
    assert (out_dir / "owed.csv").read_text() == "row,score,round\n"
    assert_error(run("al", "pending", project, "-o", project, "--force"), "input")
    assert_error(run("al", "pending", project, "-o", out_dir / "owed.csv"), "exists")

    exported = out_dir / "labelled.h5"
    assert "exported 12 labelled rows" in assert_ok(run("al", "export", project, "-o", exported))
    with h5py.File(out_dir / "pool.h5", "r") as p, h5py.File(exported, "r") as e:
        pool_rows = e["pool_rows"][()]
        assert list(pool_rows) == sorted(rows)
        np.testing.assert_array_equal(e["features"][()], p["features"][()][pool_rows])
        truth = {r: i % 3 for i, r in enumerate(rows)}
        truth[rows[0]] = 2
        assert list(e["labels"][()]) == [truth[r] for r in pool_rows]
        assert list(e["round"][()]) == [0] * 12
        assert e["test/features"].shape == (40, 6)
    assert_ok(run("info", exported))


def test_unlabelled_pool_without_seed_and_unsolicited_answers(run, out_dir):
    pool = write_pool(out_dir / "pool.h5")
    path = out_dir / "p.al"
    assert "no seed" in assert_ok(run("al", "init", pool, "-o", path, "--classes", "2"))
    answers = write_answers(out_dir / "a.csv", [(5, 1), (7, 0)], header=False)
    assert_error(run("al", "label", path, "--answers", answers), "row 5", "not in a pending query", "--unsolicited")
    assert labels_in(path) == {}
    assert_ok(run("al", "label", path, "--answers", answers, "--unsolicited"))
    assert labels_in(path) == {5: 1, 7: 0}


def test_init_options(run, out_dir):
    unlabelled = write_pool(out_dir / "pool.h5")
    labelled = write_pool(out_dir / "lab.h5", labels=True)
    p = out_dir / "p.al"
    assert_error(run("al", "init", unlabelled, "-o", p), "--classes")
    assert_error(run("al", "init", unlabelled, "-o", p, "--classes", "3", "--seed-size", "5", "--seed-method",
                     "balanced"), "balanced", "labels")
    assert_error(run("al", "init", unlabelled, "-o", p, "--classes", "3", "--seed-size", "5"), "--seed-method")
    assert_error(run("al", "init", unlabelled, "-o", p, "--classes", "3", "--seed-size", "5", "--seed-method", "herding"),
                 "unknown seed method")
    assert_error(run("al", "init", unlabelled, "-o", p, "--classes", "3", "--seed-size", "301", "--seed-method",
                     "random"), "--seed-size")
    assert_error(run("al", "init", labelled, "-o", p, "--classes", "4"), "names its classes")
    assert_error(run("al", "init", unlabelled, "-o", unlabelled, "--classes", "3", "--force"), "input")
    assert not p.exists()
    for method in ("random", "kcenter", "typiclust"):
        assert_ok(run("al", "init", unlabelled, "-o", p, "--classes", "3", "--seed-size", "9", "--seed-method", method,
                      "--force"))
    out = json.loads(assert_ok(run("al", "init", labelled, "-o", p, "--seed-size", "9", "--seed-method", "balanced",
                                   "--force", "--json")))
    assert out["class_names"] == ["cat", "dog", "owl"]
    assert sorted(np.bincount(np.array(out["seed_rows"]) % 3)) == [3, 3, 3]
    assert_error(run("al", "init", unlabelled, "-o", p, "--classes", "3"), "exists")


def test_hostile_inputs(run, out_dir, project):
    before = file_digest(project)
    def bad(name, text):
        (out_dir / name).write_text(text)
        return str(out_dir / name)

    rows = seed_rows(out_dir)
    assert_error(run("al", "status", out_dir / "missing.al"), "no such project", "missing.al")
    assert_error(run("al", "status", bad("text.al", "row,label\n" * 100)), "not an active-learning project")
    assert_error(run("al", "status", out_dir / "pool.h5"), "not an active-learning project")
    with open(project, "rb") as f:
        data = f.read()
    cut = out_dir / "cut.al"
    cut.write_bytes(data[: len(data) // 2])
    assert_error(run("al", "status", cut), "truncated", "cut.al")
    cut.write_bytes(data[:60])
    assert_error(run("al", "label", cut, "--answers", bad("x.csv", "1,cat\n")), "cut.al")
    assert_error(run("al", "label", project, "--answers", bad("r.csv", f"{rows[0]},cat\n300,cat\n")),
                 "row 300", "not a row of the pool", "r.csv:2")
    assert_error(run("al", "label", project, "--answers", bad("l.csv", f"{rows[0]},3\n")), "label 3", "l.csv:1")
    assert_error(run("al", "label", project, "--answers", bad("c.csv", f"{rows[0]},cat\n{rows[1]},dog\n{rows[0]},owl\n")),
                 "conflicting answers", "c.csv:3")
    assert_error(run("al", "label", project, "--answers", bad("u.csv", f"{rows[0]},horse\n")), "unknown class 'horse'")
    assert_error(run("al", "label", project, "--answers", bad("e.csv", "")), "no answers")
    assert_error(run("al", "label", project, "--answers", bad("h.csv", "row,label\n")), "no answers")
    assert_error(run("al", "label", project, "--answers", out_dir / "none.csv"), "none.csv")
    not_pending = next(r for r in range(300) if r not in rows)
    assert_error(run("al", "label", project, "--answers", bad("n.csv", f"{rows[0]},cat\n{not_pending},cat\n")),
                 "not in a pending query")
    assert_error(run("al", "export", project, "-o", out_dir / "x.h5"), "no labelled rows")
    assert file_digest(project)[:2] == before[:2]  # nothing applied
    assert labels_in(project) == {}
    assert_ok(run("al", "label", project, "--answers", bad("ok.csv", f"{rows[0]},cat\n")))
    assert_error(run("al", "export", project, "-o", project, "--force"), "input")
    assert_error(run("al", "export", project, "-o", out_dir / "pool.h5", "--force"), "input")
    assert labels_in(project) == {rows[0]: 0}


def run_killed(cmd, delay):
    """Starts cmd, SIGKILLs it after `delay` s; returns (finished_normally, rc, stdout)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate()
    return proc.returncode != -signal.SIGKILL, proc.returncode, out.decode()


def test_kill_9_during_label_loses_no_accepted_answer(subset_bin, run, out_dir):
    n, per_run, runs = 12000, 200, 60
    pool = write_pool(out_dir / "pool.h5", n=n, d=2, test=False)
    project = str(out_dir / "p.al")
    assert_ok(run("al", "init", pool, "-o", project, "--classes", "4"))
    files = []
    for i in range(runs):
        answers = [(r, r % 4) for r in range(i * per_run, (i + 1) * per_run)]
        files.append((write_answers(out_dir / f"a{i}.csv", answers), dict(answers)))
    # How long one label takes here, so that the kills spread over all of it.
    t0 = time.monotonic()
    assert_ok(run("al", "label", project, "--answers", files[0][0], "--unsolicited"))
    span = max(time.monotonic() - t0, 0.01) * 1.2
    rng = random.Random(15)
    expected = dict(files[0][1])
    outcomes = {"finished": 0, "applied": 0, "none": 0}
    for i in range(1, runs):
        path, answers = files[i]
        finished, rc, out = run_killed([subset_bin, "al", "label", project, "--answers", path, "--unsolicited"],
                                       rng.uniform(0, span))
        have = labels_in(project)
        present = [r for r in answers if r in have]
        if finished:
            assert rc == 0 and "accepted 200 answers" in out
            outcomes["finished"] += 1
        if finished or present:
            assert len(present) == len(answers), f"run {i}: half applied ({len(present)} of {len(answers)})"
            expected.update(answers)
            outcomes["applied"] += 1
        else:
            outcomes["none"] += 1
        assert {r: have[r] for r in expected} == expected, f"run {i}: an accepted answer is missing"
        assert set(have) == set(expected)
        status = json.loads(assert_ok(run("al", "status", project, "--json")))
        assert status["labelled"] == len(expected)
    # The delays covered both sides of the commit, or the test proved little.
    assert outcomes["none"] > 0 and outcomes["applied"] > 1, outcomes


def test_kill_9_during_init_leaves_no_project_or_a_whole_one(subset_bin, run, out_dir):
    pool = write_pool(out_dir / "pool.h5", n=3000, d=8, test=False)
    project = out_dir / "p.al"
    cmd = [subset_bin, "al", "init", pool, "-o", project, "--classes", "3", "--seed-size", "50", "--seed-method",
           "kcenter"]
    t0 = time.monotonic()
    assert_ok(run(*cmd[1:]))
    span = (time.monotonic() - t0) * 1.2
    rng = random.Random(7)
    for _ in range(12):
        os.remove(project)
        finished, _, _ = run_killed(cmd, rng.uniform(0, span))
        if finished or project.exists():
            status = json.loads(assert_ok(run("al", "status", project, "--json")))
            assert status["pending"] == 50 and len(status["rounds"]) == 1
        else:
            assert_ok(run(*cmd[1:]))  # a later run is not blocked by what the killed one left
        for name in os.listdir(out_dir):
            if ".partial-" in name:
                os.remove(out_dir / name)  # a killed run's temporary file; the next run removes it anyway


def test_two_label_commands_at_once_both_apply_or_one_is_refused(subset_bin, run, out_dir):
    pool = write_pool(out_dir / "pool.h5", n=4000, d=2, test=False)
    project = str(out_dir / "p.al")
    assert_ok(run("al", "init", pool, "-o", project, "--classes", "2"))
    expected = {}
    for k in range(5):
        batches = [{r: r % 2 for r in range(base, base + 300)} for base in (k * 600, k * 600 + 300)]
        paths = [write_answers(out_dir / f"c{k}_{j}.csv", b.items()) for j, b in enumerate(batches)]
        procs = [subprocess.Popen([subset_bin, "al", "label", project, "--answers", p, "--unsolicited"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for p in paths]
        results = [(p.wait(timeout=60), p.stderr.read().decode()) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        have = labels_in(project)
        for (rc, err), batch in zip(results, batches):
            present = sum(r in have for r in batch)
            if rc == 0:
                assert present == len(batch)
                expected.update(batch)
            else:
                assert "busy" in err and present == 0, err
        assert have == expected


@pytest.mark.parametrize("command", ["init", "label", "pending", "status", "export"])
def test_every_option_is_documented(run, source_dir, command):
    out = assert_ok(run("al", command, "--help"))
    options = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", out.split("Options:", 1)[1])) - {"--help"}
    cli = (Path(source_dir) / "docs" / "cli.md").read_text()
    parts = cli.split(f"## `subset al {command} ", 1)
    assert len(parts) == 2, f"docs/cli.md has no section for subset al {command}"
    section = parts[1].split("\n## ", 1)[0]
    global_options = {"--threads", "--quiet", "--debug", "--pue", "--region", "--carbon-intensity", "--cpu-watts",
                      "--version"}
    for option in sorted(options - global_options):
        assert f"`{option}" in section or f", {option}" in section, f"{option} of al {command} not in docs/cli.md"

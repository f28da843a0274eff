"""`subset al query` killed with SIGKILL at random moments (delays spread over its measured run time),
and two queries at once. The oracle is the SQLite file read directly.

What holds (query.cpp records the query, then renames its CSV into place): a killed query is
recorded whole (all its rows pending, in one transaction) or not at all; a CSV at the output path
always lists exactly the rows of a recorded query; but a query killed between its record and the
rename is recorded with no CSV (its rows pending, the proposal only in the project). A later run
for the same output removes the temporary file a killed one left."""
import json
import random
import signal
import sqlite3
import subprocess
import time

import h5py
import numpy as np

from subset_testing import assert_ok, partial_files

BATCH = 10


def write_pool(path, n=3000, d=8):
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        f["features"] = rng.normal(size=(n, d)).astype(np.float32)
    return str(path)


def ledger(project):
    """(queries as {id: [rows in order]}, labelled rows) straight from the project file."""
    con = sqlite3.connect(f"file:{project}?mode=ro", uri=True)
    try:
        queries = {}
        for q, row in con.execute("SELECT query, row FROM proposals ORDER BY query, position"):
            queries.setdefault(q, []).append(row)
        labelled = {r for (r,) in con.execute("SELECT row FROM labels")}
        return queries, labelled
    finally:
        con.close()


def csv_rows(path):
    with open(path) as f:
        lines = f.read().splitlines()
    assert lines[0] in ("row,score", "row,score,round")
    return [int(line.split(",")[0]) for line in lines[1:]]


def labelled_project(run, out_dir):
    pool = write_pool(out_dir / "pool.h5")
    project = str(out_dir / "p.al")
    assert_ok(run("al", "init", pool, "-o", project, "--classes", "3", "--seed-size", "30", "--seed-method", "random",
                  "--seed-out", out_dir / "seed.csv"))
    (out_dir / "a.csv").write_text("".join(f"{r},{r % 3}\n" for r in csv_rows(out_dir / "seed.csv")))
    assert_ok(run("al", "label", project, "--answers", out_dir / "a.csv"))
    return project


def query_cmd(subset_bin, project, output):
    return [subset_bin, "al", "query", project, "--strategy", "entropy", "--batch", str(BATCH), "--epochs", "20",
            "--hidden", "32", "-o", str(output)]


def test_kill_9_during_query_records_whole_or_nothing(subset_bin, run, out_dir):
    project = labelled_project(run, out_dir)
    output = out_dir / "q.csv"
    t0 = time.monotonic()
    assert_ok(run(*query_cmd(subset_bin, project, output)[1:]))
    span = (time.monotonic() - t0) * 1.2
    output.unlink()
    rng = random.Random(15)
    outcomes = {"finished": 0, "recorded_with_csv": 0, "recorded_without_csv": 0, "none": 0}
    known, _ = ledger(project)
    for i in range(50):
        proc = subprocess.Popen(query_cmd(subset_bin, project, output), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, span))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        finished = proc.returncode != -signal.SIGKILL
        queries, labelled = ledger(project)
        new = sorted(set(queries) - set(known))
        assert all(queries[q] == known[q] for q in known), f"run {i}: an earlier query changed"
        assert len(new) <= 1 and (not new or new[0] == max(known) + 1), f"run {i}: queries {new} appeared"
        if finished:
            assert proc.returncode == 0, f"run {i}: rc {proc.returncode}"
            assert new and output.exists(), f"run {i}: reported success without record or CSV"
        if new:
            rows = queries[new[0]]
            assert len(rows) == BATCH and len(set(rows)) == BATCH, f"run {i}: half a query recorded"
            assert not set(rows) & labelled
            if output.exists():
                assert csv_rows(output) == rows, f"run {i}: the CSV is not the recorded query"
            kind = "finished" if finished else "recorded_with_csv" if output.exists() else "recorded_without_csv"
            outcomes[kind] += 1
        else:
            assert not output.exists(), f"run {i}: a CSV for a query never recorded"
            outcomes["none"] += 1
        status = json.loads(assert_ok(run("al", "status", project, "--json")))
        assert len(status["rounds"]) == len(queries) and status["pending"] == sum(map(len, queries.values())) - 30
        # Whatever the kill left, `al pending` writes every owed row again, the killed query's too.
        assert_ok(run("al", "pending", project, "-o", out_dir / "pending.csv", "--force"))
        owed = [r for q in sorted(queries) for r in queries[q] if r not in labelled]
        assert csv_rows(out_dir / "pending.csv") == owed, f"run {i}: al pending lost rows"
        known = queries
        if output.exists():
            output.unlink()
    # A later run for the same output clears what killed ones left beside it.
    assert_ok(run(*query_cmd(subset_bin, project, output)[1:]))
    assert partial_files(str(out_dir)) == []
    assert outcomes["none"] > 0 and outcomes["finished"] + outcomes["recorded_with_csv"] > 0, outcomes
    print("query kill outcomes:", outcomes)


def test_two_queries_at_once_never_propose_the_same_row(subset_bin, run, out_dir):
    project = labelled_project(run, out_dir)
    for k in range(3):
        outputs = [out_dir / f"q{k}_{j}.csv" for j in range(2)]
        procs = [subprocess.Popen(query_cmd(subset_bin, project, o), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL) for o in outputs]
        results = [(p.wait(timeout=120), p.communicate()[1].decode()) for p in procs]
        queries, _ = ledger(project)
        ok = [o for (rc, _), o in zip(results, outputs) if rc == 0]
        assert ok, results
        for (rc, err), o in zip(results, outputs):
            if rc != 0:
                lines = err.splitlines()
                assert len(lines) == 1 and lines[0].startswith("error: "), err
                assert "changed while this query was computed" in err or "busy" in err, err
                assert not o.exists()
        proposed = [r for rows in queries.values() for r in rows]
        assert len(proposed) == len(set(proposed)), "a row is pending twice"
        for o in ok:
            assert csv_rows(o) in queries.values()


def test_ctrl_c_during_query_is_one_line_and_records_whole_or_nothing(subset_bin, run, out_dir):
    project = labelled_project(run, out_dir)
    output = out_dir / "q.csv"
    t0 = time.monotonic()
    assert_ok(run(*query_cmd(subset_bin, project, output)[1:]))
    span = time.monotonic() - t0
    output.unlink()
    rng = random.Random(7)
    interrupted = 0
    for i in range(10):
        known, _ = ledger(project)
        proc = subprocess.Popen(query_cmd(subset_bin, project, output), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 0.9) * span)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate()
        queries, _ = ledger(project)
        new = sorted(set(queries) - set(known))
        if proc.returncode == 0:
            assert new and output.exists(), f"run {i}"
        else:
            interrupted += 1
            assert proc.returncode == 130, (proc.returncode, err)
            lines = err.decode().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), err
            # Interrupted before its record: nothing recorded and no file; after it, the rows are
            # pending whole (and `al pending` lists them), whatever became of the CSV.
            assert len(new) <= 1 and all(len(queries[q]) == BATCH for q in new), f"run {i}"
            if not new:
                assert not output.exists(), f"run {i}: a CSV for a query never recorded"
        assert partial_files(str(out_dir)) == [], f"run {i}: a temporary file was left"
        if output.exists():
            output.unlink()
    assert interrupted > 0

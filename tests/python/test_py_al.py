"""libsubset.al against `subset al`: a loop driven from Python (init, query, label from arrays) proposes
the same rows per round as the same loop driven through the CLI on the same seed; status, pending,
labelled and export agree with the CLI's --json, its CSV and its store on the same project; labels by
class name or id; bad answers change nothing; existing projects need force; and
python_scripts/al_loop.py runs a small loop on the generated Fashion-MNIST store."""
import csv
import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

import libsubset
from libsubset import al
from subset_testing import assert_ok, file_digest

needs_torch = pytest.mark.skipif(not libsubset.with_torch, reason="this build of libsubset has no libtorch")

N, D, C = 200, 8, 3
PROXY = dict(epochs=5, hidden=16)
PROXY_CLI = ["--epochs", "5", "--hidden", "16"]


def write_pool(path, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(N) % C
    x = (rng.normal(size=(N, D)) + 3 * np.eye(C, D)[y]).astype(np.float32)
    ty = np.arange(60) % C
    with h5py.File(path, "w") as f:
        f["features"] = x
        f["labels"] = y.astype(np.int64)
        f["test/features"] = (rng.normal(size=(60, D)) + 3 * np.eye(C, D)[ty]).astype(np.float32)
        f["test/labels"] = ty.astype(np.int64)
    return str(path), y


def csv_rows(path):
    with open(path) as f:
        return [int(r["row"]) for r in csv.DictReader(f)]


@pytest.fixture
def pool(tmp_path):
    return write_pool(tmp_path / "pool.h5")


def test_loop_from_python_equals_the_cli_loop(run, pool, tmp_path):
    path, y = pool
    if not libsubset.with_torch:
        pytest.skip("al.query needs libtorch")
    # The CLI's loop.
    cli = str(tmp_path / "cli.al")
    assert_ok(run("al", "init", path, "-o", cli, "--classes", str(C), "--seed-size", "12", "--seed-method", "random",
                  "--seed", "5", "--seed-out", tmp_path / "seed.csv", "--threads", "1"))
    cli_rounds = [csv_rows(tmp_path / "seed.csv")]
    strategies = ["entropy", "margin", "coreset"]
    for i, strategy in enumerate(strategies):
        answers = tmp_path / f"a{i}.csv"
        answers.write_text("row,label\n" + "".join(f"{r},{y[r]}\n" for r in cli_rounds[-1]))
        assert_ok(run("al", "label", cli, "--answers", answers))
        out = tmp_path / f"q{i}.csv"
        assert_ok(run("al", "query", cli, "--strategy", strategy, "--batch", "10", *PROXY_CLI, "-o", out,
                      "--threads", "1"))
        cli_rounds.append(csv_rows(out))
    # The same loop from Python, labels from arrays.
    py = tmp_path / "py.al"
    info = al.init(py, path, classes=C, seed_size=12, seed_method="random", seed=5, threads=1)
    py_rounds = [list(info["seed_rows"])]
    assert al.pending(py)["rows"].tolist() == sorted(py_rounds[0]) or set(al.pending(py)["rows"]) == set(py_rounds[0])
    for i, strategy in enumerate(strategies):
        rows = np.asarray(py_rounds[-1])
        answer = al.label(py, rows, y[rows])
        assert answer["applied"] == len(rows) and answer["pending"] == 0
        queried, details = al.query(py, strategy=strategy, batch=10, output=tmp_path / f"p{i}.csv", threads=1,
                                    details=True, **PROXY)
        assert queried.dtype == np.int64 and details["round"] == i + 1 and details["strategy"] == strategy
        assert queried.tolist() == csv_rows(tmp_path / f"p{i}.csv")
        py_rounds.append(queried.tolist())
    assert py_rounds == cli_rounds
    # Both projects record the same rounds.
    s_py, s_cli = al.status(py), json.loads(assert_ok(run("al", "status", cli, "--json")))
    for key in ("labelled", "pending", "answers", "relabels", "class_counts", "pool_rows", "class_names", "seed"):
        assert s_py[key] == s_cli[key], key
    for a, b in zip(s_py["rounds"], s_cli["rounds"]):
        for key in ("round", "strategy", "proposed", "answered", "labelled_before", "proxy_test_accuracy"):
            assert a[key] == b[key], key


def test_status_pending_labelled_and_export_are_the_clis(run, pool, tmp_path):
    path, y = pool
    project = tmp_path / "p.al"
    info = al.init(project, path, classes=["a", "b", "c"], seed_size=20, seed_method="kcenter", seed=2, threads=1)
    seed_rows = np.asarray(info["seed_rows"])
    assert len(seed_rows) == 20 and info["class_names"] == ["a", "b", "c"]
    # Label half by class name, the other half by id.
    names = np.array(["a", "b", "c"])
    al.label(project, seed_rows[:10], names[y[seed_rows[:10]]], source="alice")
    al.label(project, seed_rows[10:15], y[seed_rows[10:15]])
    assert al.status(project) == json.loads(assert_ok(run("al", "status", project, "--json")))
    assert_ok(run("al", "pending", project, "-o", tmp_path / "pending.csv"))
    pending = al.pending(project)
    assert pending["rows"].tolist() == csv_rows(tmp_path / "pending.csv")
    assert pending["rounds"].tolist() == [0] * 5
    labelled = al.labelled(project)
    assert labelled["rows"].tolist() == sorted(seed_rows[:15].tolist())
    assert labelled["labels"].tolist() == y[labelled["rows"]].tolist()
    result = al.export(project, tmp_path / "py.h5")
    assert result["rows"] == 15 and result["test_split"] is True
    assert_ok(run("al", "export", project, "-o", tmp_path / "cli.h5"))
    with h5py.File(tmp_path / "py.h5", "r") as a, h5py.File(tmp_path / "cli.h5", "r") as b:
        for name in ("features", "labels", "pool_rows", "round", "test/features", "test/labels"):
            assert np.array_equal(a[name][...], b[name][...]), name


def test_bad_answers_change_nothing(pool, tmp_path):
    path, y = pool
    project = tmp_path / "p.al"
    rows = np.asarray(al.init(project, path, classes=C, seed_size=6, seed_method="random", threads=1)["seed_rows"])
    before = al.status(project)
    other = next(r for r in range(N) if r not in set(rows.tolist()))
    with pytest.raises(ValueError, match="labels"):
        al.label(project, rows, y[rows][:-1])                   # one label short
    with pytest.raises(ValueError, match="labels"):
        al.label(project, rows, y[rows].astype(np.float64) + 0.5)  # not class ids
    with pytest.raises(ValueError, match="unknown class 'zebra'"):
        al.label(project, rows[:2], ["0", "zebra"])
    with pytest.raises(ValueError, match="rows"):
        al.label(project, rows.reshape(2, 3), y[rows])
    with pytest.raises(RuntimeError):
        al.label(project, rows[:2], [0, C])                      # class id out of range
    with pytest.raises(RuntimeError):
        al.label(project, np.array([rows[0], other]), [0, 1])   # not pending
    with pytest.raises(RuntimeError):
        al.label(project, np.array([rows[0], N + 5]), [0, 1], unsolicited=True)  # not a pool row
    assert al.status(project) == before
    # unsolicited answers are accepted when asked for
    assert al.label(project, np.array([other]), [1], unsolicited=True)["applied"] == 1


def test_existing_project_needs_force_and_bad_inputs(pool, tmp_path):
    path, _ = pool
    project = tmp_path / "p.al"
    project.write_bytes(b"not yours")
    before = file_digest(str(project))
    with pytest.raises(FileExistsError):
        al.init(project, path, classes=C)
    assert file_digest(str(project)) == before
    assert al.init(project, path, classes=C, force=True)["seed_rows"] is None
    with pytest.raises(FileNotFoundError):
        al.init(tmp_path / "q.al", tmp_path / "missing.h5", classes=C)
    with pytest.raises(ValueError, match="seed_method"):
        al.init(tmp_path / "q.al", path, classes=C, seed_size=5)
    with pytest.raises((ValueError, RuntimeError), match="seed"):
        al.init(tmp_path / "q.al", path, classes=C, seed_size=5, seed_method="no-such-method")
    with pytest.raises(ValueError, match="classes"):
        al.init(tmp_path / "q.al", path, classes=2.5)
    with pytest.raises((OSError, RuntimeError)):
        al.status(tmp_path / "missing.al")
    with pytest.raises((OSError, RuntimeError)):
        al.init(tmp_path / "q.al", path, classes=C, seed_size=5, seed_method="random", seed_out=path)
    assert not os.path.exists(tmp_path / "q.al")


@needs_torch
def test_query_parameters_come_from_the_schemas(pool, tmp_path):
    path, _ = pool
    project = tmp_path / "p.al"
    al.init(project, path, classes=C)
    with pytest.raises(ValueError, match="no_such"):
        al.query(project, no_such=3)
    with pytest.raises(ValueError, match="strategy"):
        al.query(project, strategy="psychic")
    with pytest.raises(ValueError, match="batch"):
        al.query(project, batch=0)
    # random needs no labels (cold start); candidates and batch reach the library
    rows, details = al.query(project, strategy="random", batch=7, candidates=50, output=tmp_path / "q.csv", details=True)
    assert len(rows) == 7 and details["candidates"]["scored"] == 50
    schemas = libsubset._native.nn_schemas()
    for group in ("al_query", "al_strategy", "al_proxy"):
        for p in schemas[group]:
            assert f"{p['name']}: " in al.query.__doc__, p["name"]


def test_al_loop_script_runs_small(run, fixtures, source_dir, tmp_path):
    if not libsubset.with_torch:
        pytest.skip("the loop queries, which needs libtorch")
    store = str(tmp_path / "fm.h5")
    assert_ok(run("import", "fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "-o", store))
    script = os.path.join(source_dir, "python_scripts", "al_loop.py")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = tmp_path / "curve.json"
    proc = subprocess.run([sys.executable, script, store, "--workdir", str(tmp_path / "work"), "--seed-size", "5",
                           "--batch", "3", "--rounds", "2", "--epochs", "3", "--hidden", "8", "--threads", "1",
                           "--output", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    curve = json.loads(out.read_text())
    assert [p["labels"] for p in curve["points"]] == [5, 8] and curve["labelled"] == 11
    assert all(0 <= p["accuracy"] <= 1 for p in curve["points"])
    with h5py.File(store, "r") as f:
        y = f["labels"][...]
    labelled = al.labelled(curve["project"])
    assert len(labelled["rows"]) == 11 and labelled["labels"].tolist() == y[labelled["rows"]].tolist()
    assert "round 2" in proc.stdout

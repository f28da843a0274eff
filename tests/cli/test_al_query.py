"""`subset al query` and `subset al simulate`: the loop's proposing side on tiny stores. Rows are pool
rows, never labelled or pending ones; the query is recorded as pending (a second query never repeats
it); `--candidates` scores a subset and says so; the CSV and images are written whole; simulate
writes curves whose AUBC and "labels to random's final" agree with a numpy recomputation; every bad
input is one `error:` line with nothing written."""
import csv
import json
import os
import struct
import zlib

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_ok

N, D, C = 200, 8, 3


def write_pool(path, labels=True, test=True, image=False, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(N) % C
    x = (rng.normal(size=(N, D)) + 3 * np.eye(C, D)[y]).astype(np.float32)
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("features", data=x)
        if image:
            ds.attrs["image_shape"] = np.array([1, 2, 4], dtype=np.int64)
        if labels:
            f["labels"] = y.astype(np.int64)
        if test:
            ty = np.arange(60) % C
            f["test/features"] = (rng.normal(size=(60, D)) + 3 * np.eye(C, D)[ty]).astype(np.float32)
            f["test/labels"] = ty.astype(np.int64)
    return str(path)


def read_csv(path):
    with open(path) as f:
        return [(int(r["row"]), float(r["score"])) for r in csv.DictReader(f)]


def label_rows(run, project, rows, out_dir, name="ans.csv"):
    path = out_dir / name
    path.write_text("row,label\n" + "".join(f"{r},{r % C}\n" for r in rows))
    assert_ok(run("al", "label", project, "--answers", path))


@pytest.fixture
def project(run, out_dir):
    pool = write_pool(out_dir / "pool.h5")
    path = str(out_dir / "p.al")
    assert_ok(run("al", "init", pool, "-o", path, "--classes", str(C), "--seed-size", "12", "--seed-method", "random",
                  "--seed-out", out_dir / "seed.csv"))
    label_rows(run, path, [r for r, _ in read_csv(out_dir / "seed.csv")], out_dir)
    return path


FAST = ("--epochs", "5", "--hidden", "16")


@pytest.mark.parametrize("strategy", ["random", "entropy", "margin", "least-confidence", "bald", "coreset", "badge",
                                      "typiclust"])
def test_query_proposes_unlabelled_rows_and_records_them(run, project, out_dir, strategy):
    out = out_dir / "q.csv"
    r = run("al", "query", project, "--strategy", strategy, "--batch", "10", "-o", out, *FAST, "--json")
    assert_ok(r)
    rows = [row for row, _ in read_csv(out)]
    seed = {row for row, _ in read_csv(out_dir / "seed.csv")}
    assert len(rows) == 10 and len(set(rows)) == 10
    assert all(0 <= row < N and row not in seed for row in rows)
    j = json.loads(r[1])
    assert j["rows"] == rows and j["round"] == 1 and j["labelled_before"] == 12
    if strategy not in ("random",):
        scores = [s for _, s in read_csv(out)]
        if strategy in ("entropy", "margin", "least-confidence", "bald"):
            assert scores == sorted(scores, reverse=True)
    # The query is pending: the next one proposes other rows.
    out2 = out_dir / "q2.csv"
    assert_ok(run("al", "query", project, "--strategy", strategy, "--batch", "10", "-o", out2, *FAST))
    assert not set(rows) & {row for row, _ in read_csv(out2)}
    status = json.loads(run("al", "status", project, "--json")[1])
    assert status["pending"] == 20


def test_entropy_scores_are_the_proxys_entropies_and_accuracy_is_reported(run, project, out_dir):
    r = run("al", "query", project, "--strategy", "entropy", "--batch", "5", "-o", out_dir / "q.csv", *FAST, "--json")
    assert_ok(r)
    j = json.loads(r[1])
    assert 0 <= j["proxy_test_accuracy"] <= 1
    assert all(0 <= s <= np.log(C) + 1e-6 for s in j["scores"])
    assert set(j["phases"]) == {"training", "scoring", "selection"}
    assert "test accuracy" in run("al", "query", project, "--batch", "5", "-o", out_dir / "q2.csv", *FAST)[1]


def test_candidates_scores_a_subset_and_says_so(run, project, out_dir):
    r = run("al", "query", project, "--strategy", "entropy", "--batch", "4", "--candidates", "20", "-o",
            out_dir / "q.csv", *FAST)
    assert_ok(r)
    assert "20 scored, a random subset of the 188 unlabelled rows (--candidates)" in r[1]


def test_neighbour_candidates_are_the_labelled_rows_nearest_unlabelled_ones(run, project, out_dir):
    # batch = candidates: random proposes every candidate, so the CSV is the candidate set itself.
    r = run("al", "query", project, "--strategy", "random", "--batch", "24", "--candidates", "24",
            "--candidates-by", "neighbours", "-o", out_dir / "q.csv", "--json")
    assert_ok(r)
    assert json.loads(r[1])["candidates"]["by"] == "neighbours"
    with h5py.File(out_dir / "pool.h5", "r") as f:
        x = f["features"][()].astype(np.float64)
    labelled = sorted(row for row, _ in read_csv(out_dir / "seed.csv"))
    open_rows = np.setdiff1d(np.arange(N), labelled)
    want = set()
    for l in labelled:  # each labelled row's ceil(24 / 12) = 2 nearest unlabelled rows
        d2 = ((x[open_rows] - x[l]) ** 2).sum(axis=1)
        want.update(int(v) for v in open_rows[np.argsort(d2, kind="stable")[:2]])
    assert {row for row, _ in read_csv(out_dir / "q.csv")} == want
    text = run("al", "query", project, "--strategy", "entropy", "--batch", "4", "--candidates", "30",
               "--candidates-by", "neighbours", "-o", out_dir / "q2.csv", *FAST)[1]
    assert "the nearest neighbours of the labelled rows among the" in text


def test_neighbour_candidates_need_labelled_rows(run, out_dir):
    pool = write_pool(out_dir / "pool.h5", labels=False)
    project = str(out_dir / "p.al")
    assert_ok(run("al", "init", pool, "-o", project, "--classes", "3"))
    assert_error(run("al", "query", project, "--strategy", "random", "--batch", "5", "--candidates", "10",
                     "--candidates-by", "neighbours", "-o", out_dir / "q.csv"), "needs labelled rows", "--candidates-by")
    assert_error(run("al", "query", project, "--strategy", "random", "--batch", "5", "--candidates-by", "nearest",
                     "-o", out_dir / "q.csv"), "--candidates-by")
    assert not (out_dir / "q.csv").exists()


def test_proxy_strategy_without_labels_is_refused_random_is_not(run, out_dir):
    pool = write_pool(out_dir / "pool.h5", labels=False)
    project = str(out_dir / "p.al")
    assert_ok(run("al", "init", pool, "-o", project, "--classes", "3"))
    assert_error(run("al", "query", project, "--strategy", "entropy", "--batch", "5", "-o", out_dir / "q.csv"),
                 "none is labelled", "--strategy")
    assert not (out_dir / "q.csv").exists()
    assert_ok(run("al", "query", project, "--strategy", "typiclust", "--batch", "5", "-o", out_dir / "q.csv"))
    assert len(read_csv(out_dir / "q.csv")) == 5


@pytest.mark.parametrize("args,needle", [
    (("--strategy", "nope"), "--strategy"),
    (("--batch", "0"), "--batch"),
    (("--candidates", "0"), "--candidates"),
    (("--dropout", "1"), "--dropout"),
    (("--passes", "1"), "--passes"),
    (("--epochs", "0"), "--epochs"),
    (("--schedule", "steps"), "schedule"),
])
def test_bad_options_are_one_error_line(run, project, out_dir, args, needle):
    assert_error(run("al", "query", project, "-o", out_dir / "q.csv", *args), needle)
    assert not (out_dir / "q.csv").exists()


def test_existing_output_needs_force(run, project, out_dir):
    out = out_dir / "q.csv"
    out.write_text("keep\n")
    assert_error(run("al", "query", project, "--batch", "3", "-o", out, *FAST), "exists")
    assert out.read_text() == "keep\n"
    assert json.loads(run("al", "status", project, "--json")[1])["pending"] == 0
    assert_ok(run("al", "query", project, "--batch", "3", "-o", out, "--force", *FAST))
    assert len(read_csv(out)) == 3


def test_default_output_is_next_to_the_project(run, project, out_dir):
    assert_ok(run("al", "query", project, "--batch", "3", *FAST))
    assert len(read_csv(out_dir / "p.query1.csv")) == 3


def png_size(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_images_one_png_per_row_and_a_contact_sheet(run, out_dir):
    pool = write_pool(out_dir / "pool.h5", image=True)
    project = str(out_dir / "p.al")
    assert_ok(run("al", "init", pool, "-o", project, "--classes", "3"))
    assert_ok(run("al", "query", project, "--strategy", "random", "--batch", "5", "-o", out_dir / "q.csv",
                  "--images", out_dir / "img"))
    rows = [r for r, _ in read_csv(out_dir / "q.csv")]
    assert sorted(os.listdir(out_dir / "img")) == sorted([f"row{r}.png" for r in rows] + ["contact.png"])
    assert png_size(out_dir / "img" / f"row{rows[0]}.png") == (4, 2)
    assert png_size(out_dir / "img" / "contact.png") == (3 * 5 - 1, 2 * 3 - 1)  # 3 tiles a line, 2 lines


def test_images_need_an_image_store(run, project, out_dir):
    assert_error(run("al", "query", project, "--batch", "3", "-o", out_dir / "q.csv", "--images", out_dir / "img"),
                 "image_shape")
    assert not (out_dir / "q.csv").exists() and not (out_dir / "img").exists()


def aubc(labels, acc):
    return np.trapz(acc, labels) / (labels[-1] - labels[0])


def test_simulate_writes_curves_and_a_summary_that_agree(run, out_dir):
    pool = write_pool(out_dir / "pool.h5")
    d = out_dir / "sim"
    r = run("al", "simulate", pool, "--strategies", "random,entropy,coreset", "--seed-size", "10", "--batch", "10",
            "--rounds", "2", "--repeats", "2", "-o", d, *FAST)
    assert_ok(r)
    curves = json.load(open(d / "curves.json"))["curves"]
    summary = json.load(open(d / "summary.json"))
    assert len(curves) == 6 and summary["labels"] == [10, 20, 30]
    rows = list(csv.DictReader(open(d / "curves.csv")))
    assert len(rows) == 18
    by = {}
    for c in curves:
        by.setdefault(c["strategy"], []).append([p["accuracy"] for p in c["points"]])
        kwh = [p["kwh"] for p in c["points"]]
        assert kwh == sorted(kwh) and kwh[-1] > 0
    means = {s: np.mean(v, axis=0) for s, v in by.items()}
    for s in summary["strategies"]:
        m = means[s["strategy"]]
        assert s["aubc"] == pytest.approx(aubc([10, 20, 30], m))
        reach = [l for l, a in zip([10, 20, 30], m) if a >= means["random"][-1]]
        assert s["labels_to_random_final"] == (reach[0] if reach else None)
    # The same seed set for every strategy of a repeat: the round-0 accuracies agree.
    assert len({c["points"][0]["accuracy"] for c in curves if c["repeat"] == 0}) == 1


def test_simulate_seed_method_picks_the_seed_set_and_counts_its_cost(run, out_dir):
    pool = write_pool(out_dir / "pool.h5")
    common = ("--strategies", "random", "--seed-size", "6", "--batch", "5", "--rounds", "1", "--repeats", "1", *FAST)
    for method in ("random", "balanced", "kcenter"):
        assert_ok(run("al", "simulate", pool, "--seed-method", method, *common, "-o", out_dir / method))
    curves = {m: json.load(open(out_dir / m / "curves.json")) for m in ("random", "balanced", "kcenter")}
    for m, j in curves.items():
        assert j["settings"]["seed-method"] == m and j["curves"][0]["points"][0]["labels"] == 6, m
    # Different seed sets give the proxy different first trainings (round 0 is the seed alone).
    round0 = {m: j["curves"][0]["points"][0]["accuracy"] for m, j in curves.items()}
    assert len(set(round0.values())) > 1, round0


@pytest.mark.parametrize("labels,test,needle", [(False, True, "labels"), (True, False, "test split")])
def test_simulate_refuses_pools_without_labels_or_test(run, out_dir, labels, test, needle):
    pool = write_pool(out_dir / "pool.h5", labels=labels, test=test)
    assert_error(run("al", "simulate", pool, "--strategies", "random", "--seed-size", "5", "--batch", "5",
                     "--rounds", "1", "-o", out_dir / "sim"), needle)
    assert not (out_dir / "sim" / "summary.json").exists()


@pytest.mark.parametrize("args,needle", [
    (("--strategies", "random,nope"), "--strategies"),
    (("--strategies", "random,random"), "twice"),
    (("--rounds", "0"), "--rounds"),
    (("--rounds", "100"), "rounds"),
    (("--seed-size", "0"), "--seed-size"),
    (("--seed-method", "herding"), "--seed-method"),
])
def test_simulate_bad_options(run, out_dir, args, needle):
    pool = write_pool(out_dir / "pool.h5")
    base = {"--strategies": "random", "--seed-size": "5", "--batch": "5", "--rounds": "1"}
    for k, v in zip(args[::2], args[1::2]):
        base[k] = v
    flat = [x for kv in base.items() for x in kv]
    assert_error(run("al", "simulate", pool, *flat, "-o", out_dir / "sim"), needle)


def test_plot_script_draws_the_curves(run, out_dir, source_dir):
    import subprocess
    import sys
    pool = write_pool(out_dir / "pool.h5")
    d = out_dir / "sim"
    assert_ok(run("al", "simulate", pool, "--strategies", "random,margin", "--seed-size", "10", "--batch", "10",
                  "--rounds", "1", "--repeats", "1", "-o", d, *FAST))
    r = subprocess.run([sys.executable, os.path.join(source_dir, "python_scripts", "plot_al_curves.py"), str(d)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert open(d / "curves.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"

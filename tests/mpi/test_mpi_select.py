"""`mpirun -np N subset select` (issue 18, part 2): the `subset` built with SUBSET_WITH_MPI on 2 and
3 ranks gives the single-process answer exactly (indices, weights, scores, centroids and headline
figures; the importance scores, whose proxy trains data-parallel, within rounding), keeps every
rank's energy report, refuses what does not run on ranks with one line, and leaves no output when
a rank fails or is killed."""
import json
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from mpi_testing import MPI_ENV, N, make_store, mpirun, mpirun_command, processes_running, read_datasets
from subset_testing import assert_error, assert_no_partials, assert_ok, run_subset


def read_selection(path):
    with h5py.File(path, "r") as f:
        return {name: f[name][()] for name in ("indices", "weights", "scores") if name in f}


def manifest_of(path):
    """The selection file's JSON attributes: stats and energy."""
    with h5py.File(path, "r") as f:
        return {key: json.loads(f.attrs[key]) for key in ("stats", "energy") if key in f.attrs}


def assert_same_selection(got, want, headline=()):
    a = read_selection(got)
    b = read_selection(want)
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    ma, mb = manifest_of(got), manifest_of(want)
    for key in headline:
        assert ma["stats"][key] == mb["stats"][key], key


METHODS = [
    ("kcenter", ["--budget", "40"], ["covering_radius"]),
    ("kcenter", ["--budget", "30", "--seed", "5"], ["covering_radius"]),
    ("herding", ["--budget", "35"], ["mean_gap"]),
    ("random", ["--fraction", "0.05", "--seed", "9"], []),
    ("balanced", ["--budget", "40", "--seed", "2"], []),
    ("stratified", ["--budget", "40"], []),
    ("random", ["--budget", "40", "--per-class"], []),
]


@pytest.mark.parametrize("method,args,headline", METHODS)
def test_ranks_select_what_one_process_selects(mpi_bin, subset_bin, store, out_dir, method, args, headline):
    alone = out_dir / "alone.h5"
    assert_ok(run_subset(mpi_bin, "select", store, "-m", method, *args, "-o", alone))
    default_build = out_dir / "default.h5"
    assert_ok(run_subset(subset_bin, "select", store, "-m", method, *args, "-o", default_build))
    assert_same_selection(default_build, alone, headline)
    for ranks in (2, 3):
        out = out_dir / f"ranks{ranks}.h5"
        assert_ok(mpirun(ranks, mpi_bin, "select", store, "-m", method, *args, "-o", out))
        assert_same_selection(out, alone, headline)


def test_kmeans_on_ranks_selects_what_one_process_selects(mpi_bin, store, out_dir):
    args = ["-m", "kmeans", "--budget", "12", "--iterations", "6", "--seed", "4"]
    alone, alone_centroids = out_dir / "alone.h5", out_dir / "alone-centroids.h5"
    rc, out, err = run_subset(mpi_bin, "select", store, *args, "-o", alone, "--centroids-out", alone_centroids)
    if rc != 0 and "does not run on several ranks" in err:
        pytest.fail("kmeans is not marked to run on ranks")
    assert rc == 0, err
    for ranks in (2, 3):
        got, centroids = out_dir / f"ranks{ranks}.h5", out_dir / f"ranks{ranks}-centroids.h5"
        assert_ok(mpirun(ranks, mpi_bin, "select", store, *args, "-o", got, "--centroids-out", centroids))
        assert_same_selection(got, alone, ["inertia", "iterations"])
        assert np.array_equal(read_datasets(centroids)["features"], read_datasets(alone_centroids)["features"])


def scores_by_row(path):
    sel = read_selection(path)
    return dict(zip(sel["indices"].tolist(), sel["scores"].tolist()))


# Data-parallel proxy training: one process's batches, gradients summed over the ranks in another
# order than one process sums them, so the scores agree within rounding, not bit for bit.
@pytest.mark.parametrize("method", ["loss", "grand", "forgetting", "margin"])
def test_importance_scores_on_ranks_are_one_process_scores_within_rounding(mpi_bin, subset_bin, store, out_dir, method):
    # Every row, hardest first: the selection file holds every row's score.
    args = ["-m", method, "--budget", str(N), "--order", "hardest", "--score-epochs", "2", "--seed", "3"]
    alone = out_dir / "alone.h5"
    assert_ok(run_subset(mpi_bin, "select", store, *args, "-o", alone, timeout=300))
    default_build = out_dir / "default.h5"
    assert_ok(run_subset(subset_bin, "select", store, *args, "-o", default_build, timeout=300))
    assert_same_selection(default_build, alone)
    want = scores_by_row(alone)
    largest = max(abs(v) for v in want.values())
    for ranks in (2, 3):
        out = out_dir / f"ranks{ranks}.h5"
        assert_ok(mpirun(ranks, mpi_bin, "select", store, *args, "-o", out))
        got = scores_by_row(out)
        assert got.keys() == want.keys()
        if method == "forgetting":
            # Whole counts: rounding can only flip a prediction whose two top logits nearly tie.
            changed = sum(got[i] != want[i] for i in want)
            assert changed <= 0.005 * N, (ranks, changed)
        else:
            gap = max(abs(got[i] - want[i]) for i in want)
            assert gap <= 1e-4 * max(1.0, largest), (ranks, gap)
        stats = manifest_of(out)["stats"]
        assert stats["ranks"] == ranks and len(stats["energy_by_rank"]) == ranks


def test_an_importance_coreset_on_ranks_picks_what_one_process_picks(mpi_bin, store, out_dir):
    # Hardest first: rounding can only swap points whose scores are within it at the cut. (In the
    # coverage order a changed stratum member redraws that stratum's picks: no such bound.)
    args = ["-m", "el2n", "--budget", "300", "--order", "hardest", "--score-epochs", "2"]
    alone = out_dir / "alone.h5"
    assert_ok(run_subset(mpi_bin, "select", store, *args, "-o", alone, timeout=300))
    for ranks in (2, 3):
        out = out_dir / f"ranks{ranks}.h5"
        assert_ok(mpirun(ranks, mpi_bin, "select", store, *args, "-o", out))
        picked, want = set(read_selection(out)["indices"].tolist()), set(read_selection(alone)["indices"].tolist())
        assert len(picked & want) >= 0.99 * len(want)


def test_selection_on_an_embedding_on_ranks(mpi_bin, subset_bin, store, out_dir):
    embedding = out_dir / "emb.h5"
    assert_ok(run_subset(subset_bin, "embed", store, "--model", "pca", "--dim", "8", "--seed", "0", "-o", embedding,
                         timeout=300))
    args = ["select", store, "--embedding", embedding, "-m", "kcenter", "--budget", "25"]
    alone = out_dir / "alone.h5"
    assert_ok(run_subset(mpi_bin, *args, "-o", alone))
    ranks = out_dir / "ranks.h5"
    assert_ok(mpirun(3, mpi_bin, *args, "-o", ranks))
    assert_same_selection(ranks, alone, ["covering_radius"])
    with h5py.File(ranks, "r") as f:
        assert json.loads(f.attrs["embedding"])["path"] == str(embedding)


def test_every_ranks_energy_is_kept_and_summed(mpi_bin, store, out_dir):
    out = out_dir / "sel.h5"
    assert_ok(mpirun(3, mpi_bin, "select", store, "-m", "kcenter", "--budget", "10", "-o", out))
    m = manifest_of(out)
    assert m["stats"]["ranks"] == 3
    by_rank = m["stats"]["energy_by_rank"]
    assert len(by_rank) == 3
    assert all(r["joules"] > 0 for r in by_rank)
    assert m["energy"]["joules"] == pytest.approx(sum(r["joules"] for r in by_rank), rel=1e-9)
    assert m["energy"]["cpu_seconds"] == pytest.approx(sum(r["cpu_seconds"] for r in by_rank), rel=1e-9)


def test_only_rank_0_speaks(mpi_bin, store, out_dir):
    rc, out, err = mpirun(3, mpi_bin, "select", store, "-m", "herding", "--budget", "5", "-o", out_dir / "s.h5")
    assert rc == 0, err
    alone = assert_ok(run_subset(mpi_bin, "select", store, "-m", "herding", "--budget", "5", "-o", out_dir / "t.h5"))
    # The same lines as one process prints (file names aside), once.
    assert len(out.splitlines()) == len(alone.splitlines()), out


@pytest.mark.parametrize("args,needles", [
    (["-m", "typiclust", "--budget", "10"], ["typiclust", "does not run on several ranks", "kcenter"]),
    (["-m", "kcenter", "--budget", "10", "--per-class"], ["--per-class", "one process"]),
    (["-m", "loss", "--budget", "10", "--per-class"], ["--per-class", "one process"]),
    (["-m", "loss", "--budget", "10", "--memory-limit", "1M"], ["too small", "loss", "2 ranks"]),
    (["-m", "kcenter", "--budget", str(N + 1)], ["budget"]),
    (["-m", "nosuch", "--budget", "3"], ["nosuch"]),
])
def test_what_does_not_run_on_ranks_is_refused_in_one_line(mpi_bin, store, out_dir, args, needles):
    out = out_dir / "sel.h5"
    assert_error(mpirun(2, mpi_bin, "select", store, *args, "-o", out), *needles)
    assert not out.exists()


def test_a_subcommand_that_runs_in_one_process_is_refused(mpi_bin, store, out_dir):
    assert_error(mpirun(2, mpi_bin, "embed", store, "--model", "pca", "--dim", "4", "-o", out_dir / "e.h5"),
                 "embed", "mpirun")
    assert not os.listdir(out_dir)


def test_a_bad_value_in_another_ranks_rows_fails_every_rank_alike(mpi_bin, tmp_path, out_dir):
    bad = make_store(tmp_path / "bad.h5", nan_row=N - 3)  # in the last rank's share
    out = out_dir / "sel.h5"
    assert_error(mpirun(3, mpi_bin, "select", bad, "-m", "kcenter", "--budget", "5", "-o", out), "NaN", str(N - 3))
    assert not out.exists()


def test_the_importance_scores_need_a_row_on_every_rank(mpi_bin, tmp_path, out_dir):
    two = tmp_path / "two.h5"
    with h5py.File(two, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=np.eye(2, 4, dtype=np.float32))
        f.create_dataset("labels", data=np.array([0, 1], dtype=np.int64))
    out = out_dir / "sel.h5"
    assert_error(mpirun(3, mpi_bin, "select", two, "-m", "loss", "--budget", "1", "-o", out), "3 ranks",
                 "at least one row a rank")
    assert not out.exists()


def test_a_bad_value_in_another_ranks_share_fails_the_proxy_on_every_rank_alike(mpi_bin, tmp_path, out_dir):
    bad = make_store(tmp_path / "bad.h5", nan_row=N - 3)
    out = out_dir / "sel.h5"
    assert_error(mpirun(3, mpi_bin, "select", bad, "-m", "loss", "--budget", "5", "-o", out), "NaN", str(N - 3))
    assert not out.exists()


def test_an_existing_output_is_kept_when_ranks_fail(mpi_bin, store, out_dir):
    out = out_dir / "sel.h5"
    out.write_bytes(b"precious")
    assert_error(mpirun(2, mpi_bin, "select", store, "-m", "herding", "--budget", "5", "-o", out), "exists")
    assert out.read_bytes() == b"precious"


@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    """A store on which k-center with a large budget runs for many seconds."""
    path = tmp_path_factory.mktemp("mpi-big") / "big.h5"
    rng = np.random.RandomState(1)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=rng.normal(size=(60000, 64)).astype(np.float32), chunks=(1024, 64))
    return path


def test_ctrl_c_on_mpirun_stops_every_rank_without_output(mpi_bin, big_store, out_dir):
    out = out_dir / "sel.h5"
    proc = subprocess.Popen(mpirun_command(2, mpi_bin, "select", big_store, "-m", "kcenter", "--budget", "20000",
                                           "-o", out),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=MPI_ENV)
    for _ in range(200):
        time.sleep(0.1)
        if len(processes_running(mpi_bin, str(big_store))) == 2:
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    # mpirun ends the ranks (SIGTERM, then SIGKILL soon after): a rank may or may not get to say so.
    lines = err.decode().splitlines()
    assert len(lines) <= 1 and all("interrupted" in line for line in lines), lines
    assert not out.exists()
    assert_no_partials(str(out_dir))
    assert not processes_running(mpi_bin, str(big_store))


def test_a_killed_rank_ends_the_job_without_output(mpi_bin, big_store, out_dir):
    big = big_store
    out = out_dir / "sel.h5"
    proc = subprocess.Popen(mpirun_command(2, mpi_bin, "select", big, "-m", "kcenter", "--budget", "5000", "-o", out),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=MPI_ENV)
    # Wait for both ranks, then kill the second one.
    ranks = []
    for _ in range(200):
        time.sleep(0.1)
        ranks = processes_running(mpi_bin, str(big))
        if len(ranks) == 2:
            break
    assert len(ranks) == 2, "the two ranks did not start"
    time.sleep(1.0)
    os.kill(ranks[1], signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert not out.exists()
    assert_no_partials(str(out_dir))
    assert b"Traceback" not in err




def test_a_tight_limit_on_ranks_reads_smaller_blocks(mpi_bin, wide_store, out_dir):
    # 120 MiB a rank cannot hold two 64 MiB blocks: the ranks read smaller ones, to the same answer.
    alone, ranks = out_dir / "alone.h5", out_dir / "ranks.h5"
    assert_ok(run_subset(mpi_bin, "select", wide_store, "-m", "kcenter", "--budget", "8", "-o", alone))
    assert_ok(mpirun(2, mpi_bin, "select", wide_store, "-m", "kcenter", "--budget", "8", "--memory-limit", "120M",
                     "-o", ranks))
    assert_same_selection(ranks, alone, ["covering_radius"])
    assert manifest_of(ranks)["stats"]["block_rows"] * 256 * 4 < 60 * 2**20

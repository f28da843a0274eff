"""`subset select --memory-limit`: features that do not fit stay on disk and are read in blocks
and `subset extract --memory-limit`: selected rows that do not fit go through a temporary file
(issue 18). The result must be the in-memory one, and the process's peak resident memory must stay
under the limit."""
import os
import signal
import subprocess
import re
import time

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_ok

N, D, CLASSES = 40000, 512, 4  # 80 MB of features: well above the process's own ~30-60 MB


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Clustered rows (so k-center's bounds can skip blocks) with labels, chunked by 256 rows."""
    rng = np.random.RandomState(7)
    centres = rng.normal(0, 4, (12, D)).astype(np.float32)
    which = rng.randint(0, 12, N)
    x = (centres[which] + rng.normal(0, 0.5, (N, D))).astype(np.float32)
    path = tmp_path_factory.mktemp("memory-limit") / "store.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=x, chunks=(256, D))
        f.create_dataset("labels", data=(which % CLASSES).astype(np.int64))
    return str(path)


def peak_rss(subset_bin, *args):
    """(returncode, stdout, stderr, peak resident bytes) of `subset -v ARGS`: the peak its -v reports
    (VmHWM). The kernel's wait4 figure would not do: a child forked from this interpreter starts with
    the interpreter's resident pages counted."""
    proc = subprocess.run([subset_bin, "-v", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=600)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    found = re.search(r"^peak memory ([0-9.]+) MiB resident$", err, re.M)
    assert proc.returncode != 0 or found, err
    return proc.returncode, out, err, float(found.group(1)) * MIB if found else None


def read_selection(path):
    with h5py.File(path, "r") as f:
        return {name: f[name][()] for name in ("indices", "weights", "scores") if name in f}


def assert_same_selection(a, b):
    sa, sb = read_selection(a), read_selection(b)
    assert sa.keys() == sb.keys()
    for name in sa:
        assert np.array_equal(sa[name], sb[name]), name


FEATURES_BYTES = N * D * 4
MIB = 1024 * 1024


@pytest.mark.parametrize("method,args", [
    ("kcenter", ["--budget", "30"]),
    ("kcenter", ["--budget", "12", "--per-class"]),
    ("herding", ["--budget", "20"]),
    ("kmeans", ["--budget", "16", "--iterations", "4"]),
    ("typiclust", ["--budget", "8", "--per-class"]),
])
def test_streamed_selection_is_the_in_memory_one_under_the_limit(subset_bin, store, tmp_path, method, args):
    in_memory = tmp_path / "in_memory.h5"
    rc, out, err, peak_in_memory = peak_rss(subset_bin, "select", store, "-m", method, *args, "-o", in_memory)
    assert rc == 0, err
    assert "features in memory" in out
    # A limit that the in-memory run exceeded by half the features: the run must stream.
    limit = peak_in_memory - FEATURES_BYTES // 2
    streamed = tmp_path / "streamed.h5"
    rc, out, err, peak = peak_rss(subset_bin, "select", store, "-m", method, *args, "-o", streamed,
                                  "--memory-limit", f"{int(limit) // 1024}K")
    assert rc == 0, err
    assert "features on disk" in out, out
    assert peak <= limit, f"peak resident {peak / MIB:.1f} MiB over the {limit / MIB:.1f} MiB limit"
    assert_same_selection(in_memory, streamed)


def test_a_method_that_needs_its_features_in_memory_is_refused(subset_bin, store, tmp_path, run):
    out = tmp_path / "sel.h5"
    line = assert_error(run("select", store, "-m", "typiclust", "--budget", "5", "-o", out, "--memory-limit", "60M"),
                        "memory-limit", "typiclust", "kcenter")
    assert "in memory" in line
    assert not out.exists()


def test_a_limit_too_small_for_the_per_point_state(subset_bin, store, tmp_path, run):
    out = tmp_path / "sel.h5"
    assert_error(run("select", store, "-m", "kcenter", "--budget", "5", "-o", out, "--memory-limit", "2M"),
                 "memory-limit", "too small")
    assert not out.exists()


@pytest.mark.parametrize("size", ["abc", "-1G", "0", "1.5X", "G", "512K", "nan"])
def test_bad_sizes(subset_bin, store, tmp_path, run, size):
    assert_error(run("select", store, "-m", "kcenter", "--budget", "5", "-o", tmp_path / "s.h5",
                     f"--memory-limit={size}"), "memory-limit")


def test_methods_without_features_ignore_a_small_limit(subset_bin, store, tmp_path, run):
    # random, balanced and stratified read only the labels.
    assert_ok(run("select", store, "-m", "balanced", "--budget", "40", "-o", tmp_path / "s.h5",
                  "--memory-limit", "4M"))


def read_store(path):
    with h5py.File(path, "r") as f:
        return {name: f[name][()] for name in ("features", "labels", "weights") if name in f}


def test_extract_out_of_core_writes_the_same_store(subset_bin, store, tmp_path, out_dir, run):
    selection = tmp_path / "sel.h5"
    assert_ok(run("select", store, "-m", "random", "--fraction", "0.6", "-o", selection))
    in_memory = out_dir / "in_memory.h5"
    rc, out, err, peak_in_memory = peak_rss(subset_bin, "extract", store, "-s", selection, "-o", in_memory)
    assert rc == 0, err
    # The selected rows (48 MB) no longer fit: the rows go through a temporary file.
    limit = peak_in_memory - int(0.6 * FEATURES_BYTES) // 2
    streamed = out_dir / "streamed.h5"
    rc, out, err, peak = peak_rss(subset_bin, "extract", store, "-s", selection, "-o", streamed,
                                  "--memory-limit", f"{int(limit) // 1024}K")
    assert rc == 0, err
    assert peak <= limit, f"peak resident {peak / MIB:.1f} MiB over the {limit / MIB:.1f} MiB limit"
    a, b = read_store(in_memory), read_store(streamed)
    assert a.keys() == b.keys() == {"features", "labels"}
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    assert sorted(os.listdir(out_dir)) == ["in_memory.h5", "streamed.h5"]  # the temporary file is gone


def test_ctrl_c_during_a_streamed_selection_exits_130_and_leaves_nothing(subset_bin, store, out_dir):
    out = out_dir / "sel.h5"
    proc = subprocess.Popen([subset_bin, "select", store, "-m", "kcenter", "--budget", "3000", "-o", str(out), "-q",
                             "--memory-limit", "60M"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5)
    assert proc.poll() is None, "finished before the signal: give it more work"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err.decode()
    assert not out.exists()


def test_a_killed_out_of_core_extract_leaves_a_rows_file_that_the_next_run_removes(subset_bin, store, tmp_path,
                                                                                 out_dir, run):
    selection = tmp_path / "sel.h5"
    assert_ok(run("select", store, "-m", "random", "--fraction", "0.9", "-o", selection))
    out = out_dir / "small.h5"
    stale = out_dir / f".small.h5.rows.partial-{2**22 + 7}"  # a process id that is not running
    stale.write_bytes(b"rows of a run killed with -9")
    assert_ok(run("extract", store, "-s", selection, "-o", out))
    assert not stale.exists()
    assert sorted(os.listdir(out_dir)) == ["small.h5"]


def test_an_out_of_core_extract_on_a_full_disk_is_one_line_and_leaves_nothing(subset_bin, store, tmp_path, run):
    selection = tmp_path / "sel.h5"
    assert_ok(run("select", store, "-m", "random", "--fraction", "0.6", "-o", selection))
    tiny = tmp_path / "tiny"  # a 1 MiB tmpfs: the 48 MB of rows do not fit in its temporary file
    tiny.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(tiny)],
                                           stderr=subprocess.DEVNULL).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        assert_error(run("extract", store, "-s", selection, "-o", tiny / "small.h5", "--memory-limit", "60M"),
                     "temporary file")
        assert os.listdir(tiny) == []
    finally:
        subprocess.run(["umount", "-l", str(tiny)])

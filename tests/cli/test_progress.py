"""Progress on stderr, one rule for every command (docs/cli.md, "Progress"): on a terminal a live line
redrawn in place ("\\r"), in a log or pipe plain lines at most one per interval (none for work done
within it) plus a final one, nothing with -q. SUBSET_PROGRESS_INTERVAL shortens the interval here so
that small runs show lines."""
import os
import re
import subprocess
import time

import h5py
import numpy as np
import pytest

from subset_testing import subset_binary


def write_store(path, n=4000, d=16, classes=4, seed=0, test=True):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = (np.eye(classes, d, dtype=np.float32)[y] * 4 + rng.standard_normal((n, d))).astype(np.float32)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=x)
        f.create_dataset("labels", data=y.astype(np.int64))
        if test:
            tx = (np.eye(classes, d, dtype=np.float32)[np.arange(400) % classes] * 4
                  + rng.standard_normal((400, d))).astype(np.float32)
            f.create_dataset("test/features", data=tx)
            f.create_dataset("test/labels", data=(np.arange(400) % classes).astype(np.int64))
    return str(path)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_store(tmp_path_factory.mktemp("progress") / "blobs.h5")


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    # k-means with k 400 on 60000 x 16 takes a second or two: long enough for a few lines at 0.2 s.
    return write_store(tmp_path_factory.mktemp("progress_big") / "big.h5", n=60000, test=False)


def env_with(**extra):
    env = dict(os.environ)
    env.pop("SUBSET_PROGRESS_INTERVAL", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_piped(*args, timeout=120, **env):
    """stderr a pipe (as in a log): returns (rc, stdout, stderr, seconds)."""
    start = time.monotonic()
    p = subprocess.run([subset_binary(), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=timeout, env=env_with(**env))
    return p.returncode, p.stdout.decode(), p.stderr.decode(), time.monotonic() - start


def run_on_terminal(*args, timeout=120, **env):
    """stderr a pseudo-terminal, stdout a pipe: returns (rc, stdout, what the terminal got)."""
    master, slave = os.openpty()
    p = subprocess.Popen([subset_binary(), *map(str, args)], stdout=subprocess.PIPE, stderr=slave,
                         stdin=subprocess.DEVNULL, env=env_with(**env))
    os.close(slave)
    got = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        got += chunk
    os.close(master)
    out = p.stdout.read().decode()
    p.wait(timeout=timeout)
    return p.returncode, out, got.decode("utf-8", "replace")


@pytest.fixture(autouse=True)
def need_binary():
    if subset_binary() is None:
        pytest.skip("SUBSET_BIN is not set")


def percents(lines):
    return [int(m.group(1)) for m in (re.search(r"(\d+)%", line) for line in lines) if m]


def test_terminal_gets_a_live_line_redrawn_in_place(store, out_dir):
    rc, out, tty = run_on_terminal("select", store, "--method", "kmeans", "--budget", "200", "-o", out_dir / "a.sel.h5")
    assert rc == 0, tty
    assert "selected 200" in out
    assert "\r" in tty and "kmeans" in tty and "%" in tty
    assert "\x1b[K" in tty  # the rest of the previous drawing is erased
    # The live line is ended: the terminal's last character is a newline (the pty shows "\r\n").
    assert tty.endswith("\n")
    # Drawn in place: the progress is one terminal line, however many drawings.
    assert tty.count("\n") == 1, repr(tty)


def test_quiet_prints_nothing_on_a_terminal_or_a_pipe(store, out_dir):
    rc, out, tty = run_on_terminal("-q", "select", store, "--method", "kmeans", "--budget", "200",
                                   "-o", out_dir / "q.sel.h5", SUBSET_PROGRESS_INTERVAL="0.01")
    assert rc == 0 and tty == ""
    rc, out, err, _ = run_piped("-q", "select", store, "--method", "kmeans", "--budget", "200",
                                "-o", out_dir / "r.sel.h5", SUBSET_PROGRESS_INTERVAL="0.01")
    assert rc == 0 and err == ""


def test_a_pipe_gets_nothing_for_work_done_within_the_interval(store, out_dir):
    rc, _, err, seconds = run_piped("select", store, "--method", "kmeans", "--budget", "50", "-o", out_dir / "s.sel.h5")
    assert rc == 0 and seconds < 5
    assert err == ""


def test_a_pipe_gets_plain_lines_at_most_one_per_interval_and_a_final_one(big, out_dir):
    interval = 0.2
    rc, _, err, seconds = run_piped("select", big, "--method", "kmeans", "--budget", "400", "--iterations", "20",
                                    "-o", out_dir / "p.sel.h5", SUBSET_PROGRESS_INTERVAL=interval)
    assert rc == 0, err
    assert "\r" not in err and "\x1b" not in err
    lines = err.splitlines()
    assert lines, f"no progress line in {seconds:.1f} s"
    assert all(line.startswith("kmeans ") for line in lines), lines
    # None in the first interval, then at most one per interval, plus the final one.
    assert len(lines) <= seconds / interval + 1, (seconds, lines)
    p = percents(lines)
    assert p == sorted(p), lines
    assert lines[-1].startswith("kmeans 100%"), lines
    # The estimate: every line but the last says what is left.
    assert all("left" in line for line in lines[:-1]), lines


def test_kmeans_is_not_nearly_done_after_seeding(big, out_dir):
    # With k-means++ and 20 iterations the seeding is 1/21 of the work (a Lloyd iteration costs k
    # seeding steps): no line shows 90% or more while any iteration is still to run.
    rc, _, err, _ = run_piped("select", big, "--method", "kmeans", "--budget", "400", "--iterations", "20",
                              "--tolerance", "0", "-o", out_dir / "k.sel.h5", SUBSET_PROGRESS_INTERVAL=0.02)
    assert rc == 0, err
    lines = err.splitlines()
    assert len(lines) >= 3, lines
    p = percents(lines)
    assert p[0] < 50, lines  # the first line comes after 0.02 s: seeding or early Lloyd, far from done


def test_evaluate_reports_epochs_with_an_estimate(store, out_dir, tmp_path):
    rc, out, err, _ = run_piped("evaluate", store, "--epochs", "30", "--repeats", "2", "--schedule", "epochs",
                                "--batch", "64", "--cache", tmp_path / "c.json", "--threads", "2",
                                SUBSET_PROGRESS_INTERVAL=0.01, timeout=300)
    assert rc == 0, err
    assert "\r" not in err
    epoch_lines = [line for line in err.splitlines() if ": epoch " in line]
    assert any(line.startswith("full data, repeat 1/2: epoch ") for line in epoch_lines), err
    assert any(line.startswith("full data, repeat 2/2: epoch ") for line in epoch_lines), err
    assert all(re.search(r": epoch \d+/30, \d+%", line) for line in epoch_lines), epoch_lines
    assert any("left" in line for line in epoch_lines), epoch_lines
    p = percents(epoch_lines)
    assert p == sorted(p) and p[-1] <= 100


def test_evaluate_under_early_stopping_says_at_most(store, out_dir, tmp_path):
    sel = out_dir / "r.sel.h5"
    rc, _, err, _ = run_piped("select", store, "--method", "random", "--budget", "400", "-o", sel)
    assert rc == 0, err
    rc, out, err, _ = run_piped("evaluate", store, "-s", sel, "--epochs", "40", "--repeats", "1", "--batch", "64",
                                "--no-full", "--threads", "2", SUBSET_PROGRESS_INTERVAL=0.01, timeout=300)
    assert rc == 0, err
    epoch_lines = [line for line in err.splitlines() if ": epoch " in line]
    assert epoch_lines, err
    assert all("r.sel.h5, repeat 1/1: epoch " in line and " of at most 40" in line for line in epoch_lines), epoch_lines
    assert any("at most about" in line for line in epoch_lines), epoch_lines


def test_evaluate_short_run_stays_silent_on_a_pipe(store, tmp_path):
    rc, out, err, seconds = run_piped("evaluate", store, "--epochs", "2", "--repeats", "1", "--schedule", "epochs",
                                      "--cache", tmp_path / "c.json", "--threads", "2", timeout=300)
    assert rc == 0, err
    if seconds < 5:
        assert err == ""


def test_compress_autoencoder_reports_its_epochs(store, out_dir):
    rc, out, err, _ = run_piped("compress", store, "--method", "autoencoder", "--dim", "4", "--epochs", "30",
                                "--threads", "2", "-o", out_dir / "z.h5", SUBSET_PROGRESS_INTERVAL=0.01, timeout=300)
    assert rc == 0, err
    lines = [line for line in err.splitlines() if line.startswith("fitting autoencoder, ")]
    assert lines, err
    assert all(re.search(r"fitting autoencoder, \d+/30 epochs \(\d+%\)", line) for line in lines), lines


def test_a_bad_interval_keeps_the_default(store, out_dir):
    rc, _, err, seconds = run_piped("select", store, "--method", "kmeans", "--budget", "50", "-o", out_dir / "b.sel.h5",
                                    SUBSET_PROGRESS_INTERVAL="zero")
    assert rc == 0 and seconds < 5 and err == ""

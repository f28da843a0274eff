"""What `subset` promises about files and signals (docs/cli.md, "What subset promises"):

- Ctrl-C or SIGTERM at any moment of a run: exit 130/143, no output, no partial file, no crash;
  a second signal exits at once and still leaves nothing.
- kill -9 leaves at most a hidden partial file, removed by the next run to the same output.
- An output is never an input nor another output of the same command, `--force` or not.
- All outputs of a command appear together, or none does.
- Two runs to one output without --force never both succeed.
- A full disk is one clear line, not a crash.
"""
import os
import random
import shutil
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_no_partials, assert_ok, file_digest, partial_files

SIDE = 16  # 1 x 16 x 16 images: big enough for the ConvNet's three poolings
ROWS = 6000
CLASSES = 10


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A labelled image store big enough that every command below runs for seconds."""
    path = str(tmp_path_factory.mktemp("reliability") / "images.h5")
    rng = np.random.default_rng(7)
    labels = np.arange(ROWS) % CLASSES
    centres = rng.normal(size=(CLASSES, SIDE * SIDE)).astype(np.float32)
    features = centres[labels] + rng.normal(scale=2.0, size=(ROWS, SIDE * SIDE)).astype(np.float32)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        d = f.create_dataset("features", data=features.astype(np.float32))
        d.attrs["image_shape"] = np.array([1, SIDE, SIDE], dtype=np.int64)
        f.create_dataset("labels", data=labels.astype(np.int64))
        f.create_dataset("test/features", data=features[:500])
        f.create_dataset("test/labels", data=labels[:500].astype(np.int64))
    return path


@pytest.fixture(scope="module")
def uniform(tmp_path_factory):
    """Uniform points, on which k-means takes a hundred slow iterations to settle."""
    path = str(tmp_path_factory.mktemp("reliability") / "uniform.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("features", data=np.random.default_rng(1).random((300000, 8), dtype=np.float32))
    return path


# Each entry: (name, argv after the binary, with {store} and {out} filled in). Every one runs far
# longer than the latest moment a signal is sent.
LONG_RUNS = {
    "autoencoder": ["--threads", "1", "compress", "{store}", "-m", "autoencoder", "--dim", "16", "--epochs", "100000",
                    "-o", "{out}/ae.h5", "--model-out", "{out}/ae.model.h5"],
    "evaluate": ["--threads", "1", "evaluate", "{store}", "--model", "mlp", "--schedule", "epochs", "--epochs", "100000", "--repeats", "1",
                 "--cache", "{out}/cache.json"],
    "embed": ["--threads", "1", "embed", "{store}", "--model", "mlp", "--epochs", "100000", "-o", "{out}/emb.h5"],
    "condense": ["--threads", "1", "condense", "{store}", "--method", "dm", "--ipc", "2", "--iterations", "1000000",
                 "--batch-real", "32", "--checkpoint-every", "1000000", "-o", "{out}/syn.h5"],
    "kmeans": ["--threads", "2", "select", "{uniform}", "--method", "kmeans", "--budget", "3000", "--iterations",
               "100000", "-o", "{out}/km.sel.h5", "--centroids-out", "{out}/km.h5", "--indices-out", "{out}/km.txt"],
}


def start(subset_bin, name, stores, out):
    store, uniform = stores
    argv = [subset_bin] + [a.format(store=store, uniform=uniform, out=out) for a in LONG_RUNS[name]]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)


def stop(proc, signo, at):
    time.sleep(at)
    assert proc.poll() is None, f"the run ended before the signal at {at:.2f} s: {proc.returncode} " \
                                f"{proc.stderr.read().decode()}"
    proc.send_signal(signo)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"no exit within 60 s of the signal at {at:.2f} s")
    return proc.returncode, out.decode(), err.decode()


# 20 runs: 5 per command, each interrupted at its own random moment (seeded, so a failure can be
# replayed), from start-up through training to the writing of outputs.
MOMENTS = [(name, round(random.Random(f"{name}-{i}").uniform(0.15, 2.5), 3))
           for name in LONG_RUNS for i in range(5)]


@pytest.mark.parametrize("name,at", MOMENTS, ids=[f"{n}-{a}s" for n, a in MOMENTS])
def test_ctrl_c_at_any_moment_exits_130_and_leaves_nothing(subset_bin, store, uniform, tmp_path, name, at):
    out = tmp_path / "out"
    out.mkdir()
    rc, stdout, err = stop(start(subset_bin, name, (store, uniform), str(out)), signal.SIGINT, at)
    assert rc == 130, f"rc={rc} (negative: killed by a signal, i.e. a crash)\nstderr: {err}"
    assert err.endswith("error: interrupted\n"), err
    for bad in ("corrupted", "terminate called", "Segmentation", "Exception raised from", "frame #"):
        assert bad not in err, err
    assert os.listdir(out) == [], f"left behind: {os.listdir(out)}"


@pytest.mark.parametrize("name", ["autoencoder", "condense", "kmeans"])
def test_sigterm_exits_143_and_leaves_nothing(subset_bin, store, uniform, tmp_path, name):
    out = tmp_path / "out"
    out.mkdir()
    rc, _, err = stop(start(subset_bin, name, (store, uniform), str(out)), signal.SIGTERM, 1.0)
    assert rc == 143, f"rc={rc}\nstderr: {err}"
    assert err.endswith("error: interrupted\n"), err
    assert os.listdir(out) == []


def test_a_second_ctrl_c_exits_at_once_and_leaves_nothing(subset_bin, store, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    proc = start(subset_bin, "autoencoder", (store, None), str(out))
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert os.listdir(out) == []


def test_kill_9_leaves_a_hidden_partial_that_the_next_run_removes(run, subset_bin, fixtures, tmp_path):
    """An import from a FIFO is held mid-write with its temporary output open, then killed."""
    out = tmp_path / "out"
    out.mkdir()
    fifo = str(tmp_path / "stream.npy")
    os.mkfifo(fifo)
    proc = subprocess.Popen([subset_bin, "import", fifo, "-o", str(out / "s.h5")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    fd = os.open(fifo, os.O_WRONLY)
    header = b"\x93NUMPY\x01\x00"
    text = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 4), }"
    text += b" " * (118 - len(text)) + b"\n"
    os.write(fd, header + len(text).to_bytes(2, "little") + text + b"\0" * 4096)
    deadline = time.monotonic() + 30
    while not partial_files(str(out)) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.communicate()
    os.close(fd)
    left = partial_files(str(out))
    assert left == [f".s.h5.partial-{proc.pid}"], os.listdir(out)
    assert_ok(run("import", fixtures["npy"]["features_f32"], "-o", str(out / "s.h5")))
    assert os.listdir(out) == ["s.h5"]


def test_sigterm_to_subset_energy_reaches_the_measured_command(subset_bin, tmp_path):
    proc = subprocess.Popen([subset_bin, "energy", "--", "sleep", "60"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    time.sleep(0.5)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    assert time.monotonic() - t0 < 10, "the measured command was not stopped"
    assert proc.returncode in (143, 130), proc.returncode


# ---- outputs that are inputs, or each other -------------------------------------------------------

@pytest.fixture
def small(run, fixtures, tmp_path):
    """A small store and a selection of it, in a directory of their own."""
    d = tmp_path / "in"
    d.mkdir()
    store = str(d / "st.h5")
    assert_ok(run("import", fixtures["npy"]["features_f32"], "--labels", fixtures["npy"]["labels"], "-o", store))
    sel = str(d / "st.sel.h5")
    assert_ok(run("select", store, "--method", "random", "--budget", "5", "-o", sel))
    return store, sel


def assert_untouched(paths_and_digests):
    for path, digest in paths_and_digests:
        assert file_digest(path) == digest, f"{path} was changed"


def test_output_that_is_an_input_is_refused_even_with_force(run, small, fixtures, tmp_path):
    store, sel = small
    d = os.path.dirname(store)
    os.symlink(store, os.path.join(d, "alias.h5"))
    os.link(store, os.path.join(d, "hardlink.h5"))
    npy = str(tmp_path / "X.npy")
    shutil.copy(fixtures["npy"]["features_f32"], npy)
    before = [(p, file_digest(p)) for p in (store, sel, npy)]
    cases = [
        ("extract", store, "-s", sel, "-o", store, "--force"),
        ("extract", store, "-s", sel, "-o", os.path.join(d, "alias.h5"), "--force"),
        ("extract", store, "-s", sel, "-o", os.path.join(d, ".", "st.h5"), "--force"),
        ("extract", store, "-s", sel, "-o", sel, "--force"),
        ("import", npy, "-o", npy, "--force"),
        ("compress", store, "-m", "pca", "--dim", "2", "-o", str(tmp_path / "c.h5"), "--model-out", store, "--force"),
        ("compress", store, "-m", "pca", "--dim", "2", "-o", store, "--force"),
        ("select", store, "--method", "random", "--budget", "3", "-o", store, "--force"),
        ("select", store, "--method", "random", "--budget", "3", "-o", os.path.join(d, "hardlink.h5"),
         "--indices-out", str(tmp_path / "i.txt"), "--force"),
    ]
    for args in cases:
        line = assert_error(run(*args))
        assert "input" in line, (args, line)
    assert_untouched(before)
    assert not os.path.exists(tmp_path / "c.h5") and not os.path.exists(tmp_path / "i.txt")
    assert_no_partials(d)
    assert_no_partials(str(tmp_path))


def test_two_outputs_of_one_command_on_one_file_are_refused_and_nothing_is_written(run, small, out_dir):
    store, _ = small
    o = str(out_dir / "s.sel.h5")
    txt = str(out_dir / "s.txt")
    for args in (["select", store, "--method", "random", "--budget", "3", "-o", txt, "--indices-out", txt],
                 ["select", store, "--method", "kmeans", "--budget", "3", "-o", o, "--centroids-out", o],
                 ["select", store, "--method", "kmeans", "--budget", "3", "-o", o, "--centroids-out",
                  str(out_dir / "." / "s.sel.h5")],
                 ["compress", store, "-m", "pca", "--dim", "2", "-o", o, "--model-out", o]):
        line = assert_error(run(*args))
        assert "same file" in line, line
        assert os.listdir(out_dir) == [], args


def test_a_failure_after_the_first_output_leaves_no_output(run, small, out_dir):
    """kmeans writes the selection, then the centroid store; the centroids' directory vanishes in
    between only in a race, so the same failure is provoked with an output directory that is a file."""
    store, _ = small
    blocker = out_dir / "not-a-dir"
    blocker.write_text("x")
    before = file_digest(str(blocker))
    assert_error(run("select", store, "--method", "kmeans", "--budget", "3", "-o", str(out_dir / "s.sel.h5"),
                     "--centroids-out", str(blocker / "c.h5")), "not a directory")
    assert os.listdir(out_dir) == ["not-a-dir"]
    assert file_digest(str(blocker)) == before


def test_concurrent_runs_to_one_output_never_both_succeed(subset_bin, fixtures, tmp_path):
    """Two imports of a store big enough to overlap; without --force only one may win."""
    big = str(tmp_path / "big.npy")
    np.save(big, np.random.default_rng(0).normal(size=(200000, 20)).astype(np.float32))
    for trial in range(3):
        out = tmp_path / f"c{trial}.h5"
        procs = [subprocess.Popen([subset_bin, "import", big, "-o", str(out)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, stdin=subprocess.DEVNULL) for _ in range(2)]
        results = [(p.wait(timeout=120), p.stderr.read().decode()) for p in procs]
        codes = sorted(rc for rc, _ in results)
        assert codes == [0, 1], results
        loser = [err for rc, err in results if rc == 1][0]
        assert loser.count("\n") == 1 and ("another run" in loser or "already exists" in loser), loser
        with h5py.File(out, "r") as f:
            assert f["features"].shape == (200000, 20)
    assert_no_partials(str(tmp_path))


def test_output_path_too_long_is_named(run, small, tmp_path):
    store, _ = small
    long_name = str(tmp_path / ("x" * 300 + ".h5"))
    assert_error(run("select", store, "--method", "random", "--budget", "3", "-o", long_name), "too long")
    deep = str(tmp_path) + ("/" + "d" * 200) * 22
    assert_error(run("select", store, "--method", "random", "--budget", "3", "-o", deep + "/s.h5"), "too long")


# ---- a full disk ----------------------------------------------------------------------------------

@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MiB tmpfs (root only; skipped where mounting is not allowed)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                                           stderr=subprocess.DEVNULL).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)])


def fill(directory, leave_bytes):
    """Fills the filesystem of `directory` until about `leave_bytes` are free."""
    st = os.statvfs(directory)
    free = st.f_bavail * st.f_frsize
    with open(os.path.join(directory, "filler"), "wb") as f:
        f.write(b"\0" * max(0, free - leave_bytes))


@pytest.mark.parametrize("leave", [0, 4096, 16384, 65536])
def test_a_full_disk_is_one_line_and_leaves_nothing(run, small, tiny_disk, leave):
    store, _ = small
    fill(str(tiny_disk), leave)
    result = run("select", store, "--method", "random", "--budget", "8", "-o", str(tiny_disk / "s.sel.h5"),
                 "--indices-out", str(tiny_disk / "s.txt"))
    if result[0] == 0:  # it fitted: then both outputs are whole
        assert sorted(os.listdir(tiny_disk)) == ["filler", "s.sel.h5", "s.txt"]
        return
    assert_error(result)
    assert os.listdir(tiny_disk) == ["filler"]
    result = run("extract", store, "-s", small[1], "-o", str(tiny_disk / "e.h5"))
    if result[0] != 0:
        assert_error(result)
        assert os.listdir(tiny_disk) == ["filler"]

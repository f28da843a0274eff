"""`subset condense`: the output store's layout (read with h5py alone), 0 iterations giving the
initialisation, reproducibility, Ctrl-C leaving the output untouched and the checkpoint resumable to
exactly the uninterrupted result, and every bad input failing with one `error:` line, writing nothing
and leaving existing outputs as they were."""
import json
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_ok, file_digest

CLASSES, PER_CLASS, SIDE = 3, 12, 8
SENTINEL = b"pre-existing output: must survive a failed condense byte for byte\n"


def images(n_per_class, seed):
    """Class c is bright in row band c of an 8x8 image, plus noise; rows cycle through classes."""
    rs = np.random.RandomState(seed)
    n = CLASSES * n_per_class
    y = np.arange(n) % CLASSES
    x = 0.2 * rs.randn(n, SIDE, SIDE)
    for c in range(CLASSES):
        x[y == c, 2 * c:2 * c + 2, :] += 1.0
    return x.reshape(n, -1).astype(np.float32), y.astype(np.int64)


def write_store(path, image_shape=True, labels=True, per_class=PER_CLASS):
    x, y = images(per_class, 1)
    xt, yt = images(4, 2)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        d = f.create_dataset("features", data=x)
        if image_shape:
            d.attrs["image_shape"] = np.array([1, SIDE, SIDE], np.int64)
        if labels:
            f.create_dataset("labels", data=y).attrs["class_names"] = ["a", "b", "c"]
        f.create_dataset("test/features", data=xt)
        f.create_dataset("test/labels", data=yt)
    return str(path)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_store(tmp_path_factory.mktemp("condense") / "in.h5")


FAST = ["--ipc", "2", "--batch-real", "8", "--threads", "1"]


def read(path):
    with h5py.File(path, "r") as f:
        return {"x": f["features"][...], "y": f["labels"][...], "shape": list(f["features"].attrs["image_shape"]),
                "xt": f["test/features"][...], "yt": f["test/labels"][...],
                "names": [n.decode() if isinstance(n, bytes) else n for n in f["labels"].attrs["class_names"]],
                "record": json.loads(f.attrs["condensation"]), "energy": json.loads(f.attrs["energy"])}


@pytest.mark.parametrize("method", ["dm", "dc"])
def test_output_store_layout_and_record(run, store, out_dir, method):
    out = str(out_dir / "syn.h5")
    text = assert_ok(run("condense", store, "--method", method, "--iterations", "2", *FAST, "-o", out, timeout=120))
    assert "condensed" in text and "6 images" in text
    s = read(out)
    assert s["x"].shape == (6, SIDE * SIDE) and s["y"].tolist() == [0, 0, 1, 1, 2, 2]
    assert s["shape"] == [1, SIDE, SIDE] and s["names"] == ["a", "b", "c"]
    xt, yt = images(4, 2)
    assert np.array_equal(s["xt"], xt) and np.array_equal(s["yt"], yt)
    assert s["record"]["method"] == method and s["record"]["iterations_done"] == 2
    assert s["record"]["settings"]["ipc"] == 2 and s["record"]["settings"]["augment"] == ("dsa" if method == "dm" else "none")
    assert s["energy"]["kwh"] > 0
    assert not os.path.exists(out + ".checkpoint.h5")


def test_zero_iterations_give_real_images_of_each_class(run, store, out_dir):
    out = str(out_dir / "syn.h5")
    assert_ok(run("condense", store, "--iterations", "0", *FAST, "-o", out))
    s = read(out)
    x, y = images(PER_CLASS, 1)
    for row, label in zip(s["x"], s["y"]):
        match = np.where((x == row).all(axis=1))[0]
        assert len(match) == 1 and y[match[0]] == label


def test_same_seed_same_images_other_seed_other_images(run, store, out_dir):
    paths = [str(out_dir / f"s{i}.h5") for i in range(3)]
    for path, seed in zip(paths, ["4", "4", "5"]):
        assert_ok(run("condense", store, "--iterations", "2", "--seed", seed, *FAST, "-o", path, timeout=120))
    a, b, c = (read(p)["x"] for p in paths)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_ctrl_c_keeps_the_output_untouched_and_resume_finishes_exactly(run, subset_bin, store, out_dir):
    straight = str(out_dir / "straight.h5")
    args = ["--method", "dm", "--ipc", "2", "--batch-real", "12", "--seed", "3", "--threads", "1"]
    assert_ok(run("condense", store, "--iterations", "400", *args, "-o", straight, timeout=300))

    out = str(out_dir / "syn.h5")
    with open(out, "wb") as f:
        f.write(SENTINEL)
    before = file_digest(out)
    checkpoint = out + ".checkpoint.h5"
    proc = subprocess.Popen([subset_bin, "condense", store, "--iterations", "400", *args, "--checkpoint-every", "5",
                             "--force", "-o", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not os.path.exists(checkpoint) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "finished before a checkpoint could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert file_digest(out) == before
    with h5py.File(checkpoint, "r") as f:
        done = json.loads(f.attrs["stats"])["iterations_done"]
    assert 5 <= done < 400 and done % 5 == 0

    # Other settings: refused, naming what differs; the checkpoint stays.
    assert_error(run("condense", store, "--iterations", "400", *args[:-2], "--lr-img", "0.5", "--threads", "1",
                     "--resume", "--force", "-o", out), "other settings", "lr-img")
    assert_error(run("condense", store, "--iterations", "2", *args, "--resume", "--force", "-o", out), "beyond")
    text = assert_ok(run("condense", store, "--iterations", "400", *args, "--resume", "--force", "-o", out, timeout=300))
    assert f"resumed at {done}" in text
    assert np.array_equal(read(out)["x"], read(straight)["x"])
    assert read(out)["record"]["resumed_from"] == done
    assert not os.path.exists(checkpoint)


def test_progress_goes_to_stderr(run, store, out_dir):
    # The one progress rule (docs/cli.md): in a log, nothing for work done within the interval...
    rc, _, err = run("condense", store, "--iterations", "3", *FAST, "-o", str(out_dir / "o.h5"))
    assert rc == 0 and err == ""
    # ...and iteration lines once it runs longer than the interval (shortened here).
    rc, _, err = run("condense", store, "--iterations", "3", *FAST, "-o", str(out_dir / "p.h5"),
                     env=dict(os.environ, SUBSET_PROGRESS_INTERVAL="0.000001"))
    assert rc == 0
    assert "iteration" in err and "loss" in err and "elapsed" in err and "left" in err
    assert "\r" not in err
    rc, _, err = run("condense", store, "--iterations", "3", *FAST, "-q", "-o", str(out_dir / "q.h5"))
    assert rc == 0 and err == ""


@pytest.mark.parametrize("args,needles", [
    (["--ipc", "13"], ["ipc 13", "larger than class"]),
    (["--iterations", "-1"], ["iterations"]),
    (["--method", "kip"], ["method"]),
    (["--net", "resnet"], ["net"]),
    (["--augment", "mixup"], ["augment"]),
    (["--ipc", "0"], ["ipc"]),
    (["--lr-img", "0"], ["lr-img"]),
    (["--resume"], ["no checkpoint"]),
])
def test_bad_settings_fail_in_one_line_and_write_nothing(run, store, out_dir, args, needles):
    out = str(out_dir / "syn.h5")
    with open(out, "wb") as f:
        f.write(SENTINEL)
    before = file_digest(out)
    assert_error(run("condense", store, "--iterations", "1", "--batch-real", "8", *args, "--force", "-o", out), *needles)
    assert file_digest(out) == before


def test_bad_stores_fail_in_one_line(run, tmp_path, out_dir):
    no_labels = write_store(tmp_path / "nolabels.h5", labels=False)
    assert_error(run("condense", no_labels, "--iterations", "1", "-o", str(out_dir / "a.h5")), "no /labels")
    flat = write_store(tmp_path / "flat.h5", image_shape=False)
    assert_error(run("condense", flat, "--iterations", "1", "-o", str(out_dir / "b.h5")), "image_shape", "(--net)", "net mlp")
    assert_ok(run("condense", flat, "--iterations", "1", "--net", "mlp", "--augment", "none", *FAST,
                  "-o", str(out_dir / "c.h5")))
    assert_error(run("condense", str(tmp_path / "missing.h5"), "-o", str(out_dir / "d.h5")), "missing.h5")
    existing = str(out_dir / "e.h5")
    with open(existing, "wb") as f:
        f.write(SENTINEL)
    assert_error(run("condense", flat, "--net", "mlp", "-o", existing), "exists")


# ---- checkpoints: used only with --resume, replaced only with --force, trusted with nothing ------

def interrupted_checkpoint(subset_bin, store, out, args):
    """Starts a long condensation checkpointing every iteration and interrupts it once the first
    checkpoint is there; returns the checkpoint's path."""
    checkpoint = out + ".checkpoint.h5"
    proc = subprocess.Popen([subset_bin, "condense", store, "--iterations", "100000", *args, "--checkpoint-every", "2",
                             "-o", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not os.path.exists(checkpoint) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert os.path.exists(checkpoint) and not os.path.exists(out)
    return checkpoint


CKPT_ARGS = ["--method", "dm", "--ipc", "2", "--batch-real", "8", "--seed", "1", "--threads", "1"]


@pytest.fixture(scope="module")
def checkpoint(subset_bin, store, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("checkpoint") / "syn.h5")
    return interrupted_checkpoint(subset_bin, store, out, CKPT_ARGS)


def test_existing_checkpoint_needs_resume_or_force(run, store, out_dir):
    out = str(out_dir / "syn.h5")
    unrelated = out + ".checkpoint.h5"
    with open(unrelated, "wb") as f:
        f.write(SENTINEL)
    before = file_digest(unrelated)
    for extra in ([], ["--checkpoint-every", "1"]):
        assert_error(run("condense", store, "--iterations", "100000", *FAST, *extra, "-o", out, timeout=20),
                     "checkpoint.h5", "checkpoint exists", "--resume", "--force")
        assert file_digest(unrelated) == before and not os.path.exists(out)
    # Not a checkpoint: --resume says so and leaves it.
    assert_error(run("condense", store, "--iterations", "3", *FAST, "--resume", "-o", out), "checkpoint.h5")
    assert file_digest(unrelated) == before and not os.path.exists(out)
    # --force starts over and replaces it.
    assert_ok(run("condense", store, "--iterations", "2", *FAST, "--force", "-o", out, timeout=120))
    assert os.path.exists(out) and not os.path.exists(unrelated)


def test_checkpoint_that_is_the_store_is_refused_even_with_force(run, store, tmp_path):
    import shutil
    source = str(tmp_path / "in.h5")
    shutil.copyfile(store, source)
    out = str(tmp_path / "syn.h5")
    os.link(source, out + ".checkpoint.h5")
    before = file_digest(source)
    assert_error(run("condense", source, "--iterations", "2", *FAST, "--force", "-o", out), "input store")
    assert file_digest(source) == before and not os.path.exists(out)


def damaged(checkpoint, directory, change):
    import shutil
    out = str(directory / "syn.h5")
    path = out + ".checkpoint.h5"
    shutil.copyfile(checkpoint, path)
    with h5py.File(path, "r+") as f:
        change(f)
    return out, path


def set_stats(f, **values):
    stats = json.loads(f.attrs["stats"])
    stats.update(values)
    f.attrs["stats"] = json.dumps(stats)


def set_array(f, name, data):
    del f[name]
    f.create_dataset(name, data=np.asarray(data, np.float32))


def with_element(f, name, index, value):
    a = f[name][...]
    a.flat[index] = value
    set_array(f, name, a)


@pytest.mark.parametrize("case,needles", [
    ("nan_image", ["NaN"]),
    ("inf_momentum", ["Inf"]),
    ("label_99", ["label", "99"]),
    ("labels_not_class_major", ["label of row 1", "expected 0"]),
    ("negative_iterations", ["-5 iterations"]),
    ("fractional_iterations", ["iterations done"]),
    ("beyond_iterations", ["beyond --iterations"]),
    ("momentum_shape", ["momentum"]),
    ("more_images", ["holds 8 images", "expected 6"]),
    ("other_settings", ["other settings", "ipc"]),
    ("no_images", ["images"]),
])
def test_damaged_checkpoint_is_refused_before_any_work(run, store, checkpoint, out_dir, case, needles):
    dim = SIDE * SIDE
    change = {
        "nan_image": lambda f: with_element(f, "images", 5, np.nan),
        "inf_momentum": lambda f: with_element(f, "momentum", 7, np.inf),
        "label_99": lambda f: with_element(f, "labels", 5, 99),
        "labels_not_class_major": lambda f: set_array(f, "labels", [0, 1, 0, 1, 2, 2]),
        "negative_iterations": lambda f: set_stats(f, iterations_done=-5),
        "fractional_iterations": lambda f: set_stats(f, iterations_done=2.5),
        "beyond_iterations": lambda f: set_stats(f, iterations_done=10 ** 9),
        "momentum_shape": lambda f: set_array(f, "momentum", np.zeros((6, dim - 1))),
        "more_images": lambda f: (set_array(f, "images", np.zeros((8, dim))), set_array(f, "momentum", np.zeros((8, dim))),
                                  set_array(f, "labels", [0, 0, 1, 1, 2, 2, 3, 3]), f.attrs.modify("output_dim", 8)),
        "other_settings": lambda f: f.attrs.modify("params", json.dumps({**json.loads(f.attrs["params"]), "ipc": 3})),
        "no_images": lambda f: f.__delitem__("images"),
    }[case]
    out, path = damaged(checkpoint, out_dir, change)
    before = file_digest(path)
    # 100000 iterations would outlast the timeout: the checkpoint is refused before they start.
    assert_error(run("condense", store, "--iterations", "100000", *CKPT_ARGS, "--resume", "-o", out, timeout=20),
                 *needles)
    assert file_digest(path) == before and not os.path.exists(out)


def test_intact_checkpoint_resumes(run, store, checkpoint, out_dir):
    out, path = damaged(checkpoint, out_dir, lambda f: None)
    with h5py.File(path, "r") as f:
        done = json.loads(f.attrs["stats"])["iterations_done"]
    text = assert_ok(run("condense", store, "--iterations", str(done + 1), *CKPT_ARGS, "--resume", "-o", out,
                         timeout=120))
    assert f"resumed at {done}" in text
    assert read(out)["y"].tolist() == [0, 0, 1, 1, 2, 2]
    assert not os.path.exists(path)


@pytest.mark.parametrize("option,value", [("--outer-loop", "3"), ("--inner-loop", "2"), ("--lr-net", "0.1")])
def test_dc_options_are_refused_with_dm(run, store, out_dir, option, value):
    out = str(out_dir / "syn.h5")
    assert_error(run("condense", store, "--method", "dm", option, value, "--iterations", "100000", "-o", out,
                     timeout=20), f"({option})", "does not apply to method dm")
    assert not os.path.exists(out)
    # The default method is dm too.
    assert_error(run("condense", store, option, value, "-o", out, timeout=20), f"({option})",
                 "does not apply to method dm")


@pytest.mark.parametrize("option,value,needle", [
    ("--lr-img", "0", "must be a number in (0, inf), got '0'"),
    ("--lr-net", "-1", "must be a number in (0, inf)"),
    ("--ipc", "0", "must be an integer in [1, inf), got '0'"),
    ("--batch-real", "0", "must be an integer in [1, inf)"),
    ("--outer-loop", "0", "must be an integer in [1, inf)"),
    ("--inner-loop", "x", "must be an integer in [0, inf)"),
])
def test_numeric_options_print_their_range_readably(run, store, out_dir, option, value, needle):
    line = assert_error(run("condense", store, "--method", "dc", option, value, "-o", str(out_dir / "s.h5")), option,
                        needle)
    assert "179769" not in line and "not in range" not in line and len(line) < 200, line

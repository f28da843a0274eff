"""libsubset.evaluate and libsubset.condense against the CLI: the same job on the same seed gives the
CLI's accuracies (`subset evaluate --json`) and the CLI's synthetic images (`subset condense`), on the
tiny generated Fashion-MNIST store; progress reaches a Python callback; parameters come from the
schemas (help lists them, unknown or misapplied ones are ValueError); bad inputs, existing outputs
and Ctrl-C leave nothing behind."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest

import libsubset
from libsubset import _nn
from subset_testing import assert_ok, assert_no_partials, file_digest

needs_torch = pytest.mark.skipif(not libsubset.with_torch, reason="this build of libsubset has no libtorch")

TRAINING = dict(epochs=2, hidden=16, repeats=1, schedule="epochs", batch=8)
TRAINING_CLI = ["--epochs", "2", "--hidden", "16", "--repeats", "1", "--schedule", "epochs", "--batch", "8"]
CONDENSE = dict(method="dm", ipc=1, iterations=2, batch_real=2, net="mlp")
CONDENSE_CLI = ["--method", "dm", "--ipc", "1", "--iterations", "2", "--batch-real", "2", "--net", "mlp"]


@pytest.fixture(scope="module")
def setup(run, fixtures, tmp_path_factory):
    d = tmp_path_factory.mktemp("nn")
    store = str(d / "fm.h5")
    assert_ok(run("import", "fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "-o", store))
    selection = str(d / "random.sel.h5")
    assert_ok(run("select", store, "--method", "random", "--budget", "10", "--seed", "4", "-o", selection))
    return {"store": store, "selection": selection, "dir": d}


def test_public_names():
    assert libsubset.evaluate is _nn.evaluate
    assert libsubset.condense is _nn.condense


def test_help_lists_every_schema_parameter():
    schemas = libsubset._native.nn_schemas()
    for function, groups in ((_nn.evaluate, ("train", "evaluate")), (_nn.condense, ("condense",))):
        for group in groups:
            for p in schemas[group]:
                assert f"{p['name']}: " in function.__doc__, (function.__name__, p["name"])
    assert "lr_img" in _nn.condense.__doc__ and "weight_decay" in _nn.evaluate.__doc__


@needs_torch
def test_evaluate_gives_the_clis_accuracies(run, setup, tmp_path):
    rc, out, err = run("evaluate", setup["store"], "-s", setup["selection"], *TRAINING_CLI, "--seed", "3",
                       "--cache", tmp_path / "cli.json", "--threads", "1", "--json", timeout=300)
    assert rc == 0, err
    cli = json.loads(out)
    lines, counts = [], []

    def progress(done, total, message):
        (lines.append(message) if message is not None else counts.append((done, total)))

    py = _nn.evaluate(setup["store"], selection=setup["selection"], seed=3, cache=tmp_path / "py.json", threads=1,
                      progress=progress, **TRAINING)
    assert py["full"]["accuracies"] == cli["full"]["accuracies"]
    assert py["full"]["n"] == cli["full"]["n"] == 20
    assert [s["accuracies"] for s in py["selections"]] == [s["accuracies"] for s in cli["selections"]]
    assert py["selections"][0]["n"] == 10 and py["selections"][0]["method"] == "random"
    assert set(py) == set(cli)
    # The per-training lines and the count arrived on this thread. The count is the CLI's: every
    # epoch of every training weighted by its rows, 20 rows x 2 epochs (full) + 10 x 2 (the
    # selection) = 60 (hand-computed), never going back, ending at the total.
    assert any("training 1/1" in line for line in lines), lines
    assert counts and all(total == 60 for _, total in counts), counts
    assert [done for done, _ in counts] == sorted(done for done, _ in counts) and counts[-1] == (60, 60), counts
    assert os.path.exists(tmp_path / "py.json"), "the full-data figures are cached where cache= says"


@needs_torch
def test_evaluate_reuses_its_cache_and_no_cache_measures_again(setup, tmp_path):
    cache = tmp_path / "c.json"
    first = _nn.evaluate(setup["store"], seed=1, cache=cache, threads=1, **TRAINING)
    assert first["full"]["cached"] is False
    assert _nn.evaluate(setup["store"], seed=1, cache=cache, threads=1, **TRAINING)["full"]["cached"] is True
    assert _nn.evaluate(setup["store"], seed=1, cache=cache, no_cache=True, threads=1, **TRAINING)["full"]["cached"] is False


@needs_torch
def test_condense_gives_the_clis_images(run, setup, out_dir):
    cli_out = str(out_dir / "cli.h5")
    rc, out, err = run("condense", setup["store"], *CONDENSE_CLI, "--seed", "7", "-o", cli_out, "--threads", "1",
                       "--json", timeout=300)
    assert rc == 0, err
    cli = json.loads(out)
    lines = []
    py_out = out_dir / "py.h5"
    py = _nn.condense(setup["store"], py_out, seed=7, threads=1, progress=lambda d, t, m: lines.append(m), **CONDENSE)
    with h5py.File(cli_out, "r") as f:
        x, y = f["features"][...], f["labels"][...]
    assert np.array_equal(py["features"], x) and np.array_equal(py["labels"], y)
    with h5py.File(py_out, "r") as f:
        assert np.array_equal(f["features"][...], x)
        assert json.loads(f.attrs["condensation"])["settings"] == json.loads(h5py.File(cli_out, "r").attrs["condensation"])["settings"]
    for key in ("rows", "classes", "iterations_done", "final_loss", "settings"):
        assert py[key] == cli[key], key
    assert py["rows"] == 10 and py["features"].shape == (10, 784) and py["image_shape"] == (1, 28, 28)
    assert py["output"] == str(py_out) and py["energy"]["kwh"] > 0
    assert any(line for line in lines if line), "status lines reach the callback"


@needs_torch
def test_condense_to_arrays_only_leaves_nothing(setup, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    py = _nn.condense(setup["store"], seed=7, threads=1, **CONDENSE)
    assert py["output"] is None and py["features"].shape == (10, 784) and py["features"].dtype == np.float32
    assert sorted(py["labels"].tolist()) == list(range(10))
    assert os.listdir(tmp_path) == []


@needs_torch
@pytest.mark.parametrize("call, kwargs, needle", [
    ("evaluate", dict(no_such_option=1), "no_such_option"),
    ("evaluate", dict(model="linear", hidden=8), "does not apply to model linear"),
    ("evaluate", dict(epochs=0), "epochs"),
    ("evaluate", dict(repeats=0), "repeats"),
    ("evaluate", dict(seed=-1), "seed"),
    ("evaluate", dict(energy=False), "measures"),
    ("evaluate", dict(selection=5), "selection"),
    ("condense", dict(method="dm", outer_loop=2), "outer_loop"),
    ("condense", dict(method="xx"), "method"),
    ("condense", dict(ipc=0), "ipc"),
    ("condense", dict(lr_img=float("nan")), "lr_img"),
    ("condense", dict(resume=True), "output"),
])
def test_bad_parameters_are_value_errors(setup, tmp_path, call, kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        getattr(_nn, call)(setup["store"], threads=1, **kwargs)
    assert not [n for n in os.listdir(tmp_path) if n != "out"]


@needs_torch
def test_missing_store_and_bad_selection_are_os_errors(setup, tmp_path):
    with pytest.raises(FileNotFoundError):
        _nn.evaluate(tmp_path / "missing.h5", threads=1, **TRAINING)
    with pytest.raises(FileNotFoundError):
        _nn.evaluate(setup["store"], selection=tmp_path / "missing.sel.h5", threads=1, **TRAINING)
    with pytest.raises(FileNotFoundError):
        _nn.condense(tmp_path / "missing.h5", threads=1, **CONDENSE)


@needs_torch
def test_existing_output_is_refused_unless_force_and_input_is_never_the_output(setup, out_dir):
    out = out_dir / "syn.h5"
    out.write_bytes(b"precious")
    before = file_digest(str(out))
    with pytest.raises(FileExistsError):
        _nn.condense(setup["store"], out, threads=1, **CONDENSE)
    assert file_digest(str(out)) == before
    store_before = file_digest(setup["store"])
    with pytest.raises((OSError, ValueError, RuntimeError)):
        _nn.condense(setup["store"], setup["store"], force=True, threads=1, **CONDENSE)
    assert file_digest(setup["store"]) == store_before
    r = _nn.condense(setup["store"], out, force=True, threads=1, **CONDENSE)
    assert r["rows"] == 10 and h5py.is_hdf5(str(out))


@needs_torch
def test_progress_callback_exception_cancels_and_propagates(setup, out_dir):
    class Stop(Exception):
        pass

    def progress(done, total, message):
        raise Stop()

    out = out_dir / "syn.h5"
    with pytest.raises(Stop):
        _nn.condense(setup["store"], out, threads=1, progress=progress, **dict(CONDENSE, iterations=100000))
    assert not out.exists()


@needs_torch
def test_ctrl_c_raises_keyboard_interrupt_fast_and_leaves_no_file(setup, out_dir):
    out = out_dir / "syn.h5"
    script = textwrap.dedent(f"""
        import sys, time
        import libsubset._nn as nn
        started = []
        def progress(done, total, message):
            if message and not started:
                started.append(1)
                print("started", flush=True)
        try:
            nn.condense({setup['store']!r}, {str(out)!r}, threads=1, progress=progress, method="dm", ipc=1,
                        iterations=10**6, batch_real=2, net="mlp")
        except KeyboardInterrupt:
            print("interrupted", time.monotonic(), flush=True)
            sys.exit(3)
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "started", proc.stderr.read()
        time.sleep(0.3)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        line = proc.stdout.readline().split()
        assert proc.wait(timeout=10) == 3, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert line[0] == "interrupted" and float(line[1]) - sent < 1.0
    assert not out.exists()
    assert_no_partials(str(out_dir))


@pytest.mark.skipif(libsubset.with_torch, reason="this build has libtorch")
def test_without_torch_the_calls_say_so(tmp_path):
    for call in (_nn.evaluate, _nn.condense):
        with pytest.raises(RuntimeError, match="libtorch"):
            call(tmp_path / "x.h5")

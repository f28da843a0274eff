"""`subset evaluate`'s depth, dropout and weight-decay (issue 16): typed in --help, refused out of
range or for a model they do not apply to, recorded in --json, and part of the cache key."""
import json

from subset_testing import assert_error, assert_ok
from test_evaluate import write_store

TRAINING = ["--schedule", "epochs", "--epochs", "2", "--repeats", "1", "--batch", "64", "--threads", "1"]


def test_help_lists_the_tunables_with_their_types(run):
    out = assert_ok(run("evaluate", "--help"))
    assert "--depth INT in [1, inf)" in out
    assert "--dropout FLOAT in [0, 1)" in out
    assert "--weight-decay FLOAT in [0, inf)" in out
    assert "linear, mlp 0; convnet 0.0005" in out


def test_bad_values_and_wrong_models_are_refused(run, tmp_path):
    store = write_store(tmp_path / "s.h5")
    for args, name in ((["--depth", "0"], "--depth"), (["--dropout", "1"], "--dropout"),
                       (["--weight-decay", "-1"], "--weight-decay"),
                       (["--model", "linear", "--depth", "2"], "--depth"),
                       (["--model", "linear", "--dropout", "0.5"], "--dropout")):
        assert_error(run("evaluate", store, *TRAINING, *args, "--cache", str(tmp_path / "c.json")), name)


def test_json_records_them_and_the_cache_tells_them_apart(run, tmp_path):
    store = write_store(tmp_path / "s.h5")
    cache = str(tmp_path / "c.json")

    def evaluate(*args):
        return json.loads(assert_ok(run("evaluate", store, *TRAINING, "--cache", cache, "--json", *args, timeout=120)))

    first = evaluate()
    assert (first["depth"], first["dropout"], first["weight-decay"]) == (1, 0, 0)
    assert not first["full"]["cached"]
    for args in (["--depth", "2"], ["--dropout", "0.5"], ["--weight-decay", "0.01"]):
        r = evaluate(*args)
        assert not r["full"]["cached"], args
    # The defaults given explicitly are the same training: the first entry serves.
    again = evaluate("--depth", "1", "--dropout", "0", "--weight-decay", "0")
    assert again["full"]["cached"]
    assert again["full"]["accuracies"] == first["full"]["accuracies"]
    linear = evaluate("--model", "linear", "--weight-decay", "0.01")
    assert linear["weight-decay"] == 0.01 and "depth" not in linear

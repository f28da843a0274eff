"""The `subset` command line as a whole: help, version, global options and argument errors."""
import json
import re

import pytest

from subset_testing import assert_error, assert_ok


def test_help_lists_subcommands(run):
    rc, out, err = run("--help")
    assert rc == 0 and err == ""
    assert "Usage:" in out
    for word in ("import", "info", "--threads", "--version"):
        assert word in out


def test_short_help(run):
    rc, out, _ = run("-h")
    assert rc == 0 and "import" in out and "info" in out


@pytest.mark.parametrize("sub,options", [
    ("import", ["--output", "--force", "--labels", "--test-features", "--test-labels", "--label-column",
                "--delimiter", "--image-shape", "--class-names", "--compression", "--chunk-rows",
                "--dataset-dir", "--json"]),
    ("info", ["--json", "--check-values"]),
])
def test_subcommand_help(run, sub, options):
    rc, out, err = run(sub, "--help")
    assert rc == 0 and err == ""
    for opt in options:
        assert opt in out, f"{opt} missing from `subset {sub} --help`"


def test_version(run):
    rc, out, err = run("--version")
    assert rc == 0 and err == ""
    assert re.fullmatch(r"subset \d+\.\d+\.\d+\S*\n", out), repr(out)


def test_no_subcommand(run):
    assert_error(run(), "subcommand", code=2)


def test_unknown_subcommand(run):
    assert_error(run("frobnicate"), "frobnicate", code=2)
    assert_error(run("--threads", "1", "frobnicate", "x.h5"), "frobnicate", code=2)


@pytest.mark.parametrize("args,needle", [
    (["--frob", "info", "x.h5"], "--frob"),
    (["info", "x.h5", "--frob"], "--frob"),
    (["import", "x.npy", "-o", "y.h5", "--nope"], "--nope"),
    (["info", "a.h5", "b.h5"], "b.h5"),
])
def test_unknown_option_or_argument(run, args, needle):
    assert_error(run(*args), needle, code=2)


@pytest.mark.parametrize("args,needle", [(["info"], "file"), (["import", "x.npy"], "--output"),
                                         (["import", "-o", "y.h5"], "source")])
def test_missing_required_argument(run, args, needle):
    assert_error(run(*args), needle, code=2)


def test_option_missing_its_value(run):
    assert_error(run("info", "x.h5", "--threads"), code=2)
    assert_error(run("import", "x.npy", "-o"), code=2)


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "", "99999999999"])
def test_bad_threads(run, value):
    line = assert_error(run("--threads", value, "info", "x.h5"), "--threads", code=2)
    assert len(line) < 200, line


def test_threads_accepted(run, fixtures, out_dir):
    out = out_dir / "s.h5"
    assert_ok(run("--threads", "1", "import", fixtures["npy"]["features_f32"], "-o", out))
    for t in ("0", "2", "3"):
        j = json.loads(assert_ok(run("--threads", t, "info", out, "--json")))
        assert j["n"] == 20


def test_success_writes_nothing_on_stderr(run, fixtures, out_dir):
    out = out_dir / "s.h5"
    rc, _, err = run("import", fixtures["npy"]["features_f32"], "-o", out)
    assert rc == 0 and err == ""
    rc, _, err = run("info", out, "--json")
    assert rc == 0 and err == ""

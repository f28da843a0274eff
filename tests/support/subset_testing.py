"""Shared pytest plumbing for the CLI tests (tests/cli) and the Python interop tests (tests/python).

Both directories' conftest.py import everything from here. ctest runs each test file as
`/usr/bin/python3 -m pytest -q -p no:cacheprovider FILE` from the repository root with
SUBSET_BIN (the built `subset`) and SUBSET_SOURCE_DIR in the environment.
"""
import hashlib
import os
import re
import subprocess
import sys

import pytest

SOURCE_DIR = os.environ.get("SUBSET_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SOURCE_DIR, "datasets"))

import make_fixtures  # noqa: E402  (datasets/make_fixtures.py)

PARTIAL_RE = re.compile(r"^\..*\.partial-\d+(-\d+)?$")
REAL_FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def subset_binary():
    """Path of the built `subset`, or None when SUBSET_BIN is unset."""
    path = os.environ.get("SUBSET_BIN")
    if not path:
        return None
    return os.path.abspath(path)


def run_subset(binary, *args, timeout=60, **kwargs):
    """Runs `binary args...`; returns (returncode, stdout, stderr) as text."""
    proc = subprocess.run([binary, *[str(a) for a in args]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=timeout, **kwargs)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def assert_error(result, *needles, code=None):
    """A clean failure: positive non-zero exit (not a signal), stderr exactly one line
    `error: ...` containing every needle (case-insensitive), no stack trace or abort text."""
    rc, out, err = result
    assert rc != 0, f"expected failure, got rc=0\nstdout: {out}\nstderr: {err}"
    assert rc > 0, f"killed by signal {-rc} (crash or abort)\nstderr: {err}"
    if code is not None:
        assert rc == code, f"expected exit status {code}, got {rc}\nstderr: {err}"
    lines = err.splitlines()
    assert len(lines) == 1, f"stderr must be exactly one line, got {len(lines)}:\n{err}"
    assert err.endswith("\n"), f"stderr line must end with a newline: {err!r}"
    line = lines[0]
    assert line.startswith("error: "), f"stderr must start with 'error: ': {line!r}"
    for bad in ("terminate called", "what():", "Traceback", "Aborted", "core dumped", "HDF5-DIAG", "#000:"):
        assert bad not in line, f"stack trace or library dump in {line!r}"
    for needle in needles:
        assert str(needle).lower() in line.lower(), f"{needle!r} not named in {line!r}"
    return line


def assert_ok(result):
    rc, out, err = result
    assert rc == 0, f"rc={rc}\nstdout: {out}\nstderr: {err}"
    return out


def partial_files(directory):
    return sorted(n for n in os.listdir(directory) if PARTIAL_RE.match(n) or ".partial-" in n)


def assert_no_partials(directory):
    left = partial_files(directory)
    assert not left, f"temporary files left in {directory}: {left}"


def file_digest(path):
    with open(path, "rb") as f:
        data = f.read()
    st = os.stat(path)
    return hashlib.sha256(data).hexdigest(), len(data), st.st_mtime_ns, st.st_ino


# ---- fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def subset_bin():
    path = subset_binary()
    if path is None:
        pytest.skip("SUBSET_BIN is not set: point it at the built `subset` binary "
                    "(ctest sets it; by hand: SUBSET_BIN=build/tools/subset /usr/bin/python3 -m pytest tests/cli)")
    assert os.path.isfile(path) and os.access(path, os.X_OK), f"SUBSET_BIN={path} is not an executable file"
    return path


@pytest.fixture(scope="session")
def run(subset_bin):
    """run(*args, timeout=60, **subprocess kwargs) -> (returncode, stdout, stderr)."""
    def _run(*args, **kwargs):
        return run_subset(subset_bin, *args, **kwargs)
    return _run


@pytest.fixture(scope="session")
def fixtures(tmp_path_factory):
    """Every fixture of datasets/make_fixtures.py, generated once per session (treat as read-only)."""
    return make_fixtures.make_all(str(tmp_path_factory.mktemp("fixtures")))


@pytest.fixture
def out_dir(tmp_path):
    """An empty directory for outputs; the test fails if a temporary `.NAME.partial-PID` is left."""
    d = tmp_path / "out"
    d.mkdir()
    yield d
    assert_no_partials(str(d))


@pytest.fixture(scope="session")
def source_dir():
    return SOURCE_DIR

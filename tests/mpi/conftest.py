# The MPI tests: the `subset` built with SUBSET_WITH_MPI (SUBSET_MPI_BIN) under mpirun, against the
# same binary in one process and against the default build (SUBSET_BIN). Fixtures shared with the
# other suites live in tests/support/subset_testing.py, helpers for mpirun in mpi_testing.py.
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))

from subset_testing import out_dir, run, source_dir, subset_bin  # noqa: E402,F401
from mpi_testing import make_store, make_wide_store  # noqa: E402


@pytest.fixture(scope="session")
def mpi_bin():
    path = os.environ.get("SUBSET_MPI_BIN")
    if not path:
        pytest.skip("SUBSET_MPI_BIN is not set: ctest's `mpi:` test builds it (SUBSET_WITH_MPI=ON) and sets it")
    assert os.access(path, os.X_OK), f"SUBSET_MPI_BIN={path} is not an executable"
    return path


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    """6000 x 24 rows in 9 clusters, chunks of 128 rows, with exact duplicates."""
    return make_store(tmp_path_factory.mktemp("mpi") / "store.h5")


@pytest.fixture(scope="session")
def wide_store(tmp_path_factory):
    return make_wide_store(tmp_path_factory.mktemp("mpi-wide") / "wide.h5")

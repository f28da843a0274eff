# The MPI tests: the `subset` built with SUBSET_WITH_MPI (SUBSET_MPI_BIN) under mpirun, against the
# same binary in one process and against the default build (SUBSET_BIN). Shared fixtures live in
# tests/support/subset_testing.py.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))

from subset_testing import out_dir, run, source_dir, subset_bin  # noqa: E402,F401

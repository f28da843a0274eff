"""`mpirun -np N subset info|extract` (issue 18, part 2): the output of one process."""
import numpy as np

from mpi_testing import mpirun, read_datasets
from subset_testing import assert_ok, run_subset


def test_info_and_extract_under_mpirun_match_one_process(mpi_bin, store, out_dir):
    alone = assert_ok(run_subset(mpi_bin, "info", store))
    assert assert_ok(mpirun(2, mpi_bin, "info", store)) == alone
    sel = out_dir / "sel.h5"
    assert_ok(run_subset(mpi_bin, "select", store, "-m", "kcenter", "--budget", "50", "-o", sel))
    one, ranks = out_dir / "extract-one.h5", out_dir / "extract-ranks.h5"
    assert_ok(run_subset(mpi_bin, "extract", store, "--selection", sel, "-o", one))
    assert_ok(mpirun(3, mpi_bin, "extract", store, "--selection", sel, "-o", ranks))
    a, b = read_datasets(one), read_datasets(ranks)
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name

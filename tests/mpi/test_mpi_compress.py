"""`mpirun -np N subset compress` (issue 18, part 2): the outputs of one process, with the PCA fit
shared by the ranks and every rank's energy kept."""
import json

import h5py
import numpy as np
import pytest

from mpi_testing import mpirun, read_datasets
from subset_testing import assert_ok, run_subset


@pytest.mark.parametrize("options", [["--method", "pca", "--dim", "8", "--solver", "exact"],
                                     ["--method", "pca", "--dim", "8", "--solver", "randomized"],
                                     ["--method", "pca", "--variance", "0.9"],
                                     ["--method", "sparse-rp", "--dim", "16"]],
                         ids=["pca-exact", "pca-randomized", "pca-variance", "sparse-rp"])
def test_compress_on_ranks_equals_one_process(mpi_bin, wide_store, out_dir, options):
    one, ranks = out_dir / "one.h5", out_dir / "ranks.h5"
    model_one, model_ranks = out_dir / "one-model.h5", out_dir / "ranks-model.h5"
    assert_ok(run_subset(mpi_bin, "compress", wide_store, *options, "-o", one, "--model-out", model_one))
    assert_ok(mpirun(3, mpi_bin, "compress", wide_store, *options, "-o", ranks, "--model-out", model_ranks))
    for a_path, b_path in ((one, ranks), (model_one, model_ranks)):
        a, b = read_datasets(a_path), read_datasets(b_path)
        assert a.keys() == b.keys()
        for name in a:
            assert np.array_equal(a[name], b[name]), (a_path.name, name)
    # Every rank's energy is kept with the model, their sum is the job's.
    with h5py.File(model_ranks, "r") as f:
        stats, energy = json.loads(f.attrs["stats"]), json.loads(f.attrs["energy"])
    assert stats["ranks"] == 3 and len(stats["energy_by_rank"]) == 3
    assert energy["joules"] == pytest.approx(sum(r["joules"] for r in stats["energy_by_rank"]))


def test_compress_of_one_block_on_more_ranks_than_stripes(mpi_bin, store, out_dir):
    # 6000 x 24 rows are one fit block: ranks 1 and 2 have no stripe to sum, only the total to pass on.
    one, ranks = out_dir / "one.h5", out_dir / "ranks.h5"
    assert_ok(run_subset(mpi_bin, "compress", store, "--method", "pca", "--dim", "6", "-o", one))
    assert_ok(mpirun(3, mpi_bin, "compress", store, "--method", "pca", "--dim", "6", "-o", ranks))
    a, b = read_datasets(one), read_datasets(ranks)
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name

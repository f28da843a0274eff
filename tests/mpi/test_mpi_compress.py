"""`mpirun -np N subset compress` (issue 18, part 2): the outputs of one process, with the PCA fit
and the apply pass (every rank transforms its share of each split's blocks, rank 0 writes them all)
shared by the ranks and every rank's energy kept."""
import json

import h5py
import numpy as np
import pytest

from mpi_testing import mpirun, read_datasets
from subset_testing import assert_error, assert_no_partials, assert_ok, run_subset

# What differs between runs, or between one process and ranks, by design: who made the file, the
# energy it cost, the time it took, how many ranks ran it.
VOLATILE_ATTRS = {"created_by", "energy", "timings"}
VOLATILE_STATS = {"fit_seconds", "ranks", "energy_by_rank"}


def contents(path):
    """Every dataset (any depth) and every attribute of the file, the volatile ones left out."""
    found = {}

    def attrs_of(name, obj):
        for key, value in obj.attrs.items():
            if key in VOLATILE_ATTRS:
                continue
            if key in ("transform", "stats"):  # JSON records holding the run's stats
                record = json.loads(value)
                stats = record.get("stats", record) if key == "transform" else record
                for volatile in VOLATILE_STATS:
                    stats.pop(volatile, None)
                record.pop("model", None)  # the model file's path, which the tests name apart
                value = json.dumps(record, sort_keys=True)
            found[f"{name}@{key}"] = value

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            found[name] = (obj.dtype.str, obj[()])
        attrs_of(name, obj)

    with h5py.File(path, "r") as f:
        attrs_of("/", f)
        f.visititems(visit)
    return found


def assert_same_file(a_path, b_path):
    a, b = contents(a_path), contents(b_path)
    assert a.keys() == b.keys(), (a_path, sorted(a.keys() ^ b.keys()))
    for name in a:
        if isinstance(a[name], tuple):
            assert a[name][0] == b[name][0], (name, a[name][0], b[name][0])
            assert np.array_equal(a[name][1], b[name][1]), (a_path.name, name)
        else:
            assert np.array_equal(a[name], b[name]), (a_path.name, name, a[name], b[name])


def printed_figures(stdout):
    """The reconstruction figures `--json` prints."""
    stats = json.loads(stdout)["stats"]
    return {k: v for k, v in stats.items() if k.endswith("mse")}


@pytest.mark.parametrize("options", [["--method", "pca", "--dim", "8", "--solver", "exact"],
                                     ["--method", "pca", "--dim", "8", "--solver", "randomized"],
                                     ["--method", "pca", "--variance", "0.9"],
                                     ["--method", "sparse-rp", "--dim", "16"]],
                         ids=["pca-exact", "pca-randomized", "pca-variance", "sparse-rp"])
def test_compress_on_ranks_equals_one_process(mpi_bin, wide_store, out_dir, options):
    one, ranks = out_dir / "one.h5", out_dir / "ranks.h5"
    model_one, model_ranks = out_dir / "one-model.h5", out_dir / "ranks-model.h5"
    printed_one = assert_ok(run_subset(mpi_bin, "compress", wide_store, *options, "-o", one, "--model-out", model_one,
                                       "--json", timeout=300))
    printed_ranks = assert_ok(mpirun(3, mpi_bin, "compress", wide_store, *options, "-o", ranks,
                                     "--model-out", model_ranks, "--json"))
    for a_path, b_path in ((one, ranks), (model_one, model_ranks)):
        assert_same_file(a_path, b_path)
    assert printed_figures(printed_one) == printed_figures(printed_ranks)
    # Every rank's energy is kept with the model, their sum is the job's.
    with h5py.File(model_ranks, "r") as f:
        stats, energy = json.loads(f.attrs["stats"]), json.loads(f.attrs["energy"])
    assert stats["ranks"] == 3 and len(stats["energy_by_rank"]) == 3
    assert energy["joules"] == pytest.approx(sum(r["joules"] for r in stats["energy_by_rank"]))


def test_compress_of_one_block_on_more_ranks_than_stripes(mpi_bin, store, out_dir):
    # 6000 x 24 rows are one fit block and one apply block: ranks 1 and 2 have no stripe to sum,
    # only the total to pass on, and no block to transform.
    one, ranks = out_dir / "one.h5", out_dir / "ranks.h5"
    assert_ok(run_subset(mpi_bin, "compress", store, "--method", "pca", "--dim", "6", "-o", one))
    assert_ok(mpirun(3, mpi_bin, "compress", store, "--method", "pca", "--dim", "6", "-o", ranks))
    a, b = read_datasets(one), read_datasets(ranks)
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    assert_same_file(one, ranks)


TRAIN_N, TEST_N, WIDE = 40_000, 20_000, 256


def make_split_store(path, nan_at=None):
    """Train and test splits of 256 features in chunks of 1024 rows: the apply pass reads 16 MiB
    blocks (16384 rows), so the training split is 3 blocks and the test split 2, both uneven: on 3
    ranks one rank has no test block. `nan_at`: (dataset, row) made NaN."""
    rng = np.random.RandomState(7)
    basis = rng.normal(size=(10, WIDE)).astype(np.float32)

    def rows(n):
        return (rng.normal(size=(n, 10)).astype(np.float32) @ basis
                + 0.2 * rng.normal(size=(n, WIDE)).astype(np.float32) - 1.0).astype(np.float32)

    x, xt = rows(TRAIN_N), rows(TEST_N)
    if nan_at is not None:
        (x if nan_at[0] == "features" else xt)[nan_at[1], 3] = np.nan
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=x, chunks=(1024, WIDE))
        f.create_dataset("labels", data=rng.randint(0, 3, TRAIN_N).astype(np.int64)).attrs["class_names"] = ["a", "b", "c"]
        f.create_dataset("test/features", data=xt, chunks=(1024, WIDE))
        f.create_dataset("test/labels", data=rng.randint(0, 3, TEST_N).astype(np.int64))
    return str(path)


@pytest.fixture(scope="module")
def split_store(tmp_path_factory):
    return make_split_store(tmp_path_factory.mktemp("mpi-split") / "split.h5")


METHODS = {"pca": ["--method", "pca", "--dim", "12", "--solver", "exact"],
           "gaussian-rp": ["--method", "gaussian-rp", "--dim", "20"],
           "sparse-rp": ["--method", "sparse-rp", "--dim", "20", "--seed", "5"]}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, mpi_bin, split_store):
    """Per method, the one-process output, model file and printed figures on the split store."""
    d = tmp_path_factory.mktemp("mpi-split-one")
    found = {}
    for method, options in METHODS.items():
        out, model = d / f"{method}.h5", d / f"{method}-model.h5"
        printed = assert_ok(run_subset(mpi_bin, "compress", split_store, *options, "-o", out, "--model-out", model,
                                       "--json", timeout=120))
        found[method] = (out, model, printed)
    return found


@pytest.mark.parametrize("ranks", [2, 3])
@pytest.mark.parametrize("method", list(METHODS))
def test_a_store_with_a_test_split_on_ranks_equals_one_process(mpi_bin, split_store, fitted, out_dir, method, ranks):
    one, model_one, printed_one = fitted[method]
    out, model = out_dir / "ranks.h5", out_dir / "ranks-model.h5"
    printed = assert_ok(mpirun(ranks, mpi_bin, "compress", split_store, *METHODS[method], "-o", out,
                               "--model-out", model, "--json"))
    assert_same_file(one, out)
    assert_same_file(model_one, model)
    assert printed_figures(printed) == printed_figures(printed_one)
    if method == "pca":
        assert set(printed_figures(printed)) == {"train_mse", "train_baseline_mse", "test_mse", "test_baseline_mse"}
    with h5py.File(out, "r") as f:
        assert f["test/features"].shape == (TEST_N, int(METHODS[method][3]))


@pytest.mark.parametrize("ranks", [2, 3])
@pytest.mark.parametrize("method", ["pca", "sparse-rp"])
def test_applying_a_model_on_ranks_equals_one_process(mpi_bin, split_store, fitted, out_dir, method, ranks):
    _, model, _ = fitted[method]
    one, out = out_dir / "one.h5", out_dir / "ranks.h5"
    printed_one = assert_ok(run_subset(mpi_bin, "compress", split_store, "--apply", model, "-o", one, "--json",
                                       timeout=120))
    printed = assert_ok(mpirun(ranks, mpi_bin, "compress", split_store, "--apply", model, "-o", out, "--json"))
    assert_same_file(one, out)
    assert printed_figures(printed) == printed_figures(printed_one)
    # And applying the model gives the fitted output's codes.
    assert np.array_equal(read_datasets(out)["features"], read_datasets(fitted[method][0])["features"])


@pytest.mark.parametrize("where", [("features", TRAIN_N - 3), ("test/features", TEST_N - 2)],
                         ids=["train", "test"])
@pytest.mark.parametrize("phase", ["fit", "apply"])
def test_a_nan_in_the_last_ranks_rows_fails_as_one_process_does(mpi_bin, fitted, tmp_path, out_dir, where, phase):
    # The NaN is in the last block of its split, which the last rank transforms; rank 0 reports it
    # when it comes to that block, with the one process's line, and writes nothing.
    bad = make_split_store(tmp_path / "bad.h5", nan_at=where)
    options = ["--method", "sparse-rp", "--dim", "20"] if phase == "fit" else ["--apply", fitted["pca"][1]]
    out = out_dir / "out.h5"
    line = assert_error(run_subset(mpi_bin, "compress", bad, *options, "-o", out, timeout=120), "NaN", where[1])
    assert not out.exists()
    for ranks in (2, 3):
        assert assert_error(mpirun(ranks, mpi_bin, "compress", bad, *options, "-o", out)) == line
        assert not out.exists()
        assert_no_partials(out_dir)
    # An existing output is kept.
    out.write_bytes(b"precious")
    assert assert_error(mpirun(3, mpi_bin, "compress", bad, *options, "-o", out, "--force")) == line
    assert out.read_bytes() == b"precious"
    assert_no_partials(out_dir)


@pytest.mark.parametrize("ranks", [2, 3])
def test_the_autoencoder_on_ranks_equals_one_process(mpi_bin, split_store, out_dir, ranks):
    # Rank 0 fits it alone (no pass to share), the others load it from rank 0 and transform their
    # blocks: the one-process store and model bit for bit.
    options = ["--method", "autoencoder", "--dim", "4", "--epochs", "2", "--seed", "1"]
    one, model_one = out_dir / "one.h5", out_dir / "one-model.h5"
    printed_one = assert_ok(run_subset(mpi_bin, "compress", split_store, *options, "-o", one, "--model-out", model_one,
                                       "--json", timeout=300))
    out, model = out_dir / "ranks.h5", out_dir / "ranks-model.h5"
    printed = assert_ok(mpirun(ranks, mpi_bin, "compress", split_store, *options, "-o", out, "--model-out", model,
                               "--json"))
    assert_same_file(one, out)
    assert_same_file(model_one, model)
    assert printed_figures(printed) == printed_figures(printed_one)

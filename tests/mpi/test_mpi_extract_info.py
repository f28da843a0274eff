"""`mpirun -np N subset extract|info` (issue 18, part 2): the ranks share the reading, and the result
is the one process's: every dataset and attribute of the extracted store but its creator and
energy, and the same text, JSON or one-line error from info."""
import h5py
import numpy as np
import pytest

from mpi_testing import N, make_store, mpirun, read_datasets
from subset_testing import assert_error, assert_no_partials, assert_ok, file_digest, run_subset


def contents(path):
    """Every dataset and attribute of the file by name, but the writer's creator and energy."""
    found = {}
    with h5py.File(path, "r") as f:
        def add(name, obj):
            for key, value in obj.attrs.items():
                found[f"{name}@{key}"] = value
            if isinstance(obj, h5py.Dataset):
                found[name] = obj[()]
        add("/", f)
        f.visititems(add)
    for key in ("/@created_by", "/@energy"):
        found.pop(key, None)
    return found


def assert_same_store(got, want):
    a, b = contents(want), contents(got)
    assert a.keys() == b.keys()
    assert "features" in a and "labels" in a
    for name in a:
        assert np.array_equal(np.asarray(a[name]), np.asarray(b[name])), name


def selection(binary, store, path, *method):
    assert_ok(run_subset(binary, "select", store, *method, "-o", path, timeout=300))
    return path


@pytest.mark.parametrize("fixture,method", [
    ("store", ["-m", "kcenter", "--budget", "50"]),
    ("store", ["-m", "random", "--fraction", "0.3"]),
    # 200,000 x 256 in blocks of 32 MiB: several blocks per rank, and the half of the rows that
    # random picks (100 MB) crosses several windows inside each rank's share.
    ("wide_store", ["-m", "kcenter", "--budget", "20"]),
    ("wide_store", ["-m", "random", "--fraction", "0.5"]),
])
def test_extract_on_ranks_writes_the_one_process_store(mpi_bin, request, out_dir, fixture, method):
    store = request.getfixturevalue(fixture)
    sel = selection(mpi_bin, store, out_dir / "sel.h5", *method)
    one = out_dir / "one.h5"
    alone = assert_ok(run_subset(mpi_bin, "extract", store, "--selection", sel, "-o", one, timeout=300))
    for ranks in (2, 3):
        out = out_dir / f"ranks{ranks}.h5"
        printed = assert_ok(mpirun(ranks, mpi_bin, "extract", store, "--selection", sel, "-o", out))
        assert_same_store(out, one)
        assert len(printed.splitlines()) == len(alone.splitlines())  # rank 0 alone reports
    assert_no_partials(out_dir)


def test_extract_out_of_core_on_ranks_writes_the_same_store(mpi_bin, wide_store, out_dir):
    sel = selection(mpi_bin, wide_store, out_dir / "sel.h5", "-m", "random", "--fraction", "0.5")
    one = out_dir / "one.h5"
    assert_ok(run_subset(mpi_bin, "extract", wide_store, "--selection", sel, "-o", one, timeout=300))
    # The 100 MB of selected rows do not fit: rank 0 gathers them into the rows file.
    out = out_dir / "ranks.h5"
    assert_ok(mpirun(3, mpi_bin, "extract", wide_store, "--selection", sel, "-o", out, "--memory-limit", "130M"))
    assert_same_store(out, one)
    assert sorted(p.name for p in out_dir.iterdir()) == ["one.h5", "ranks.h5", "sel.h5"]


def test_extract_on_ranks_keeps_the_test_split_and_weights(mpi_bin, tmp_path, out_dir):
    store = tmp_path / "split.h5"
    rng = np.random.RandomState(8)
    with h5py.File(store, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=rng.normal(size=(3000, 10)).astype(np.float32), chunks=(64, 10))
        f.create_dataset("labels", data=rng.randint(0, 3, 3000).astype(np.int64))
        f.create_dataset("test/features", data=rng.normal(size=(40, 10)).astype(np.float32))
        f.create_dataset("test/labels", data=rng.randint(0, 3, 40).astype(np.int64))
    sel = selection(mpi_bin, store, out_dir / "sel.h5", "-m", "kmeans", "--budget", "12")
    assert "weights" in read_datasets(sel)
    one = out_dir / "one.h5"
    assert_ok(run_subset(mpi_bin, "extract", store, "--selection", sel, "-o", one))
    out = out_dir / "ranks.h5"
    assert_ok(mpirun(3, mpi_bin, "extract", store, "--selection", sel, "-o", out))
    assert_same_store(out, one)
    assert "test/features" in contents(out) and "weights" in contents(out)


@pytest.mark.parametrize("force", [False, True])
def test_extract_on_ranks_leaves_an_existing_output_when_the_selection_is_another_stores(
        mpi_bin, store, tmp_path, out_dir, force):
    other = make_store(tmp_path / "other.h5")
    with h5py.File(other, "r+") as f:
        f["features"][0, 0] += 1.0  # the same shape, other values: another feature checksum
    sel = selection(mpi_bin, other, tmp_path / "sel.h5", "-m", "kcenter", "--budget", "10")
    out = out_dir / "small.h5"
    out.write_bytes(b"an earlier extract")
    before = file_digest(out)
    args = ["extract", store, "--selection", sel, "-o", out] + (["--force"] if force else [])
    alone = assert_error(run_subset(mpi_bin, *args), "selection was made from another store")
    for ranks in (2, 3):
        rc, stdout, stderr = mpirun(ranks, mpi_bin, *args)
        assert assert_error((rc, stdout, stderr)) == alone
        assert file_digest(out) == before
    assert sorted(p.name for p in out_dir.iterdir()) == ["small.h5"]


def test_extract_on_ranks_refuses_an_existing_output_once(mpi_bin, store, tmp_path, out_dir):
    sel = selection(mpi_bin, store, tmp_path / "sel.h5", "-m", "kcenter", "--budget", "10")
    out = out_dir / "small.h5"
    out.write_bytes(b"an earlier extract")
    before = file_digest(out)
    alone = assert_error(run_subset(mpi_bin, "extract", store, "--selection", sel, "-o", out), "exists")
    assert assert_error(mpirun(3, mpi_bin, "extract", store, "--selection", sel, "-o", out)) == alone
    assert file_digest(out) == before


@pytest.fixture(scope="module")
def bad_stores(tmp_path_factory):
    """A NaN in the last row (the last rank's share at any rank count), and an Inf in the last row
    of a test split."""
    folder = tmp_path_factory.mktemp("mpi-bad")
    nan = make_store(folder / "nan.h5", nan_row=N - 1)
    inf = make_store(folder / "inf.h5")
    with h5py.File(inf, "r+") as f:
        test = np.ones((30, f["features"].shape[1]), np.float32)
        test[-1, 3] = np.inf
        f.create_dataset("test/features", data=test, chunks=(8, test.shape[1]))
    return {"nan": nan, "inf": inf}


@pytest.mark.parametrize("args", [[], ["--json"], ["--check-values"], ["--check-values", "--json"]])
def test_info_on_ranks_prints_what_one_process_prints(mpi_bin, store, wide_store, bad_stores, args):
    for path in (store, wide_store, bad_stores["nan"], bad_stores["inf"]):
        alone = run_subset(mpi_bin, "info", path, *args)
        if "--check-values" in args and path in bad_stores.values():
            where = ":/features" if path == bad_stores["nan"] else ":/test/features"
            assert_error(alone, "NaN or Inf in features at row", where)
        else:
            assert_ok(alone)
        for ranks in (2, 3):
            assert mpirun(ranks, mpi_bin, "info", path, *args) == alone, (path, ranks)


def test_info_on_ranks_with_a_selection_and_its_store(mpi_bin, store, tmp_path):
    sel = selection(mpi_bin, store, tmp_path / "sel.h5", "-m", "kcenter", "--budget", "10")
    for args in (["--check-values", "--store", store, "--json"], ["--store", store]):
        alone = assert_ok(run_subset(mpi_bin, "info", sel, *args))
        assert mpirun(3, mpi_bin, "info", sel, *args) == (0, alone, "")

"""libsubset.torch: Subset and WeightedRandomSampler from selections, torch imported only when used,
and the Fashion-MNIST store's row order against torchvision's."""
import gzip
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from subset_testing import REAL_FASHION_DIR, assert_ok

libsubset = pytest.importorskip("libsubset")
torch = pytest.importorskip("torch")
lt = libsubset.torch


def child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.environ.get("SUBSET_PYTHON_PACKAGE", "")] + sys.path if p)
    return env


def test_import_libsubset_does_not_import_torch():
    code = (
        "import sys, numpy as np\n"
        "import libsubset\n"
        "assert 'torch' not in sys.modules, 'import libsubset imported torch'\n"
        "module = libsubset.torch\n"
        "assert 'torch' not in sys.modules, 'libsubset.torch imported torch before use'\n"
        "s = module.subset(list(range(10)), np.array([3, 1]))\n"
        "assert 'torch' in sys.modules and type(s).__name__ == 'Subset'\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=child_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


class Rows(torch.utils.data.Dataset):
    """A map-style dataset of (row, label) pairs."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return torch.from_numpy(self.X[i]), int(self.y[i])


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(5)
    X = rng.standard_normal((200, 4)).astype(np.float32)
    y = rng.randint(0, 3, size=200)
    return X, y


def test_subset_of_a_selection_path_and_array(data, tmp_path):
    X, y = data
    dataset = Rows(X, y)
    sel = libsubset.select(X, y, method="kmeans", budget=12, seed=1, energy=False)
    sub = lt.subset(dataset, sel)
    assert isinstance(sub, torch.utils.data.Subset) and sub.dataset is dataset
    assert list(sub.indices) == sel.indices.tolist()
    assert len(sub) == 12
    for pos in (0, 5, 11):
        x, label = sub[pos]
        assert np.array_equal(x.numpy(), X[sel.indices[pos]]) and label == y[sel.indices[pos]]
    path = tmp_path / "sel.h5"
    sel.save(path)
    assert list(lt.subset(dataset, path).indices) == sel.indices.tolist()
    assert list(lt.subset(dataset, str(path)).indices) == sel.indices.tolist()
    assert list(lt.subset(dataset, [4, 2, 9]).indices) == [4, 2, 9]
    assert list(lt.subset(dataset, torch.tensor([7, 0])).indices) == [7, 0]
    with pytest.raises(ValueError, match="out of range"):
        lt.subset(dataset, [0, 200])
    with pytest.raises(ValueError):
        lt.subset(dataset, [-1, 2])
    with pytest.raises(ValueError):
        lt.subset(dataset, np.array([0.5, 1.5]))
    with pytest.raises(ValueError):
        lt.subset(dataset, np.zeros((2, 2), dtype=np.int64))


def test_weighted_sampler_uses_the_selection_weights(data):
    X, y = data
    sel = libsubset.select(X, y, method="kmeans", budget=6, seed=2, energy=False)
    assert sel.weights is not None and sel.weights.sum() == pytest.approx(200)
    sampler = lt.weighted_sampler(sel)
    assert isinstance(sampler, torch.utils.data.WeightedRandomSampler)
    assert np.allclose(sampler.weights.numpy(), sel.weights)
    assert sampler.num_samples == 6 and sampler.replacement
    # Positions in the subset, drawn in proportion to the weights (a 20000-draw frequency check).
    draws = np.array(list(lt.weighted_sampler(sel, num_samples=20000, generator=torch.Generator().manual_seed(0))))
    assert draws.min() >= 0 and draws.max() < 6
    freq = np.bincount(draws, minlength=6) / len(draws)
    expected = sel.weights / sel.weights.sum()
    assert np.allclose(freq, expected, atol=0.02), (freq, expected)
    # Same generator seed, same draws.
    a = list(lt.weighted_sampler(sel, 50, generator=torch.Generator().manual_seed(3)))
    b = list(lt.weighted_sampler(sel, 50, generator=torch.Generator().manual_seed(3)))
    assert a == b
    no_repeat = list(lt.weighted_sampler(sel, num_samples=6, replacement=False))
    assert sorted(no_repeat) == list(range(6))
    # With the Subset, the loader sees only selected rows.
    loader = torch.utils.data.DataLoader(lt.subset(Rows(X, y), sel), batch_size=4, sampler=lt.weighted_sampler(sel, 40))
    rows = torch.cat([xb for xb, _ in loader]).numpy()
    assert rows.shape == (40, 4)
    assert all(any(np.array_equal(r, X[i]) for i in sel.indices) for r in rows)


def test_weighted_sampler_uniform_without_weights(data):
    X, y = data
    sel = libsubset.select(X, y, method="random", budget=8, seed=0, energy=False)
    assert sel.weights is None
    sampler = lt.weighted_sampler(sel)
    assert np.array_equal(sampler.weights.numpy(), np.ones(8)) and sampler.num_samples == 8
    assert np.array_equal(lt.weighted_sampler([5, 9, 1]).weights.numpy(), np.ones(3))
    with pytest.raises(ValueError, match="empty"):
        lt.weighted_sampler([])


# ---- row order of the Fashion-MNIST store against torchvision -----------------------------------

needs_fashion = pytest.mark.skipif(not os.path.isdir(REAL_FASHION_DIR), reason="Fashion-MNIST is not installed")


@pytest.fixture(scope="module")
def fashion_store(run, tmp_path_factory):
    """The real Fashion-MNIST imported by the CLI."""
    path = tmp_path_factory.mktemp("fmnist") / "fmnist.h5"
    assert_ok(run("import", "fashion-mnist", "-o", path, timeout=300))
    return path


@needs_fashion
def test_fashion_mnist_store_rows_are_torchvisions(fashion_store, tmp_path):
    torchvision = pytest.importorskip("torchvision")
    raw = tmp_path / "tv" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in os.listdir(REAL_FASHION_DIR):
        if name.endswith(".gz"):
            with gzip.open(os.path.join(REAL_FASHION_DIR, name), "rb") as src, open(raw / name[:-3], "wb") as dst:
                shutil.copyfileobj(src, dst)
    to_tensor = torchvision.transforms.ToTensor()
    train = torchvision.datasets.FashionMNIST(str(tmp_path / "tv"), train=True, download=False, transform=to_tensor)
    test = torchvision.datasets.FashionMNIST(str(tmp_path / "tv"), train=False, download=False, transform=to_tensor)

    path = fashion_store
    store = libsubset.Store(path)
    assert (store.n, store.n_test, store.image_shape) == (len(train), len(test), (1, 28, 28))
    assert np.array_equal(store.labels, train.targets.numpy())
    assert np.array_equal(store.test_labels, test.targets.numpy())
    assert store.class_names == list(train.classes)
    rng = np.random.RandomState(0)
    rows = [0, 1, len(train) - 1] + rng.randint(0, len(train), size=20).tolist()
    X = store.features[rows]
    for k, i in enumerate(rows):
        image, label = train[i]
        assert image.shape == (1, 28, 28) and image.dtype == torch.float32
        # ToTensor() divides the uint8 pixel by 255 in float32, as the importer does.
        assert np.array_equal(image.numpy().reshape(-1), X[k]), f"row {i}"
        assert label == store.labels[i]
    test_rows = [0, len(test) - 1] + rng.randint(0, len(test), size=10).tolist()
    T = store.test_features[test_rows]
    for k, i in enumerate(test_rows):
        assert np.array_equal(test[i][0].numpy().reshape(-1), T[k]), f"test row {i}"
    # A selection made on the store indexes torchvision's dataset directly.
    sel = libsubset.select(str(path), method="random", budget=5, seed=4, energy=False)
    sub = lt.subset(train, sel)
    for pos, i in enumerate(sel.indices):
        assert np.array_equal(sub[pos][0].numpy().reshape(-1), store.features[int(i)])


@needs_fashion
def test_pytorch_coreset_script(fashion_store, source_dir):
    """python_scripts/pytorch_coreset.py on 2000 training rows: both runs train, are measured, and
    learn (well above the 10% of chance)."""
    script = os.path.join(source_dir, "python_scripts", "pytorch_coreset.py")
    proc = subprocess.run([sys.executable, script, "--store", str(fashion_store), "--train-rows", "2000",
                           "--test-rows", "2000", "--epochs", "3", "--threads", "2", "--json"],
                          env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["train_rows"] == 2000 and result["test_rows"] == 2000
    runs = {r["run"].split()[0]: r for r in result["runs"]}
    assert sorted(runs) == ["coreset", "random"]
    for r in runs.values():
        assert 190 <= r["rows"] <= 210, r
        assert r["accuracy"] > 0.4, r
        assert r["train_kwh"] > 0 and r["train_seconds"] > 0 and r["select_kwh"] is not None

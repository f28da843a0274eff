"""Feature stores (HDF5, docs/format.md): libsubset.Store, the importers and extract.

    store = libsubset.import_fashion_mnist("fmnist.h5")       # subset import fashion-mnist
    store.n, store.dim, store.labels, store.class_counts
    X = store.features[:1000]                                   # reads 1000 rows only
    small = libsubset.extract(store, selection, "small.h5")    # subset extract
"""
import numbers
import os

import numpy as np

from . import _native
from ._common import accounting, memory_limit_text


class FeatureRows:
    """The features of one split of a store, read from the file only when indexed.

    Behaves like a read-only 2-D float32 numpy array of shape (n, dim): len(), .shape, .dtype,
    indexing by an int (one row, 1-D), a slice, an array or list of row numbers, or a boolean mask
    of length n (each reads only those rows, in the order given), optionally followed by a column
    index (``features[rows, cols]``, applied after reading). ``np.asarray(features)`` reads every
    row. Iterating yields rows, read in blocks.
    """

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(self, handle, test, rows, cols):
        self._handle = handle
        self._test = test
        self.shape = (int(rows), int(cols))

    def __len__(self):
        return self.shape[0]

    @property
    def size(self):
        return self.shape[0] * self.shape[1]

    @property
    def nbytes(self):
        return self.size * 4

    def _rows(self, key):
        n = self.shape[0]
        if isinstance(key, (numbers.Integral, np.integer)) and not isinstance(key, (bool, np.bool_)):
            row = int(key)
            if not -n <= row < n:
                raise IndexError(f"row {row} out of range for {n} rows")
            row %= n
            return self._handle.read_range(self._test, row, 1)[0]
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step == 1:
                return self._handle.read_range(self._test, start, max(0, stop - start))
            return self._read_rows(np.arange(start, stop, step, dtype=np.int64))
        if key is Ellipsis:
            return self._rows(slice(None))
        rows = np.asarray(key)
        if rows.dtype == np.bool_:
            if rows.shape != (n,):
                raise IndexError(f"a boolean row mask must have shape ({n},), got {rows.shape}")
            return self._read_rows(np.flatnonzero(rows))
        if rows.ndim != 1 or (rows.size and not np.issubdtype(rows.dtype, np.integer)):
            raise IndexError(f"rows must be an int, a slice, a 1-D array of row numbers or a boolean mask, "
                             f"got {type(key).__name__} of shape {rows.shape}")
        rows = rows.astype(np.int64)
        out_of_range = (rows < -n) | (rows >= n)
        if out_of_range.any():
            raise IndexError(f"row {int(rows[out_of_range][0])} out of range for {n} rows")
        return self._read_rows(np.where(rows < 0, rows + n, rows))

    def _read_rows(self, rows):
        return self._handle.read_rows(self._test, np.ascontiguousarray(rows, dtype=np.int64))

    def __getitem__(self, key):
        if isinstance(key, tuple):
            if not key:
                return self._rows(slice(None))
            data = self._rows(key[0])
            rest = key[1:]
            if data.ndim == 2:
                rest = (slice(None),) + rest
            return data[rest]
        return self._rows(key)

    def __array__(self, dtype=None, copy=None):
        data = self._rows(slice(None))
        return data if dtype is None else data.astype(dtype, copy=False)

    def __iter__(self, block_rows=4096):
        for begin in range(0, self.shape[0], block_rows):
            yield from self._handle.read_range(self._test, begin, min(block_rows, self.shape[0] - begin))

    def __repr__(self):
        split = "test features" if self._test else "features"
        return f"<{split} of {self._handle.path}: {self.shape[0]} x {self.shape[1]} float32, read on access>"


def _class_counts(counts):
    if counts is None:
        return {}
    return {int(label): int(count) for label, count in sorted(counts.items(), key=lambda kv: int(kv[0]))}


class Store:
    """A feature store (read-only), opened and validated as `subset info` does; features are not read
    until used.

    n, dim: rows and features per row of the training split. image_shape: (C, H, W) or None.
    labels: int64 array or None (has_labels). class_names: list (may be empty). class_counts:
    {label: rows}. num_classes. weights: float32 array (rows of a weighted extract) or None.
    features: the rows, a lazily read array-like (FeatureRows). has_test, n_test, test_features,
    test_labels, test_class_counts: the held-out split (None / 0 when absent). value_range: (min, max)
    of every feature value, both splits, as recorded when the store was written (None in older
    stores). info: the dict that `subset info --json` prints.
    """

    def __init__(self, path):
        if isinstance(path, Store):
            path = path.path
        self.path = os.fspath(path)
        self._handle = _native.open_store(self.path)
        self.info = self._handle.info
        info = self.info
        self.n = int(info["n"])
        self.dim = int(info["dim"])
        self.image_shape = None if info["image_shape"] is None else tuple(int(s) for s in info["image_shape"])
        self.class_names = list(info["class_names"])
        self.num_classes = int(info["num_classes"])
        self.class_counts = _class_counts(info["class_counts"])
        self.test_class_counts = _class_counts(info["test_class_counts"])
        self.n_test = int(info["test_n"])
        lo, hi = info.get("value_min"), info.get("value_max")
        self.value_range = None if lo is None or hi is None else (float(lo), float(hi))
        self.has_test = bool(self._handle.has_test)
        self.features = FeatureRows(self._handle, False, self.n, self.dim)
        self.test_features = FeatureRows(self._handle, True, self.n_test, self.dim) if self.has_test else None
        self._labels = self._handle.labels(False)
        self.has_labels = self._labels is not None
        self._test_labels = self._handle.labels(True) if self.has_test else None
        self.has_test_labels = self._test_labels is not None
        self._weights = self._handle.weights()

    @property
    def labels(self):
        return None if self._labels is None else self._labels.copy()

    @property
    def test_labels(self):
        return None if self._test_labels is None else self._test_labels.copy()

    @property
    def weights(self):
        return None if self._weights is None else self._weights.copy()

    def __len__(self):
        return self.n

    def __fspath__(self):
        return self.path

    def __repr__(self):
        test = f", test {self.n_test}" if self.has_test else ""
        labels = f", {self.num_classes} classes" if self.has_labels else ", no labels"
        return f"<Store {self.path}: {self.n} x {self.dim}{labels}{test}>"


def _gzip_level(compression):
    """compression= as `subset import --compression`: "none" (or None, 0), "gzip" (level 4),
    "gzip:LEVEL" (1-9), or the level as an int (0 = none)."""
    if compression is None:
        return 0
    if isinstance(compression, (numbers.Integral, np.integer)) and not isinstance(compression, bool):
        return int(compression)
    if compression == "none":
        return 0
    if compression == "gzip":
        return 4
    if isinstance(compression, str) and compression.startswith("gzip:") and compression[5:].isdigit():
        return int(compression[5:])
    raise ValueError(f"compression: expected none, gzip or gzip:LEVEL (1-9), got {compression!r}")


def _output(out, force):
    return os.fspath(out), bool(force)


def _optional_path(path):
    return None if path is None else os.fspath(path)


def import_fashion_mnist(out, *, dataset_dir=None, force=False, compression="none", chunk_rows=0, energy=None):
    """`subset import fashion-mnist -o OUT`: the 60000 + 10000 Fashion-MNIST images (IDX files of
    Debian's dataset-fashion-mnist, or dataset_dir) as a store: pixel / 255 as float32 in [0, 1],
    image_shape (1, 28, 28), the ten class names, the test split. Rows are in the files' order, which
    is torchvision.datasets.FashionMNIST's (row i is dataset[i]). energy: as select's (the store
    records what importing cost). Returns the Store."""
    path, force = _output(out, force)
    _native.import_fashion_mnist(output=path, dataset_dir=_optional_path(dataset_dir) or _native.fashion_mnist_dir,
                                 force=force, gzip_level=_gzip_level(compression), chunk_rows=int(chunk_rows),
                                 accounting=accounting(energy))
    return Store(path)


def _names(class_names):
    if class_names is None:
        return []
    if isinstance(class_names, str):
        return class_names.split(",")
    return [str(name) for name in class_names]


def _shape(image_shape):
    if image_shape is None:
        return []
    if isinstance(image_shape, str):
        image_shape = image_shape.split(",")
    try:
        shape = [int(s) for s in image_shape]
    except (TypeError, ValueError):
        raise ValueError(f"image_shape: expected (C, H, W) with positive sizes, got {image_shape!r}") from None
    if len(shape) != 3 or min(shape) <= 0:
        raise ValueError(f"image_shape: expected (C, H, W) with positive sizes, got {image_shape!r}")
    return shape


def _scale(scale):
    """--scale's text: a number (1/255 as a float is fine) or a string such as "1/255"."""
    if scale is None or isinstance(scale, str):
        return scale
    if isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise ValueError(f"scale: expected a positive number or a fraction such as '1/255', got {scale!r}")
    return repr(float(scale))


def _fraction(test_fraction):
    return None if test_fraction is None else float(test_fraction)


def import_npy(features, out, *, labels=None, test_features=None, test_labels=None, image_shape=None, class_names=None,
               layout=None, scale=None, test_fraction=None, seed=0, force=False, compression="none", chunk_rows=0,
               energy=None):
    """`subset import FEATURES.npy -o OUT`: .npy files (paths) as a store. features [N, ...] (float32,
    float64, integer or bool; trailing axes flattened), labels [N] non-negative integers, the
    held-out split's test_features/test_labels, image_shape (C, H, W) (inferred for [N, H, W] and
    [N, C, H, W]), class_names (a list, label 0 first). layout "nhwc" or "nchw" for a 4-D array
    (required when its last axis is 1 or 3: nhwc is transposed to C, H, W); scale: a factor every
    value is multiplied by (a number or a string such as "1/255"); test_fraction with seed: a
    stratified held-out split made from the labelled rows. Returns the Store."""
    path, force = _output(out, force)
    _native.import_npy(output=path, features=os.fspath(features), labels=_optional_path(labels),
                       test_features=_optional_path(test_features), test_labels=_optional_path(test_labels),
                       image_shape=_shape(image_shape), class_names=_names(class_names), layout=layout,
                       scale=_scale(scale), test_fraction=_fraction(test_fraction), seed=int(seed), force=force,
                       gzip_level=_gzip_level(compression), chunk_rows=int(chunk_rows), accounting=accounting(energy))
    return Store(path)


def import_csv(table, out, *, label_column=None, test_features=None, delimiter=",", scale=None, test_fraction=None,
               seed=0, force=False, compression="none", chunk_rows=0, energy=None):
    """`subset import TABLE.csv -o OUT`: a CSV file with a header row, every column a feature except
    label_column (integers or class names); test_features: a CSV with the same header for the
    held-out split, or test_fraction with seed: a stratified held-out split made from the rows (needs
    label_column); scale: as import_npy's. Returns the Store."""
    path, force = _output(out, force)
    _native.import_csv(output=path, path=os.fspath(table), label_column=label_column,
                       test_path=_optional_path(test_features), delimiter=str(delimiter), scale=_scale(scale),
                       test_fraction=_fraction(test_fraction), seed=int(seed), force=force,
                       gzip_level=_gzip_level(compression), chunk_rows=int(chunk_rows), accounting=accounting(energy))
    return Store(path)


def extract(store, selection, out, force=False, *, energy=None, memory_limit=None):
    """`subset extract STORE --selection SEL -o OUT`: the selected rows (features, labels, weights),
    in selection order, as a new store with the source's test split. store: a path or a Store.
    selection: a libsubset.Selection or the path of a selection file; it must have been made from
    this store (row count and feature checksum are checked). memory_limit: bytes, or a size such
    as "4G", that the whole process may use, as `subset extract --memory-limit` (rows that do not
    fit go through a temporary file beside `out`). Returns the Store written."""
    path, force = _output(out, force)
    source = store.path if isinstance(store, Store) else os.fspath(store)
    chosen = getattr(selection, "_file", None)
    if chosen is None:
        if isinstance(selection, _native.SelectionFile):
            chosen = selection
        elif isinstance(selection, (str, os.PathLike)):
            chosen = os.fspath(selection)
        else:
            raise ValueError(f"selection must be a libsubset.Selection or the path of a selection file, "
                             f"got {type(selection).__name__}")
    _native.extract(store=source, selection=chosen, output=path, force=force, accounting=accounting(energy),
                    memory_limit=memory_limit_text(memory_limit))
    return Store(path)

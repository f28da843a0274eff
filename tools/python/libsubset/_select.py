"""libsubset.select and the Selection it returns."""
import os

import numpy as np

from . import _native
from ._common import (accounting, as_indices, as_labels, as_matrix, memory_limit_text, progress_callback,
                      resolve_threads, text_params)


_METHODS = None


def _method_parameters(method):
    """The keyword names of a method's parameters, or None for an unknown method (the library
    then reports it, with the known names)."""
    global _METHODS
    if _METHODS is None:
        _METHODS = {spec["name"]: [p["name"] for p in spec["params"]] for spec in _native.select_methods()}
    return _METHODS.get(method)


def _check_keywords(method, params):
    known = _method_parameters(method)
    if known is None:
        return
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise TypeError(f"select() got unexpected keyword argument(s) {', '.join(map(repr, unknown))} for method "
                        f"{method!r}; its parameters: {', '.join(known) if known else 'none'}")


class Selection:
    """The rows a method chose, in the order it chose them, with what it recorded.

    indices: int64 row numbers. weights: how many rows each stands for (methods that weight), or
    None. scores: the score that ranked each (importance methods), or None. centroids: kmeans'
    synthetic points, one per index, or None. stats: the method's figures (dict). energy: the
    measured report (seconds, kwh, gco2e, components, ...) or None. manifest: everything the
    selection file records. save(path) writes the file `subset select -o` writes.
    """

    def __init__(self, result):
        self._file = result["file"]
        self.indices = self._file.indices
        self.weights = self._file.weights
        self.scores = self._file.scores
        self.centroids = result["centroids"]
        self.seconds = result["seconds"]
        self.manifest = self._file.manifest
        self.stats = self.manifest["stats"]
        self.energy = self.manifest["energy"]
        self.method = self.manifest["method"]

    @classmethod
    def load(cls, path):
        """Reads a selection file (from `subset select`, or Selection.save)."""
        return cls(_native.read_selection(os.fspath(path)))

    def save(self, path, force=False):
        """Writes the selection file, atomically; an existing file is refused unless force=True."""
        self._file.save(os.fspath(path), bool(force))

    def __len__(self):
        return len(self.indices)

    def __array__(self, dtype=None):
        return self.indices if dtype is None else self.indices.astype(dtype)

    def __repr__(self):
        extra = "" if self.weights is None else ", weighted"
        return f"<Selection: {len(self)} rows by {self.method}{extra}>"


def select(X, y=None, method="kcenter", budget=None, fraction=None, per_class=False, seed=0, already_selected=None,
           *, embedding=None, features_dataset="/features", energy=None, threads=None, progress=None,
           memory_limit=None, **params):
    """Chooses `budget` rows (or `fraction` of them) of X with a selection method.

    X is an array (rows x features; float32 C-contiguous arrays and CPU tensors are read in place)
    or the path of a feature store (its labels are then used, and `embedding`/`features_dataset`
    work as `subset select --embedding/--features-dataset`). y: class labels, needed by per_class
    and the class-aware methods. already_selected: rows the selection must contain (it is a
    refinement of them). Method parameters are keyword arguments, named as the CLI's options with
    underscores (see the list below). energy: None/True to measure (world-average carbon
    intensity), False not to, or a dict of region, carbon_intensity, pue, cpu_watts. threads: the
    thread count (default: $SUBSET_THREADS, $OMP_NUM_THREADS, all cores). memory_limit (a store
    path only): bytes, or a size such as "4G", that the whole process may use, as
    `subset select --memory-limit`: features that do not fit stay on disk and are read in blocks,
    with the same result. The same input and seed give the same indices as `subset select`.
    """
    _check_keywords(method, params)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ValueError(f"seed must be an integer in [0, 2^64), got {seed!r}")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, np.integer))):
        raise ValueError(f"budget must be an integer, got {budget!r}")
    common = dict(method=method, params=text_params(params), budget=None if budget is None else int(budget),
                  fraction=None if fraction is None else float(fraction),
                  already_selected=as_indices(already_selected, "already_selected"), per_class=bool(per_class),
                  seed=int(seed), accounting=accounting(energy), threads=resolve_threads(threads))
    callback, bar = progress_callback(progress, f"select {method}")
    try:
        if isinstance(X, (str, os.PathLike)):
            if y is not None:
                raise ValueError("y is read from the store; do not pass it with a store path")
            result = _native.select_store(store=os.fspath(X), embedding=None if embedding is None else os.fspath(embedding),
                                          features_dataset=features_dataset, progress=callback,
                                          memory_limit=memory_limit_text(memory_limit), **common)
        else:
            if embedding is not None or features_dataset != "/features" or memory_limit is not None:
                raise ValueError("embedding, features_dataset and memory_limit apply to a store path, not to an array")
            features = as_matrix(X)
            labels = as_labels(y, features.shape[0])
            result = _native.select_array(features=features, labels=labels, num_classes=0, source="<array>",
                                          progress=callback, **common)
    finally:
        bar.close()
    return Selection(result)

"""libsubset.evaluate and libsubset.condense: `subset evaluate` and `subset condense` from Python."""
from __future__ import annotations

import os
import tempfile
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from . import _native
from ._common import accounting, progress_callback, resolve_threads, text_params
from ._docs import document_params, nn_schemas


def _seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ValueError(f"seed must be an integer in [0, 2^64), got {seed!r}")
    return int(seed)


def _paths(value, name):
    """One path or a list of paths as a list of str."""
    if value is None:
        return []
    if isinstance(value, (str, bytes, os.PathLike)):
        value = [value]
    try:
        items = list(value)
    except TypeError:
        raise ValueError(f"{name} must be a path or a list of paths, got {value!r}") from None
    out = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise ValueError(f"{name} must be a path or a list of paths, got an item {item!r}")
        out.append(os.fspath(item))
    return out


def _store_path(value, name):
    if not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"{name} must be the path of a feature store, got {value!r}")
    return os.fspath(value)


def _measured(energy, call):
    settings = accounting(energy)
    if settings is None:
        raise ValueError(f"{call} always measures its energy (the report is part of its result): "
                         "pass energy=None or a dict of region/carbon_intensity/pue/cpu_watts")
    return settings


def evaluate(store: Union[str, os.PathLike],
             selection: Union[None, Union[str, os.PathLike], Sequence[Union[str, os.PathLike]]] = None,
             selection_store: Union[None, Union[str, os.PathLike], Sequence[Union[str, os.PathLike]]] = None, *,
             seed: int = 0, unweighted: bool = False, no_full: bool = False, no_cache: bool = False,
             cache: Optional[Union[str, os.PathLike]] = None, energy: Union[None, bool, Mapping[str, Any]] = None,
             threads: Optional[int] = None, progress: Union[None, bool, Callable[..., Any]] = None, **params) -> dict:
    """Trains the proxy model on the full data and on each selection; returns `subset evaluate --json`'s dict.

    store: a feature store with /labels and a labelled /test split. selection: a selection file made
    from it (`subset select -o`, Selection.save), or a list of them. selection_store: a feature store
    whose own rows are the training set (a condense output), or a list of them. The proxy model's
    settings and `repeats` are keyword arguments named as the CLI's options with underscores (see the
    list below); unset epochs and learning rate take the model's defaults. seed: of the first repeat
    (repeat r uses seed + r). unweighted, no_full, no_cache, cache: as --unweighted, --no-full,
    --no-cache, --cache (the full-data figures are cached in STORE.evaluate-cache.json unless cache
    names another file). energy: None for the world-average carbon intensity, or a dict of region,
    carbon_intensity, pue, cpu_watts. progress: a callable(done, total, message) or tqdm (see
    libsubset's docs): an epoch count per training and a line per training. The same job on the same
    seed gives the CLI's accuracies.
    """
    callback, bar = progress_callback(progress, "evaluate")
    try:
        return _native.evaluate(store=_store_path(store, "store"), selections=_paths(selection, "selection"),
                                selection_stores=_paths(selection_store, "selection_store"), params=text_params(params),
                                seed=_seed(seed), unweighted=bool(unweighted), no_full=bool(no_full),
                                no_cache=bool(no_cache), cache="" if cache is None else os.fspath(cache),
                                accounting=_measured(energy, "evaluate"), threads=resolve_threads(threads),
                                progress=callback)
    finally:
        bar.close()


def condense(store: Union[str, os.PathLike], output: Optional[Union[str, os.PathLike]] = None, *, seed: int = 0,
             force: bool = False, checkpoint_every: int = 0, resume: bool = False,
             energy: Union[None, bool, Mapping[str, Any]] = None, threads: Optional[int] = None,
             progress: Union[None, bool, Callable[..., Any]] = None, **params) -> dict:
    """Condenses a store's training split into `ipc` synthetic images per class (DM or DC).

    Returns `subset condense --json`'s dict (settings, rows, classes, iterations_done, final_loss,
    seconds, energy, output) with the synthetic set added: "features" (float32 [rows, dim]),
    "labels" (int64 [rows]) and "image_shape". output: the feature store to write (as `subset
    condense -o`; an existing one is refused unless force=True); None: nothing is kept on disk and
    "output" is None. checkpoint_every, resume: as --checkpoint-every and --resume (they need an
    output). The condensation's settings are keyword arguments named as the CLI's options with
    underscores (see the list below). The same store, settings and seed give the CLI's values.
    """
    if output is None and (resume or checkpoint_every):
        raise ValueError("checkpoint_every and resume need an output path (the checkpoint lives next to it)")
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, (int, np.integer)):
        raise ValueError(f"checkpoint_every must be an integer >= 0, got {checkpoint_every!r}")
    common = dict(store=_store_path(store, "store"), params=text_params(params), seed=_seed(seed),
                  checkpoint_every=int(checkpoint_every), resume=bool(resume), accounting=_measured(energy, "condense"),
                  threads=resolve_threads(threads))
    callback, bar = progress_callback(progress, "condense")
    try:
        if output is None:
            with tempfile.TemporaryDirectory(prefix="libsubset-condense-") as directory:
                path = os.path.join(directory, "condensed.h5")
                result = _native.condense(output=path, force=False, progress=callback, **common)
                result.update(_native.read_training_split(path))
            result["output"] = None
        else:
            path = _store_path(output, "output")
            result = _native.condense(output=path, force=bool(force), progress=callback, **common)
            result.update(_native.read_training_split(path))
    finally:
        bar.close()
    return result


_schemas = nn_schemas()
document_params(evaluate, [("Proxy model settings (keyword arguments)", _schemas["train"]),
                           ("Evaluation settings (keyword arguments)", _schemas["evaluate"])])
document_params(condense, [("Condensation settings (keyword arguments)", _schemas["condense"])])
del _schemas

"""libsubset.al: active-learning labelling projects (`subset al`, docs/active-learning.md) from Python.

    from libsubset import al
    al.init("p.al", "pool.h5", seed_size=100, seed_method="kcenter")
    rows = al.pending(project)["rows"]          # the seed, waiting for labels
    al.label("p.al", rows, my_annotators(rows))
    rows = al.query("p.al", strategy="entropy", batch=50)
    al.label("p.al", rows, my_annotators(rows))
    al.status("p.al")                            # as `subset al status --json`

A project made here is the CLI's: the two can take turns on it. The same pool, answers and seed
give the same queried rows as the CLI.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from . import _native
from ._common import accounting, as_indices, progress_callback, resolve_threads, text_params
from ._docs import document_params, nn_schemas

__all__ = ["init", "query", "label", "status", "pending", "labelled", "export", "seed_methods"]


def _path(value, name):
    if not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"{name} must be a path, got {value!r}")
    return os.fspath(value)


def _int(value, name, minimum=0):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def seed_methods() -> list:
    """The methods init's seed_method takes (names of select's methods, and balanced)."""
    return list(_native.al_seed_methods())


def init(project: Union[str, os.PathLike], pool: Union[str, os.PathLike], *,
         features: Optional[Union[str, os.PathLike]] = None, features_dataset: str = "/features", seed_size: int = 0,
         seed_method: Optional[str] = None, seed: int = 0, classes: Union[None, int, Sequence[str]] = None,
         seed_out: Optional[Union[str, os.PathLike]] = None, force: bool = False,
         energy: Union[None, bool, Mapping[str, Any]] = None, threads: Optional[int] = None) -> dict:
    """Starts a labelling project `project` (a file, e.g. "p.al") over the feature store `pool`.

    As `subset al init POOL -o PROJECT`: the strategies read features_dataset of the pool, or of
    `features`, a same-rows store of it such as an embedding (the CLI's --features); seed_size rows
    of cold-start seed chosen by seed_method (one of seed_methods(); balanced needs the pool's
    labels), recorded as round 0 and pending;
    classes: a count or a list of class names when the pool names none; seed_out: also write the
    seed's `row,score` CSV. An existing project is refused unless force=True. Returns `al init
    --json`'s dict (seed_rows: the seed's rows, or None).
    """
    if seed_size and seed_method is None:
        raise ValueError("seed_method is needed with seed_size (one of " + ", ".join(seed_methods()) + ")")
    count, names = None, []
    if classes is not None:
        if isinstance(classes, (int, np.integer)) and not isinstance(classes, bool):
            count = int(classes)
        elif isinstance(classes, (list, tuple)) and all(isinstance(c, str) for c in classes):
            names = list(classes)
        else:
            raise ValueError(f"classes must be a count or a list of class names, got {classes!r}")
    if not isinstance(features_dataset, str):
        raise ValueError(f"features_dataset must be a dataset name such as /features, got {features_dataset!r}")
    features_store = None if features is None else _path(features, "features")
    return _native.al_init(pool=_path(pool, "pool"), output=_path(project, "project"), features=features_store,
                           features_dataset=features_dataset, seed_size=_int(seed_size, "seed_size"),
                           seed_method=seed_method or "", seed=_int(seed, "seed"), classes=count, class_names=names,
                           seed_out=None if seed_out is None else _path(seed_out, "seed_out"), force=bool(force),
                           accounting=accounting(energy), threads=resolve_threads(threads))


def query(project: Union[str, os.PathLike], *, output: Optional[Union[str, os.PathLike]] = None,
          images: Optional[Union[str, os.PathLike]] = None, force: bool = False,
          energy: Union[None, bool, Mapping[str, Any]] = None, threads: Optional[int] = None,
          progress: Union[None, bool, Callable[..., Any]] = None, details: bool = False,
          **params) -> Union[np.ndarray, tuple]:
    """Proposes the next batch of pool rows to label; returns them (int64 numpy array, best first).

    As `subset al query PROJECT`: trains the proxy on the labelled rows, scores the candidates, records
    the batch as pending and writes its `row,score` CSV to output (default: next to the project, as
    the CLI). The strategy, batch, candidates and proxy settings are keyword arguments named as the
    CLI's options with underscores (see the list below). details=True returns (rows, dict of `al
    query --json`: scores, round, candidates, proxy_test_accuracy, phases, energy).
    """
    callback, bar = progress_callback(progress, "al query")
    try:
        result = _native.al_query(project=_path(project, "project"), params=text_params(params),
                                  output="" if output is None else _path(output, "output"),
                                  images="" if images is None else _path(images, "images"), force=bool(force),
                                  accounting=accounting(energy), threads=resolve_threads(threads), progress=callback)
    finally:
        bar.close()
    rows = np.asarray(result["rows"], dtype=np.int64)
    return (rows, result) if details else rows


def label(project: Union[str, os.PathLike], rows: Any, labels: Any, *, source: str = "",
          unsolicited: bool = False) -> dict:
    """Records answers: rows[i] is labelled labels[i] (class ids, or class names as strings).

    As `subset al label PROJECT --answers FILE`: the whole batch is checked first (rows pending unless
    unsolicited=True, labels known) and applied in one step, or nothing is. Returns `al label
    --json`'s dict (answers, applied, relabels, unchanged, labelled, pending).
    """
    row_array = as_indices(rows, "rows")
    if row_array is None:
        raise ValueError("rows must be a 1-D array of pool rows")
    if hasattr(labels, "detach") and hasattr(labels, "cpu"):
        labels = labels.detach().cpu().numpy()
    label_array = np.asarray(labels)
    if label_array.ndim != 1 or label_array.shape[0] != row_array.shape[0]:
        raise ValueError(f"labels must be one label per row ({row_array.shape[0]}), got shape {label_array.shape}")
    ids, texts = None, None
    if label_array.dtype.kind in "US" or label_array.dtype == object:
        if not all(isinstance(v, (str, bytes)) for v in label_array.tolist()):
            raise ValueError("labels must be all class ids (integers) or all class names (strings)")
        texts = [v.decode() if isinstance(v, bytes) else v for v in label_array.tolist()]
    elif label_array.size == 0 or np.issubdtype(label_array.dtype, np.integer):
        ids = np.ascontiguousarray(label_array, dtype=np.int64)
    else:
        raise ValueError(f"labels must be class ids (integers) or class names (strings), got dtype {label_array.dtype}")
    if not isinstance(source, str):
        raise ValueError(f"source must be a string, got {source!r}")
    return _native.al_label(project=_path(project, "project"), rows=row_array, label_ids=ids, label_texts=texts,
                            source=source, unsolicited=bool(unsolicited))


def status(project: Union[str, os.PathLike]) -> dict:
    """The project's state: `subset al status --json`'s dict (labelled, pending, class_counts, rounds
    with their proxy test accuracy and energy, total_kwh, ...)."""
    return _native.al_status(_path(project, "project"))


def pending(project: Union[str, os.PathLike]) -> dict:
    """The rows proposed and not yet labelled, by round then as proposed (what `al pending` writes):
    {"rows", "rounds", "scores"} (numpy; a score is NaN when the strategy gave none)."""
    r = _native.al_rows(_path(project, "project"))
    return {"rows": r["pending_rows"], "rounds": r["pending_rounds"], "scores": r["pending_scores"]}


def labelled(project: Union[str, os.PathLike]) -> dict:
    """The labelled rows (ascending) with their current labels and the round each was labelled in:
    {"rows", "labels", "rounds"} (int64 numpy)."""
    r = _native.al_rows(_path(project, "project"))
    return {"rows": r["labelled_rows"], "labels": r["labels"], "rounds": r["label_rounds"]}


def export(project: Union[str, os.PathLike], output: Union[str, os.PathLike], *, force: bool = False) -> dict:
    """Writes the labelled rows as a feature store (`subset al export`); returns its --json dict."""
    return _native.al_export(project=_path(project, "project"), output=_path(output, "output"), force=bool(force))


_schemas = nn_schemas()
document_params(query, [("Query settings (keyword arguments)", _schemas["al_query"]),
                        ("Strategy options (keyword arguments)", _schemas["al_strategy"]),
                        ("Proxy model settings (keyword arguments)", _schemas["al_proxy"])])
del _schemas

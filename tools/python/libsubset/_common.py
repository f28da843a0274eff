"""What every call shares: arrays in the library's layout, threads, progress, energy accounting."""
import math
import os
import sys

import numpy as np


def as_matrix(X, name="X"):
    """X as a 2-D float32 C-contiguous numpy array, without a copy when it already is one.

    numpy arrays of that kind (and CPU torch tensors of float32, through numpy) are read in place.
    Anything else (float64, Fortran order, a slice with strides, a list) is converted once here.
    Arrays of more than two dimensions (images N x C x H x W) are viewed as N rows of their flattened
    remaining dimensions, in C order, as the store keeps images.
    """
    if hasattr(X, "detach") and hasattr(X, "cpu"):  # a torch tensor, without importing torch
        X = X.detach().cpu().numpy()
    array = np.asarray(X)
    if array.ndim < 2:
        raise ValueError(f"{name} must have rows and features (2 or more dimensions), got shape {array.shape}")
    if array.ndim > 2:
        array = array.reshape(array.shape[0], -1)
    if array.dtype != np.float32 or not array.flags.c_contiguous:
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
            raise ValueError(f"{name} must hold numbers, got dtype {array.dtype}")
        array = np.ascontiguousarray(array, dtype=np.float32)
    return array


def as_labels(y, n, name="y"):
    """y as an int64 vector of n non-negative class labels (copied: labels are small)."""
    if y is None:
        return None
    if hasattr(y, "detach") and hasattr(y, "cpu"):
        y = y.detach().cpu().numpy()
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"{name} must be one label per row ({n}), got shape {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
            raise ValueError(f"{name} must hold integer class labels, got dtype {labels.dtype}")
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    if labels.size and labels.min() < 0:
        raise ValueError(f"{name} must hold class labels >= 0, got {labels.min()}")
    return labels


def as_indices(rows, name):
    if rows is None:
        return None
    array = np.asarray(rows)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must be a 1-D array of row indices, got shape {array.shape} dtype {array.dtype}")
    array = np.ascontiguousarray(array, dtype=np.int64)
    if array.size and array.min() < 0:
        raise ValueError(f"{name} must hold row indices >= 0, got {array.min()}")
    unique, counts = np.unique(array, return_counts=True)
    if array.size and counts.max() > 1:
        raise ValueError(f"{name} lists row {unique[counts.argmax()]} {counts.max()} times")
    return array


def resolve_threads(threads):
    """threads= when given, else SUBSET_THREADS, else OMP_NUM_THREADS, else 0 (all cores)."""
    if threads is None:
        for variable in ("SUBSET_THREADS", "OMP_NUM_THREADS"):
            text = os.environ.get(variable, "").strip()
            if text:
                try:
                    threads = int(text.split(",")[0])
                except ValueError:
                    raise ValueError(f"{variable}={text!r} is not a thread count") from None
                break
        else:
            threads = 0
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 0:
        raise ValueError(f"threads must be an integer >= 0 (0: all cores), got {threads!r}")
    return int(threads)


def param_text(name, value):
    """A keyword argument's value as the text the parameter declarations parse (as the CLI does)."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value}")
        return repr(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"{name} must be a number, a bool or a string, got {type(value).__name__}")


def text_params(params):
    return {name: param_text(name, value) for name, value in params.items()}


def memory_limit_text(memory_limit):
    """memory_limit= of select/extract as the CLI's --memory-limit text: None, bytes or "4G"."""
    if memory_limit is None:
        return None
    if isinstance(memory_limit, bool) or not isinstance(memory_limit, (str, int, np.integer)):
        raise ValueError(f"memory_limit must be a number of bytes or a size such as '4G', got {memory_limit!r}")
    return str(memory_limit)


def accounting(energy):
    """The energy= argument: None or True (measure, world-average carbon intensity), False (do not
    measure), or a dict with any of region, carbon_intensity, pue, cpu_watts."""
    if energy is None or energy is True:
        return {}
    if energy is False:
        return None
    if isinstance(energy, dict):
        return dict(energy)
    raise ValueError(f"energy must be True, False or a dict of region/carbon_intensity/pue/cpu_watts, got {energy!r}")


class _TqdmProgress:
    """Progress as a tqdm bar: counters move the bar, status lines go to its description."""

    def __init__(self, tqdm, description):
        self._tqdm = tqdm
        self._description = description
        self._bar = None

    def __call__(self, done, total, message):
        if self._bar is None:
            self._bar = self._tqdm(total=total, desc=self._description, leave=False)
        if message is not None:
            self._bar.set_postfix_str(message, refresh=True)
            return
        if total is not None and self._bar.total != total:
            self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def close(self):
        if self._bar is not None:
            self._bar.close()


class _NoProgress:
    def close(self):
        pass


def progress_callback(progress, description):
    """The progress= argument as (callable or None, closer).

    None: a tqdm bar when tqdm is installed and stderr is a terminal, nothing otherwise.
    False: nothing. True: a tqdm bar (tqdm must be installed). A callable: called on the calling
    thread as progress(done, total, message): counters as (done, total, None), status lines (an
    epoch, a phase) as (None, None, text). An exception it raises cancels the call and propagates.
    """
    if progress is False:
        return None, _NoProgress()
    if callable(progress) and progress is not True:
        return progress, _NoProgress()
    if progress is None or progress is True:
        try:
            from tqdm import tqdm
        except ImportError:
            if progress is True:
                raise ValueError("progress=True needs tqdm (Debian: python3-tqdm)") from None
            return None, _NoProgress()
        if progress is None and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
            return None, _NoProgress()
        bar = _TqdmProgress(tqdm, description)
        return bar, bar
    raise ValueError(f"progress must be None, True, False or a callable, got {progress!r}")

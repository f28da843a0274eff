"""PyTorch helpers: a selection as a torch.utils.data.Subset and a weighted sampler.

    sel = libsubset.select(X, y, method="kmeans", fraction=0.1, per_class=True)
    train = libsubset.torch.subset(dataset, sel)             # Subset of the selected rows
    sampler = libsubset.torch.weighted_sampler(sel)           # positions 0..len(train)-1
    loader = torch.utils.data.DataLoader(train, batch_size=128, sampler=sampler)

torch is imported when one of these functions is first called, not when libsubset is imported.
Row i of a store made by `subset import fashion-mnist` is torchvision.datasets.FashionMNIST(train=True)[i],
so a selection made on that store indexes the torchvision dataset directly.
"""
import os

import numpy as np


def _torch():
    import torch  # at first use only: `import libsubset` must not load torch
    import torch.utils.data  # noqa: F401
    return torch


def _selection(selection):
    """(indices, weights or None) of a Selection, a selection file's path or an array of row numbers."""
    from ._select import Selection
    if isinstance(selection, (str, os.PathLike)):
        selection = Selection.load(selection)
    if isinstance(selection, Selection):
        return np.asarray(selection.indices, dtype=np.int64), selection.weights
    if hasattr(selection, "detach") and hasattr(selection, "cpu"):
        selection = selection.detach().cpu().numpy()
    indices = np.asarray(selection)
    if indices.ndim != 1 or (indices.size and not np.issubdtype(indices.dtype, np.integer)):
        raise ValueError(f"selection must be a libsubset.Selection, a selection file's path or a 1-D array of row "
                         f"indices, got shape {indices.shape} dtype {indices.dtype}")
    if indices.size and indices.min() < 0:
        raise ValueError(f"selection holds a negative row index ({int(indices.min())})")
    return indices.astype(np.int64), None


def subset(dataset, selection):
    """torch.utils.data.Subset(dataset, the selection's indices), in selection order.

    selection: a libsubset.Selection, the path of a selection file, or an array of row numbers. The
    indices are checked against len(dataset) when the dataset has a length."""
    torch = _torch()
    indices, _ = _selection(selection)
    if hasattr(dataset, "__len__") and indices.size and indices.max() >= len(dataset):
        raise ValueError(f"selection index {int(indices.max())} is out of range for a dataset of {len(dataset)} rows")
    return torch.utils.data.Subset(dataset, indices.tolist())


def weighted_sampler(selection, num_samples=None, replacement=True, generator=None):
    """torch.utils.data.WeightedRandomSampler drawing POSITIONS in the subset (0..k-1, for the
    Subset that subset(dataset, selection) returns, not rows of the full dataset), each with the
    probability of its weight: the selection's weights (how many points each selected row stands
    for: kmeans, craig, ...), uniform when it has none (an index array is uniform).

    num_samples: draws per epoch (default: the selection's size). replacement, generator: as
    WeightedRandomSampler's."""
    torch = _torch()
    indices, weights = _selection(selection)
    if weights is None:
        weights = np.ones(len(indices), dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if len(weights) == 0:
        raise ValueError("the selection is empty: nothing to sample")
    if not np.all(np.isfinite(weights)) or weights.min() < 0 or weights.sum() <= 0:
        raise ValueError("selection weights must be finite, >= 0 and not all zero")
    if num_samples is None:
        num_samples = len(weights)
    return torch.utils.data.WeightedRandomSampler(torch.as_tensor(weights, dtype=torch.double), int(num_samples),
                                                  replacement=bool(replacement), generator=generator)

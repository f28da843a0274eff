"""libsubset: coresets, compression, condensation and their energy, from numpy and PyTorch.

    import libsubset
    sel = libsubset.select(X, y, method="kmeans", fraction=0.1, per_class=True)
    loader = torch.utils.data.DataLoader(libsubset.torch.subset(dataset, sel), batch_size=128)

docs/python.md is the guide; help(libsubset.select) lists every method's parameters.
"""
from . import _native
from ._docs import document as _document
from ._select import Selection, select
from ._nn import condense, evaluate
from . import al
from . import energy
from .store import Store, extract, import_csv, import_fashion_mnist, import_npy
from .estimators import PCA, Autoencoder, CoresetSelector, GaussianRandomProjection, SparseRandomProjection, load_transform

__version__ = _native.version
with_torch = _native.with_torch

_document(globals())


def __getattr__(name):
    # libsubset.torch on first use: importing libsubset must not import torch.
    if name == "torch":
        import importlib
        return importlib.import_module(".torch", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""scikit-learn-style estimators: the transforms of `subset compress` and coreset selection.

    pipe = Pipeline([("pca", libsubset.PCA(n_components=50)), ("clf", LogisticRegression())])
    GridSearchCV(pipe, {"pca__n_components": [20, 50]}).fit(X, y)

The estimators follow scikit-learn's conventions without needing it (scikit-learn is imported only
to raise its NotFittedError when it is installed): constructor arguments are stored as given and
validated at fit; get_params/set_params (so sklearn.base.clone, Pipeline and GridSearchCV work);
fitted attributes end with an underscore. Every method parameter of the library's declarations is
a keyword argument, named as the CLI's option with underscores, with the same default.

The output dimension: n_components is `subset compress --dim`; for PCA a float n_components is
`--variance` (keep the fewest components explaining that fraction), and for the random projections
n_components="auto" is `--eps eps` (the Johnson-Lindenstrauss dimension for the N training rows,
rounded up where scikit-learn's johnson_lindenstrauss_min_dim truncates). seed is `--seed`
(random_state is accepted as its alias, for scikit-learn habits; an int only). save(path) writes
the model file of `subset compress --model-out`, and Estimator.load(path) reads one written by the
CLI, so `subset compress STORE --apply MODEL` and estimator.transform give the same values.
"""
import inspect
import os

import numpy as np

from . import _native
from ._common import as_matrix, progress_callback, resolve_threads, text_params
from ._docs import parameter_lines, select_methods_text
from ._select import Selection, select


class _FallbackNotFittedError(ValueError, AttributeError):
    """Raised when an estimator is used before fit (scikit-learn's NotFittedError when installed)."""


def _not_fitted(estimator):
    try:
        from sklearn.exceptions import NotFittedError
    except ImportError:
        NotFittedError = _FallbackNotFittedError
    name = type(estimator).__name__
    return NotFittedError(f"This {name} instance is not fitted yet. Call 'fit' with appropriate arguments before "
                          f"using this estimator.")


def _check_seed(seed, random_state):
    """The seed of the fit: random_state when given (an int), else seed."""
    for name, value in (("seed", seed), ("random_state", random_state)):
        if value is None and name == "random_state":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < 2**64:
            raise ValueError(f"{name} must be an integer in [0, 2^64), got {value!r}"
                             + (" (a numpy RandomState is not supported: give an int)" if name == "random_state" else ""))
    return int(seed if random_state is None else random_state)


class _Estimator:
    """get_params / set_params / repr over the fixed arguments and the method's schema parameters."""

    _fixed = ()  # constructor arguments other than the method's parameters, in signature order

    def _schema(self):
        """The current method's parameter declarations (list of dicts from the library)."""
        raise NotImplementedError

    def _method_param_names(self):
        return [p["name"] for p in self._schema()]

    def _init_method_params(self, params, schema):
        known = {p["name"]: p for p in schema}
        for name in params:
            if name not in known:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {name!r} "
                                f"(method parameters: {', '.join(known) or 'none'})")
        for name, p in known.items():
            setattr(self, name, params[name] if name in params else p["default"])

    def get_params(self, deep=True):
        """The constructor arguments, method parameters included (as scikit-learn's get_params)."""
        out = {name: getattr(self, name) for name in self._fixed}
        for p in self._schema():
            out[p["name"]] = getattr(self, p["name"], p["default"])
        return out

    def set_params(self, **params):
        """Sets constructor arguments or method parameters; returns self (as scikit-learn's set_params)."""
        if "method" in params and "method" in self._fixed:
            self.method = params.pop("method")  # first: it decides which parameters are valid
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {self!r}. "
                                 f"Valid parameters are: {sorted(valid)!r}.")
            setattr(self, name, value)
        return self

    def _given_method_params(self):
        """The method parameters to pass to the library (None: the library's default)."""
        return {name: getattr(self, name) for name in self._method_param_names() if getattr(self, name, None) is not None}

    def __repr__(self):
        defaults = {}
        signature = inspect.signature(type(self).__init__)
        for name, p in signature.parameters.items():
            if p.default is not inspect.Parameter.empty:
                defaults[name] = p.default
        for p in self._schema():
            defaults.setdefault(p["name"], p["default"])
        shown = [f"{k}={v!r}" for k, v in self.get_params().items()
                 if k not in defaults or not _same(defaults[k], v)]
        return f"{type(self).__name__}({', '.join(shown)})"


def _same(a, b):
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # arrays and the like
        return a is b


# ---- transforms ---------------------------------------------------------------------------------

_TRANSFORM_SPECS = {spec["name"]: spec for spec in _native.transform_methods()}


class _Transform(_Estimator):
    _method = None  # the registry's method name

    def _schema(self):
        return _TRANSFORM_SPECS[self._method]["params"]

    def _target(self):
        """(dim, variance, eps) as `subset compress --dim/--variance/--eps`."""
        raise NotImplementedError

    def _check_fitted(self):
        if getattr(self, "_model", None) is None:
            raise _not_fitted(self)

    def fit(self, X, y=None):
        """Fits the transform on the rows of X (y is ignored: there for Pipeline). Returns self."""
        features = as_matrix(X)
        dim, variance, eps = self._target()
        seed = _check_seed(self.seed, self.random_state)
        callback, bar = progress_callback(self.progress, f"fit {self._method}")
        try:
            model = _native.fit_transform_model(features=features, method=self._method,
                                                params=text_params(self._given_method_params()), dim=dim,
                                                variance=variance, eps=eps, seed=seed, source="<array>",
                                                threads=resolve_threads(self.threads), progress=callback)
        except ValueError as e:
            # The library names the CLI's --dim / --variance; here they are n_components.
            text = str(e)
            for option in (" (dim)", " (variance)"):
                if text.endswith(option):
                    raise ValueError(text[: -len(option)] + " (n_components)") from None
            raise
        finally:
            bar.close()
        self._set_fitted(model)
        return self

    def transform(self, X):
        """X's codes: rows of n_features_in_ -> rows of n_components_ (float32)."""
        self._check_fitted()
        return self._model.apply(as_matrix(X), resolve_threads(self.threads))

    def fit_transform(self, X, y=None):
        """fit(X) then transform(X)."""
        return self.fit(X, y).transform(X)

    def save(self, path, force=False):
        """Writes the model file `subset compress --model-out` writes (atomically); an existing file is
        refused (FileExistsError) unless force=True."""
        self._check_fitted()
        self._model.save(os.fspath(path), bool(force))

    @classmethod
    def load(cls, path):
        """An estimator fitted as the model file at path says (from save or `subset compress --model-out`)."""
        model = _native.load_transform_model(os.fspath(path))
        if model.method != cls._method:
            raise ValueError(f"{os.fspath(path)} holds a {model.method} model, not {cls._method} "
                             f"(libsubset.load_transform reads any)")
        return cls._from_model(model)

    @classmethod
    def _from_model(cls, model):
        est = cls.__new__(cls)
        params = {_keyword(name): value for name, value in model.params.items()}
        init = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
                if p.kind is not inspect.Parameter.VAR_KEYWORD and name != "self"}
        init.update(params)
        init.update(n_components=model.output_dim, seed=model.seed)
        cls.__init__(est, **init)
        est._set_fitted(model)
        return est

    def _set_fitted(self, model):
        self._model = model
        arrays = model.arrays
        stats = model.stats
        self.n_features_in_ = model.input_dim
        self.n_components_ = model.output_dim
        self.stats_ = stats
        self.arrays_ = arrays
        self.seed_ = model.seed
        if "components" in arrays:
            self.components_ = arrays["components"]
        if "train_mse" in stats:
            self.reconstruction_error_ = stats["train_mse"]
        self._set_method_attributes(arrays, stats)

    def _set_method_attributes(self, arrays, stats):
        pass

    def get_feature_names_out(self, input_features=None):
        """Output names: the lower-case class name and the component number (pca0, pca1, ...)."""
        self._check_fitted()
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self.n_components_)], dtype=object)

    def __getstate__(self):
        state = dict(self.__dict__)
        if state.get("_model") is not None:
            state["_model"] = state["_model"].state()
        return state

    def __setstate__(self, state):
        if isinstance(state.get("_model"), dict):
            state["_model"] = _native.transform_model_from_state(state["_model"])
        self.__dict__.update(state)


class _Reconstructs:
    def inverse_transform(self, X):
        """Codes (rows of n_components_) mapped back to the input space (rows of n_features_in_)."""
        self._check_fitted()
        return self._model.reconstruct(as_matrix(X), resolve_threads(self.threads))


def _keyword(parameter):
    return parameter.replace("-", "_")


def _check_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


class PCA(_Reconstructs, _Transform):
    """Principal component analysis (`subset compress --method pca`), streamed and deterministic.

    n_components: an int K (`--dim K`, 1 <= K < D and K <= N) or a float in (0, 1] (`--variance`:
    the fewest components explaining that fraction of the variance; needs solver exact or auto).
    seed (random_state: its alias): the randomized solver's start. threads: thread count (default:
    $SUBSET_THREADS, $OMP_NUM_THREADS, all cores). progress: as libsubset.select's.

    Fitted attributes: n_components_, n_features_in_, components_ [K, D] (rows, signs as
    scikit-learn's svd_flip), mean_ [D], explained_variance_ [K], explained_variance_ratio_ [K],
    total_variance_, reconstruction_error_ (mean squared error on the training rows), stats_ (every
    figure of the fit), arrays_ (the model file's arrays).
    """
    _method = "pca"
    _fixed = ("n_components", "seed", "random_state", "threads", "progress")

    def __init__(self, n_components=None, *, seed=0, random_state=None, threads=None, progress=None, **params):
        self.n_components = n_components
        self.seed = seed
        self.random_state = random_state
        self.threads = threads
        self.progress = progress
        self._init_method_params(params, self._schema())

    def _target(self):
        k = self.n_components
        if k is None:
            raise ValueError("n_components is required: an int K (--dim K) or a float in (0, 1] (--variance)")
        if isinstance(k, (float, np.floating)):
            return None, float(k), None
        return _check_int("n_components", k), None, None

    def _set_method_attributes(self, arrays, stats):
        self.mean_ = arrays["mean"]
        variance = stats.get("explained_variance")
        self.explained_variance_ = (np.asarray(variance, dtype=np.float64) if variance is not None
                                    else arrays["explained_variance"].astype(np.float64))
        if "explained_variance_ratio" in stats:
            self.explained_variance_ratio_ = np.asarray(stats["explained_variance_ratio"], dtype=np.float64)
        if "total_variance" in stats:
            self.total_variance_ = stats["total_variance"]


class _RandomProjection(_Transform):
    _fixed = ("n_components", "eps", "seed", "random_state", "threads", "progress")

    def __init__(self, n_components="auto", *, eps=0.1, seed=0, random_state=None, threads=None, progress=None,
                 **params):
        self.n_components = n_components
        self.eps = eps
        self.seed = seed
        self.random_state = random_state
        self.threads = threads
        self.progress = progress
        self._init_method_params(params, self._schema())

    def _target(self):
        if isinstance(self.n_components, str):
            if self.n_components != "auto":
                raise ValueError(f"n_components must be an int or 'auto', got {self.n_components!r}")
            if isinstance(self.eps, bool) or not isinstance(self.eps, (int, float, np.number)):
                raise ValueError(f"eps must be a number in (0, 1), got {self.eps!r}")
            return None, None, float(self.eps)
        return _check_int("n_components", self.n_components), None, None


class GaussianRandomProjection(_RandomProjection):
    """Gaussian random projection (`subset compress --method gaussian-rp`): R [K, D] of N(0, 1/K).

    n_components: an int K (`--dim K`) or "auto" (`--eps eps`: K from the Johnson-Lindenstrauss
    bound for the N training rows, rounded up; scikit-learn's johnson_lindenstrauss_min_dim
    truncates, so K can be one more than scikit-learn's). seed (random_state: its alias) draws R.

    Fitted attributes: n_components_, n_features_in_, components_ [K, D] (R), stats_, arrays_.
    """
    _method = "gaussian-rp"


class SparseRandomProjection(_RandomProjection):
    """Sparse random projection (`subset compress --method sparse-rp`): Achlioptas / Li et al.

    n_components and eps as GaussianRandomProjection's. density: the fraction of non-zero entries
    (0: 1/sqrt(D), scikit-learn's "auto"). components_ is a dense float32 array.

    Fitted attributes: n_components_, n_features_in_, components_ [K, D], density_ (the density
    used), stats_, arrays_.
    """
    _method = "sparse-rp"

    def _set_method_attributes(self, arrays, stats):
        if "density" in stats:
            self.density_ = stats["density"]


class Autoencoder(_Reconstructs, _Transform):
    """Undercomplete MLP autoencoder (`subset compress --method autoencoder`, libtorch).

    n_components: the code width K (`--dim K`), required. The encoder is the transform, the decoder
    inverse_transform. seed (random_state: its alias): initial weights and batch order.

    Fitted attributes: n_components_, n_features_in_, epoch_mse_ (mean training loss per epoch),
    reconstruction_error_, stats_, arrays_ (every layer: encoder_I_weight, encoder_I_bias, ...).
    """
    _method = "autoencoder"
    _fixed = ("n_components", "seed", "random_state", "threads", "progress")

    def __init__(self, n_components=None, *, seed=0, random_state=None, threads=None, progress=None, **params):
        self.n_components = n_components
        self.seed = seed
        self.random_state = random_state
        self.threads = threads
        self.progress = progress
        self._init_method_params(params, self._schema())

    def _target(self):
        if self.n_components is None:
            raise ValueError("n_components (the code width, --dim K) is required")
        return _check_int("n_components", self.n_components), None, None

    def _set_method_attributes(self, arrays, stats):
        if "epoch_mse" in stats:
            self.epoch_mse_ = np.asarray(stats["epoch_mse"], dtype=np.float64)


_TRANSFORM_CLASSES = {cls._method: cls for cls in (PCA, GaussianRandomProjection, SparseRandomProjection, Autoencoder)}


def load_transform(path):
    """The fitted estimator (PCA, GaussianRandomProjection, ...) of any model file."""
    model = _native.load_transform_model(os.fspath(path))
    return _TRANSFORM_CLASSES[model.method]._from_model(model)


# ---- coreset selection --------------------------------------------------------------------------

_SELECT_SPECS = {spec["name"]: spec for spec in _native.select_methods()}


class CoresetSelector(_Estimator):
    """A coreset (a subset of the rows) chosen by a selection method, through libsubset.select.

    method, fraction, budget, per_class, seed and the method's parameters (keyword arguments) mean
    what they mean for libsubset.select and `subset select`; give fraction or budget. energy,
    threads, progress: as libsubset.select's. fit(X, y=None) sets:

    selection_: the libsubset.Selection (save() writes the file `subset select -o` writes);
    indices_: int64 row numbers, in selection order; weights_: how many rows each stands for
    (methods that weight), else None; scores_: the score that ranked each row, or None;
    n_features_in_.
    """
    _fixed = ("method", "fraction", "budget", "per_class", "seed", "energy", "threads", "progress")

    def __init__(self, method="kcenter", fraction=None, budget=None, per_class=False, seed=0, *, energy=None,
                 threads=None, progress=None, **params):
        self.method = method
        self.fraction = fraction
        self.budget = budget
        self.per_class = per_class
        self.seed = seed
        self.energy = energy
        self.threads = threads
        self.progress = progress
        if method in _SELECT_SPECS:
            self._init_method_params(params, self._schema())
        else:  # an unknown method: fit names the known ones
            for name, value in params.items():
                setattr(self, name, value)

    def _schema(self):
        spec = _SELECT_SPECS.get(self.method)
        return spec["params"] if spec else []

    def fit(self, X, y=None):
        """Selects the rows of X (with labels y where the method or per_class needs them). Returns self."""
        if self.method not in _SELECT_SPECS:
            raise ValueError(f"unknown method {self.method!r} (known: {', '.join(_SELECT_SPECS)})")
        features = as_matrix(X)
        selection = select(features, y, method=self.method, budget=self.budget, fraction=self.fraction,
                           per_class=self.per_class, seed=self.seed, energy=self.energy, threads=self.threads,
                           progress=self.progress, **self._given_method_params())
        self.selection_ = selection
        self.indices_ = selection.indices
        self.weights_ = selection.weights
        self.scores_ = selection.scores
        self.n_features_in_ = features.shape[1]
        return self

    def fit_resample(self, X, y=None):
        """fit(X, y), then the selected rows of X (and of y when given), in selection order."""
        self.fit(X, y)
        features = np.asarray(X)[self.indices_]
        return features if y is None else (features, np.asarray(y)[self.indices_])


# ---- docstrings and signatures from the declarations -------------------------------------------

def _document_transform(cls):
    spec = _TRANSFORM_SPECS[cls._method]
    lines = ["", f"Method parameters (keyword arguments; `subset compress --method {cls._method}` options):", ""]
    lines.extend(parameter_lines(spec["params"]) or ["    (none)"])
    cls.__doc__ = (cls.__doc__ or "") + "\n".join(lines)
    _sign(cls, spec["params"])


def _sign(cls, params):
    """cls.__init__'s signature with the method parameters as keyword-only arguments (for help())."""
    init = cls.__init__
    signature = inspect.signature(init)
    fixed = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    extra = [inspect.Parameter(p["name"], inspect.Parameter.KEYWORD_ONLY, default=p["default"]) for p in params]
    init.__signature__ = signature.replace(parameters=fixed + extra)


def _own_init(cls):
    # Each class needs its own function object for its own signature.
    base = cls.__init__

    def __init__(self, *args, **kwargs):
        base(self, *args, **kwargs)

    __init__.__doc__ = base.__doc__
    cls.__init__ = __init__


for _cls in (GaussianRandomProjection, SparseRandomProjection):
    _own_init(_cls)
    _cls.__init__.__signature__ = inspect.signature(_RandomProjection.__init__)
for _cls in _TRANSFORM_CLASSES.values():
    _document_transform(_cls)
CoresetSelector.__doc__ += select_methods_text()

__all__ = ["PCA", "GaussianRandomProjection", "SparseRandomProjection", "Autoencoder", "CoresetSelector",
           "load_transform", "Selection"]

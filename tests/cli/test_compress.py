"""`subset compress`: PCA against scikit-learn, random projections against the Johnson-Lindenstrauss
bound, the autoencoder against the mean predictor, `--apply` reproducing the fitted output bit for
bit, compressed stores working with `select` and `evaluate`, and every option with a good and a bad
value. A bad value fails with one `error:` line and a non-zero exit, writes nothing and leaves
existing outputs exactly as they were. Outputs are read back with h5py and numpy alone."""
import json
import math
import os

import h5py
import numpy as np
import pytest
from sklearn.decomposition import PCA

from subset_testing import assert_error, assert_ok, file_digest

N, M, D = 600, 200, 30
SENTINEL = b"pre-existing output: must survive a failed compress byte for byte\n"


def structured(n, seed, rank=5):
    """Rows near a rank-`rank` subspace (scales 4, 2, 1, ...) of R^D, offset, plus small noise; the
    label is the sign pattern of the first two latent coordinates (4 classes)."""
    basis = np.random.RandomState(1).randn(rank, D)
    rs = np.random.RandomState(seed)
    z = rs.randn(n, rank) * (4.0 / 2.0 ** np.arange(rank))
    x = 0.5 + z @ basis / np.sqrt(D) + 0.02 * rs.randn(n, D)
    y = (z[:, 0] > 0).astype(np.int64) * 2 + (z[:, 1] > 0)
    return x.astype(np.float32), y


X, Y = structured(N, 2)
XT, YT = structured(M, 3)


def write_store(path, x=X, y=Y, xt=XT, yt=YT):
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = 1
        f.create_dataset("features", data=x, chunks=(64, x.shape[1])).attrs["image_shape"] = np.array(
            [1, 5, x.shape[1] // 5], np.int64)
        f.create_dataset("labels", data=y).attrs["class_names"] = ["a", "b", "c", "d"]
        if xt is not None:
            f.create_dataset("test/features", data=xt)
            f.create_dataset("test/labels", data=yt)
    return str(path)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_store(tmp_path_factory.mktemp("compress") / "in.h5")


@pytest.fixture(scope="module")
def models(tmp_path_factory, run, store):
    """One fitted model file (and its output store) per method, shared by the tests below."""
    d = tmp_path_factory.mktemp("compress-models")
    out = {}
    for method, extra in [("pca", []), ("gaussian-rp", []), ("sparse-rp", []),
                          ("autoencoder", ["--epochs", "2", "--encoder", "16"])]:
        model, result = str(d / f"{method}.model.h5"), str(d / f"{method}.h5")
        assert_ok(run("compress", store, "--method", method, "--dim", "4", "--seed", "3", "-o", result,
                      "--model-out", model, *extra, timeout=120))
        out[method] = (model, result)
    return out


def features(path, split="features"):
    with h5py.File(path, "r") as f:
        return f[split][...]


def attrs(path):
    with h5py.File(path, "r") as f:
        return dict(f.attrs)


def align_signs(ours, theirs):
    """ours with each column's sign flipped to agree with theirs."""
    signs = np.sign(np.sum(ours * theirs, axis=0))
    return ours * signs


# ---- PCA against scikit-learn -------------------------------------------------------------------

@pytest.mark.parametrize("solver", ["exact", "randomized", "auto"])
def test_pca_matches_scikit_learn(run, store, out_dir, solver):
    out = str(out_dir / "pca.h5")
    assert_ok(run("compress", store, "--method", "pca", "--dim", "5", "--solver", solver, "-o", out))
    sk = PCA(n_components=5, svd_solver="full").fit(X.astype(np.float64))
    record = json.loads(attrs(out)["transform"])
    ratios = np.array(record["stats"]["explained_variance_ratio"])
    assert np.max(np.abs(ratios - sk.explained_variance_ratio_)) < 1e-4
    assert record["stats"]["solver"] == ("randomized" if solver == "randomized" else "exact")
    for split, data in (("features", X), ("test/features", XT)):
        ours = features(out, split)
        theirs = sk.transform(data.astype(np.float64))
        assert ours.shape == (len(data), 5)
        scale = np.max(np.abs(theirs))
        assert np.max(np.abs(align_signs(ours, theirs) - theirs)) < 1e-4 * scale


def test_pca_variance_target_and_whitening_match_scikit_learn(run, store, out_dir):
    for v in ("0.5", "0.9", "0.99"):
        out = str(out_dir / f"v{v}.h5")
        assert_ok(run("compress", store, "--method", "pca", "--variance", v, "-o", out))
        assert features(out).shape[1] == PCA(n_components=float(v), svd_solver="full").fit(X).n_components_
    out = str(out_dir / "white.h5")
    assert_ok(run("compress", store, "--method", "pca", "--dim", "3", "--whiten", "-o", out))
    sk = PCA(n_components=3, whiten=True, svd_solver="full").fit(X.astype(np.float64))
    ours, theirs = features(out, "test/features"), sk.transform(XT.astype(np.float64))
    assert np.max(np.abs(align_signs(ours, theirs) - theirs)) < 1e-4 * np.max(np.abs(theirs))
    assert np.allclose(features(out).std(axis=0, ddof=1), 1.0, atol=1e-4)


def test_pca_sign_convention_and_model_layout(models):
    model, result = models["pca"]
    with h5py.File(model, "r") as f:
        assert f.attrs["format"] == "subset-transform"
        assert f.attrs["method"] == "pca" and f.attrs["input_dim"] == D and f.attrs["output_dim"] == 4
        comps, mean = f["components"][...], f["mean"][...]
        assert comps.shape == (4, D) and mean.shape == (D,) and f["explained_variance"].shape == (4,)
        stats = json.loads(f.attrs["stats"])
    # Largest-magnitude entry of each component positive; rows orthonormal.
    assert all(c[np.argmax(np.abs(c))] > 0 for c in comps)
    assert np.allclose(comps @ comps.T, np.eye(4), atol=1e-5)
    assert np.allclose(features(result), (X - mean) @ comps.T, atol=1e-4)
    for key in ("explained_variance_ratio", "train_mse", "test_mse", "train_baseline_mse", "test_baseline_mse"):
        assert key in stats
    assert stats["test_mse"] < 0.1 * stats["test_baseline_mse"]


# ---- random projections -------------------------------------------------------------------------

def test_random_projections_apply_their_saved_matrix(models):
    for method in ("gaussian-rp", "sparse-rp"):
        model, result = models[method]
        with h5py.File(model, "r") as f:
            r = f["components"][...]
        assert r.shape == (4, D)
        assert np.allclose(features(result), X @ r.T, atol=1e-5)
        assert np.allclose(features(result, "test/features"), XT @ r.T, atol=1e-5)
    with h5py.File(models["sparse-rp"][0], "r") as f:
        r = f["components"][...]
    value = math.sqrt(math.sqrt(D) / 4)  # density 1/sqrt(D), K = 4
    assert np.count_nonzero(r) > 0 and np.allclose(np.abs(r[r != 0]), value, rtol=1e-6)


def test_eps_picks_the_jl_dimension_and_distances_stay_within_it(run, tmp_path, out_dir):
    n, d, eps = 300, 3000, 0.5
    x = np.random.RandomState(4).randn(n, d).astype(np.float32)
    src = write_store(tmp_path / "random.h5", x=x, y=np.zeros(n, np.int64), xt=None)
    k = math.ceil(4 * math.log(n) / (eps ** 2 / 2 - eps ** 3 / 3))
    for method in ("gaussian-rp", "sparse-rp"):
        out = str(out_dir / f"{method}.h5")
        assert_ok(run("compress", src, "--method", method, "--eps", str(eps), "--seed", "1", "-o", out))
        y = features(out)
        assert y.shape == (n, k)
        i, j = np.triu_indices(n, 1)
        gram_x, gram_y = x.astype(np.float64) @ x.T, y.astype(np.float64) @ y.T
        sq = lambda g: np.diag(g)[i] + np.diag(g)[j] - 2 * g[i, j]
        ratio = sq(gram_y) / sq(gram_x)
        # Fewer than one pair in N(N-1)/2 is expected outside (1 +- eps) by the bound (2/N^2 per pair).
        assert np.sum((ratio < 1 - eps) | (ratio > 1 + eps)) <= 1
        assert abs(ratio.mean() - 1) < 0.05


def test_seed_decides_the_projection(run, store, out_dir):
    a, b, c = (str(out_dir / f"{n}.h5") for n in "abc")
    for path, seed in ((a, "7"), (b, "7"), (c, "8")):
        assert_ok(run("compress", store, "--method", "gaussian-rp", "--dim", "6", "--seed", seed, "-o", path))
    assert np.array_equal(features(a), features(b))
    assert not np.array_equal(features(a), features(c))
    assert json.loads(attrs(a)["transform"])["seed"] == "7"


def test_density_is_used(run, store, out_dir):
    out, model = str(out_dir / "s.h5"), str(out_dir / "s.model.h5")
    assert_ok(run("compress", store, "--method", "sparse-rp", "--dim", "20", "--density", "1", "-o", out,
                  "--model-out", model))
    with h5py.File(model, "r") as f:
        r = f["components"][...]
        assert json.loads(f.attrs["params"]) == {"density": 1.0}
    assert np.all(np.abs(np.abs(r) - math.sqrt(1 / 20)) < 1e-7)


# ---- autoencoder --------------------------------------------------------------------------------

def test_autoencoder_beats_the_mean_predictor_and_applies_its_encoder(run, store, out_dir):
    out, model, again = (str(out_dir / n) for n in ("ae.h5", "ae.model.h5", "again.h5"))
    assert_ok(run("compress", store, "--method", "autoencoder", "--dim", "5", "--encoder", "32", "--epochs", "60",
                  "--batch", "32", "--lr", "0.003", "--seed", "1", "-o", out, "--model-out", model, timeout=180))
    stats = json.loads(attrs(out)["transform"])["stats"]
    assert stats["train_mse"] < 0.2 * stats["train_baseline_mse"]
    assert stats["test_mse"] < 0.2 * stats["test_baseline_mse"]
    with h5py.File(model, "r") as f:
        assert sorted(k for k in f.keys()) == ["decoder_0_bias", "decoder_0_weight", "decoder_1_bias",
                                               "decoder_1_weight", "encoder_0_bias", "encoder_0_weight",
                                               "encoder_1_bias", "encoder_1_weight"]
        w0, b0, w1, b1 = (f[f"encoder_{i}_{p}"][...] for i in (0, 1) for p in ("weight", "bias"))
    # The encoder, recomputed with numpy from the model file alone.
    codes = np.maximum(XT @ w0.T + b0, 0) @ w1.T + b1
    assert np.allclose(features(out, "test/features"), codes, atol=1e-4)
    assert_ok(run("compress", store, "--apply", model, "-o", again, timeout=120))
    assert np.array_equal(features(again), features(out))


# ---- --apply ------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["pca", "gaussian-rp", "sparse-rp", "autoencoder"])
def test_apply_on_the_training_store_reproduces_the_fit_bit_for_bit(run, store, models, out_dir, method):
    model, result = models[method]
    out = str(out_dir / "applied.h5")
    text = assert_ok(run("compress", store, "--apply", model, "-o", out, timeout=120))
    assert f"from {model}" in text
    for split in ("features", "test/features"):
        assert np.array_equal(features(out, split), features(result, split))
    record = json.loads(attrs(out)["transform"])
    assert record["model"] == model and record["fitted_on"] == store and record["seed"] == "3"


def test_apply_to_another_store_of_the_same_dimension(run, models, tmp_path, out_dir):
    other = write_store(tmp_path / "other.h5", x=XT, y=YT, xt=None)
    out = str(out_dir / "o.h5")
    assert_ok(run("compress", other, "--apply", models["pca"][0], "-o", out))
    assert np.array_equal(features(out), features(models["pca"][1], "test/features"))


def test_threads_do_not_change_the_output(run, store, out_dir):
    for method in ("pca", "sparse-rp"):
        one, two = str(out_dir / f"{method}1.h5"), str(out_dir / f"{method}2.h5")
        assert_ok(run("--threads", "1", "compress", store, "--method", method, "--dim", "4", "-o", one))
        assert_ok(run("--threads", "2", "compress", store, "--method", method, "--dim", "4", "-o", two))
        assert np.array_equal(features(one), features(two))


# ---- the compressed store is a store ------------------------------------------------------------

def test_compressed_store_keeps_labels_and_works_with_select_and_evaluate(run, store, models, out_dir):
    _, result = models["pca"]
    with h5py.File(result, "r") as f, h5py.File(store, "r") as g:
        assert np.array_equal(f["labels"][...], g["labels"][...])
        assert np.array_equal(f["test/labels"][...], g["test/labels"][...])
        assert list(f["labels"].attrs["class_names"]) == ["a", "b", "c", "d"]
        assert "image_shape" not in f["features"].attrs
        assert f.attrs["format"] == "subset-store" and "subset compress" in f.attrs["created_by"]
        assert "energy" in f.attrs
    info = json.loads(assert_ok(run("info", result, "--json")))
    assert info["dim"] == 4 and info["n"] == N and info["test_n"] == M
    sel = str(out_dir / "kc.sel.h5")
    assert_ok(run("select", result, "--method", "kcenter", "--budget", "60", "-o", sel))
    report = json.loads(assert_ok(run("evaluate", result, "-s", sel, "--epochs", "30", "--lr", "0.01", "--repeats",
                                      "1", "--json", "--cache", str(out_dir / "cache.json"), timeout=120)))
    assert report["full"]["accuracy_mean"] > 0.8  # 4 classes separable in the leading components; chance 0.25
    assert report["selections"][0]["n"] == 60


def test_text_and_json_output(run, store, out_dir):
    out, model = str(out_dir / "p.h5"), str(out_dir / "p.model.h5")
    text = assert_ok(run("compress", store, "--method", "pca", "--dim", "3", "-o", out, "--model-out", model))
    assert "from 30 to 3 features with pca (exact solver)" in text
    assert "explained variance ratio" in text and "reconstruction mse" in text and model in text
    j = json.loads(assert_ok(run("compress", store, "--method", "pca", "--dim", "3", "-o", out, "--force", "--json")))
    for key in ("method", "params", "seed", "input_dim", "output_dim", "n", "test_n", "stats", "fit_seconds",
                "apply_seconds", "output", "energy"):
        assert key in j
    assert j["params"]["solver"] == "auto" and j["output_dim"] == 3 and j["energy"]["kwh"] > 0


def test_force_is_needed_to_replace_an_output(run, store, out_dir):
    out = out_dir / "p.h5"
    out.write_bytes(SENTINEL)
    assert_error(run("compress", store, "--method", "pca", "--dim", "3", "-o", str(out)), "exists")
    assert out.read_bytes() == SENTINEL
    assert_ok(run("compress", store, "--method", "pca", "--dim", "3", "-o", str(out), "--force"))
    assert features(str(out)).shape == (N, 3)


# ---- bad input ----------------------------------------------------------------------------------

BAD = [
    (["--method", "pca", "--dim", str(D)], ["below the input dimension 30", "--dim"]),
    (["--method", "gaussian-rp", "--dim", "31"], ["below the input dimension"]),
    (["--method", "pca", "--dim", "0"], ["at least 1"]),
    (["--method", "pca", "--variance", "0"], ["(0, 1]"]),
    (["--method", "pca", "--variance", "1.5"], ["(0, 1]"]),
    (["--method", "sparse-rp", "--eps", "0"], ["(0, 1)"]),
    (["--method", "sparse-rp", "--eps", "1"], ["(0, 1)"]),
    (["--method", "gaussian-rp", "--eps", "0.5"], ["Johnson-Lindenstrauss", "600 points"]),
    (["--method", "gaussian-rp", "--variance", "0.5"], ["pca only"]),
    (["--method", "pca", "--eps", "0.5"], ["random projections only"]),
    (["--method", "pca"], ["exactly one of --dim, --variance and --eps"]),
    (["--method", "pca", "--dim", "3", "--variance", "0.5"], ["exactly one"]),
    (["--method", "umap", "--dim", "3"], ["unknown method 'umap'"]),
    (["--dim", "3"], ["give a method"]),
    (["--method", "sparse-rp", "--dim", "3", "--density", "2"], ["density"]),
    (["--method", "pca", "--dim", "3", "--density", "0.5"], ["--density", "does not apply to method pca"]),
    (["--method", "gaussian-rp", "--dim", "3", "--whiten"], ["--whiten", "does not apply"]),
    (["--method", "pca", "--dim", "3", "--solver", "svd"], ["solver", "one of: auto, exact, randomized"]),
    (["--method", "pca", "--variance", "0.9", "--solver", "randomized"], ["--solver exact"]),
    (["--method", "pca", "--dim", "3", "--power-iterations", "-1"], ["power-iterations"]),
    (["--method", "pca", "--dim", "3", "--oversamples", "x"], ["oversamples"]),
    (["--method", "autoencoder", "--dim", "3", "--encoder", "12,a"], ["--encoder", "positive integers"]),
    (["--method", "autoencoder", "--dim", "3", "--decoder", "0"], ["--decoder"]),
    (["--method", "autoencoder", "--dim", "3", "--epochs", "0"], ["epochs"]),
    (["--method", "autoencoder", "--dim", "3", "--batch", "0"], ["batch"]),
    (["--method", "autoencoder", "--dim", "3", "--lr", "0"], ["lr"]),
    (["--method", "autoencoder", "--dim", "3", "--device", "tpu"], ["device"]),
]


@pytest.mark.parametrize("args,needles", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_fit_options_write_nothing(run, store, out_dir, args, needles):
    out, model = out_dir / "out.h5", out_dir / "model.h5"
    out.write_bytes(SENTINEL)
    model.write_bytes(SENTINEL)
    before = sorted(os.listdir(out_dir))
    assert_error(run("compress", store, *args, "-o", str(out), "--model-out", str(model), "--force"), *needles)
    assert out.read_bytes() == SENTINEL and model.read_bytes() == SENTINEL
    assert sorted(os.listdir(out_dir)) == before


def test_bad_apply_inputs_write_nothing(run, store, models, tmp_path, out_dir):
    narrow = write_store(tmp_path / "narrow.h5", x=X[:, :20], xt=XT[:, :20])
    text = tmp_path / "model.txt"
    text.write_text("pca\n")
    out = out_dir / "out.h5"
    out.write_bytes(SENTINEL)
    model = models["pca"][0]
    cases = [
        ([narrow, "--apply", model], ["model expects 30 input features", "has 20"]),
        ([store, "--apply", store], ["not a model file", "subset-store"]),
        ([store, "--apply", str(text)], ["not an HDF5 file"]),
        ([store, "--apply", str(tmp_path / "absent.h5")], ["absent.h5"]),
        ([store, "--apply", model, "--method", "pca"], ["--apply", "method"]),
        ([store, "--apply", model, "--dim", "3"], ["--apply"]),
        ([store, "--apply", model, "--model-out", str(out_dir / "m2.h5")], ["--model-out"]),
        ([store, "--apply", model, "--solver", "exact"], ["--solver", "with --method"]),
        ([store, "--apply", model, "--seed", "4"], ["--seed", "applies to fitting"]),
        ([store, "--method", "pca", "--dim", "3", "--model-out", str(out)], ["name the same file"]),
        ([str(tmp_path / "nostore.h5"), "--method", "pca", "--dim", "3"], ["nostore.h5"]),
    ]
    for args, needles in cases:
        before = file_digest(str(out))
        assert_error(run("compress", *args, "-o", str(out), "--force"), *needles)
        assert file_digest(str(out)) == before
        assert sorted(os.listdir(out_dir)) == ["out.h5"]


def test_command_line_errors(run, store, out_dir):
    out = str(out_dir / "o.h5")
    assert_error(run("compress", store, "--method", "pca", "--dim", "abc", "-o", out), "--dim", code=2)
    assert_error(run("compress", store, "--method", "pca", "--dim", "3", "--seed", "-1", "-o", out), code=2)
    assert_error(run("compress", store, "--method", "pca", "--dim", "3"), "--output", code=2)
    assert os.listdir(out_dir) == []


def test_nan_in_features_is_named_and_nothing_written(run, tmp_path, out_dir):
    x = X.copy()
    x[17, 3] = np.nan
    src = write_store(tmp_path / "nan.h5", x=x)
    assert_error(run("compress", src, "--method", "pca", "--dim", "3", "-o", str(out_dir / "o.h5")), "row 17")
    assert os.listdir(out_dir) == []

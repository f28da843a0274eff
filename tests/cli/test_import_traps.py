"""`subset import` traps (issue 19): channels-last .npy images (--layout), --scale, the value range
recorded in every store (`info` prints it), and a stratified held-out split (--test-fraction).
Oracles: numpy transposes and scales the same arrays, h5py reads the stores, split counts are
computed by hand."""
import json

import h5py
import numpy as np
import pytest

from subset_testing import assert_error, assert_no_partials, assert_ok, file_digest


def read(path):
    with h5py.File(path, "r") as f:
        out = {"attrs": {k: f.attrs[k] for k in f.attrs}, "features": f["features"][()],
               "image_shape": list(f["features"].attrs["image_shape"]) if "image_shape" in f["features"].attrs
               else None,
               "labels": f["labels"][()] if "labels" in f else None,
               "test_features": f["test/features"][()] if "test" in f else None,
               "test_labels": f["test/labels"][()] if "test" in f and "labels" in f["test"] else None}
    return out


def bad(run, out_dir, args, *needles):
    """Fails with one error line naming the needles; creates nothing, and with --force leaves an
    existing output byte for byte."""
    fresh = out_dir / "fresh.h5"
    assert_error(run("import", *args, "-o", fresh), *needles)
    assert not fresh.exists()
    existing = out_dir / "existing.h5"
    existing.write_bytes(b"keep me\n" * 8)
    before = file_digest(existing)
    assert_error(run("import", *args, "-o", existing, "--force"), *needles)
    assert file_digest(existing) == before
    assert_no_partials(str(out_dir))
    existing.unlink()


@pytest.fixture
def nhwc(tmp_path):
    rng = np.random.default_rng(19)
    arr = rng.normal(size=(7, 8, 6, 3)).astype(np.float32)
    path = tmp_path / "nhwc.npy"
    np.save(path, arr)
    return path, arr


# ---- layout ------------------------------------------------------------------------------------------

def test_channels_last_is_refused_without_layout(run, nhwc, out_dir):
    path, _ = nhwc
    bad(run, out_dir, [path], "(7, 8, 6, 3)", "looks like NHWC", "--layout nhwc", "--layout nchw")


def test_layout_nhwc_transposes_to_chw(run, nhwc, out_dir):
    path, arr = nhwc
    out = out_dir / "s.h5"
    stdout = assert_ok(run("import", path, "--layout", "nhwc", "-o", out))
    s = read(out)
    assert s["image_shape"] == [3, 8, 6]
    assert np.array_equal(s["features"], arr.transpose(0, 3, 1, 2).reshape(7, -1))
    assert "NHWC" in stdout
    assert json.loads(s["attrs"]["import"])["layout"] == "NHWC"


def test_layout_nchw_keeps_the_rows(run, nhwc, out_dir):
    path, arr = nhwc
    out = out_dir / "s.h5"
    assert_ok(run("import", path, "--layout", "nchw", "-o", out))
    s = read(out)
    assert s["image_shape"] == [8, 6, 3]
    assert np.array_equal(s["features"], arr.reshape(7, -1))


def test_channels_first_is_assumed_and_said(run, tmp_path, out_dir):
    arr = np.arange(4 * 3 * 5 * 6, dtype=np.float32).reshape(4, 3, 5, 6)
    np.save(tmp_path / "nchw.npy", arr)
    out = out_dir / "s.h5"
    stdout = assert_ok(run("import", tmp_path / "nchw.npy", "-o", out))
    assert "layout NCHW (channels first)" in stdout
    assert read(out)["image_shape"] == [3, 5, 6]
    j = json.loads(assert_ok(run("import", tmp_path / "nchw.npy", "-o", out, "--force", "--json")))
    assert any("layout NCHW (channels first)" in n for n in j["notes"])


def test_ambiguous_layout_is_refused(run, tmp_path, out_dir):
    np.save(tmp_path / "amb.npy", np.zeros((4, 3, 5, 1), dtype=np.float32))
    bad(run, out_dir, [tmp_path / "amb.npy"], "could be NCHW or NHWC", "--layout")
    out = out_dir / "s.h5"
    assert_ok(run("import", tmp_path / "amb.npy", "--layout", "nhwc", "-o", out))
    assert read(out)["image_shape"] == [1, 3, 5]


@pytest.mark.parametrize("args,needle", [
    (["--layout", "nhwc"], "4-D"),                # a 2-D array
    (["--layout", "NHWC"], "--layout"),           # only the two lower-case names
    (["--layout", ""], "--layout"),
])
def test_layout_misuse(run, fixtures, out_dir, args, needle):
    bad(run, out_dir, [fixtures["npy"]["features_f32"], *args], needle)


def test_layout_does_not_apply_to_csv_or_fashion_mnist(run, fixtures, out_dir):
    bad(run, out_dir, [fixtures["csv"]["train"], "--label-column", "species", "--layout", "nhwc"], "--layout")
    bad(run, out_dir, ["fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "--layout", "nhwc"], "--layout")


def test_layout_with_a_conflicting_image_shape(run, nhwc, out_dir):
    path, _ = nhwc
    bad(run, out_dir, [path, "--layout", "nhwc", "--image-shape", "8,6,3"], "--image-shape", "3,8,6")


def test_nhwc_test_features_must_match(run, nhwc, tmp_path, out_dir):
    path, _ = nhwc
    np.save(tmp_path / "flat.npy", np.zeros((2, 144), dtype=np.float32))
    bad(run, out_dir, [path, "--layout", "nhwc", "--test-features", tmp_path / "flat.npy"], "not NHWC images")
    t = np.random.default_rng(1).normal(size=(2, 8, 6, 3)).astype(np.float32)
    np.save(tmp_path / "t.npy", t)
    out = out_dir / "s.h5"
    assert_ok(run("import", path, "--layout", "nhwc", "--test-features", tmp_path / "t.npy", "-o", out))
    assert np.array_equal(read(out)["test_features"], t.transpose(0, 3, 1, 2).reshape(2, -1))


# ---- scale and the value range ----------------------------------------------------------------------

def test_uint8_is_kept_and_the_range_is_said(run, fixtures, out_dir):
    out = out_dir / "s.h5"
    stdout = assert_ok(run("import", fixtures["npy"]["features_u8"], "-o", out))
    assert "values 0..255 (uint8); add --scale 1/255 for [0, 1]" in stdout
    src = fixtures["npy_arrays"]["features_u8"]
    assert np.array_equal(read(out)["features"], src.astype(np.float32))
    info = assert_ok(run("info", out))
    assert f"values      in [{src.min()}, {src.max()}]" in info
    stdout = assert_ok(run("import", fixtures["npy"]["features_f32"], "-o", out_dir / "f.h5"))
    assert "--scale" not in stdout, "the uint8 hint is for uint8 input only"


def test_scale_fraction_equals_numpy_division(run, fixtures, out_dir):
    out = out_dir / "s.h5"
    stdout = assert_ok(run("import", fixtures["npy"]["features_u8"], "--scale", "1/255", "-o", out))
    assert "add --scale" not in stdout
    src = fixtures["npy_arrays"]["features_u8"]
    assert np.array_equal(read(out)["features"], src.astype(np.float32) / np.float32(255))
    assert json.loads(read(out)["attrs"]["import"])["scale"] == "1/255"


def test_scale_decimal_on_float64_and_test_split(run, fixtures, out_dir):
    p, a = fixtures["npy"], fixtures["npy_arrays"]
    out = out_dir / "s.h5"
    assert_ok(run("import", p["features_f64"], "--test-features", p["test_features_f32"], "--scale", "0.5", "-o", out))
    s = read(out)
    expect = (a["features_f64"].astype(np.float32).astype(np.float64) * 0.5).astype(np.float32)
    assert np.array_equal(s["features"], expect)
    expect_test = (a["test_features_f32"].astype(np.float64) * 0.5).astype(np.float32)
    assert np.array_equal(s["test_features"], expect_test)
    j = json.loads(assert_ok(run("info", out, "--json")))
    both = np.concatenate([expect.ravel(), expect_test.ravel()])
    assert j["value_min"] == float(both.min()) and j["value_max"] == float(both.max())


def test_scale_csv(run, fixtures, out_dir):
    out = out_dir / "s.h5"
    assert_ok(run("import", fixtures["csv"]["train"], "--label-column", "species", "--scale", "2", "-o", out))
    plain = out_dir / "p.h5"
    assert_ok(run("import", fixtures["csv"]["train"], "--label-column", "species", "-o", plain))
    base = read(plain)["features"]
    assert np.array_equal(read(out)["features"], (base.astype(np.float64) * 2).astype(np.float32))


@pytest.mark.parametrize("value", ["0", "-1", "-1/255", "1/0", "0/5", "nan", "inf", "abc", "", "1/", "1/2/3",
                                   "1e999", " 1"])
def test_bad_scale(run, fixtures, out_dir, value):
    bad(run, out_dir, [fixtures["npy"]["features_u8"], "--scale", value], "--scale", "positive number")


def test_scale_overflow_names_the_value(run, tmp_path, out_dir):
    np.save(tmp_path / "big.npy", np.array([[1.0, 3e38], [2.0, 0.0]], dtype=np.float32))
    bad(run, out_dir, [tmp_path / "big.npy", "--scale", "10"], "row 0, column 1", "out of float32 range")


def test_fashion_mnist_is_scaled_already(run, fixtures, out_dir):
    bad(run, out_dir, ["fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "--scale", "1/255"],
        "--scale", "[0, 1]")
    out = out_dir / "f.h5"
    stdout = assert_ok(run("import", "fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "-o", out))
    assert "pixel / 255" in stdout
    s = read(out)
    assert json.loads(s["attrs"]["import"])["scale"] == "1/255"
    both = np.concatenate([s["features"].ravel(), s["test_features"].ravel()])
    j = json.loads(assert_ok(run("info", out, "--json")))
    assert (j["value_min"], j["value_max"]) == (float(both.min()), float(both.max())) == (0.0, 1.0)
    assert "values      in [0, 1]" in assert_ok(run("info", out))


def test_value_range_of_an_extracted_store(run, fixtures, tmp_path, out_dir):
    store = out_dir / "s.h5"
    assert_ok(run("import", fixtures["npy"]["features_f64"], "--labels", fixtures["npy"]["labels"],
                  "--test-features", fixtures["npy"]["test_features_f32"], "-o", store))
    sel = out_dir / "sel.h5"
    assert_ok(run("select", store, "--method", "random", "-k", "5", "--seed", "2", "-o", sel))
    sub = out_dir / "sub.h5"
    assert_ok(run("extract", store, "--selection", sel, "-o", sub))
    s = read(sub)
    both = np.concatenate([s["features"].ravel(), s["test_features"].ravel()])
    j = json.loads(assert_ok(run("info", sub, "--json")))
    assert j["value_min"] == float(both.min()) and j["value_max"] == float(both.max())


def test_store_without_a_recorded_range(run, tmp_path):
    """A store written before the range was recorded (h5py, no value_min/value_max): no line, null."""
    path = tmp_path / "old.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "subset-store"
        f.attrs["format_version"] = np.int64(1)
        f.create_dataset("features", data=np.ones((3, 2), dtype=np.float32))
    j = json.loads(assert_ok(run("info", path, "--json")))
    assert j["value_min"] is None and j["value_max"] is None
    assert "values " not in assert_ok(run("info", path))


# ---- stratified test split ---------------------------------------------------------------------------

def test_csv_test_fraction_hand_counted(run, tmp_path, out_dir):
    # 6 a, 3 b, 1 c; F = 0.3: T = 3, quotas 1.8, 0.9, 0.3 -> floors [1, 0, 0], then the largest
    # remainders among classes that can spare a row: b (0.9), a (0.8); c's single row stays: [2, 1, 0].
    names = ["a"] * 6 + ["b"] * 3 + ["c"]
    lines = ["x,y,label"] + [f"{i},{10 * i},{n}" for i, n in enumerate(names)]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    out = out_dir / "s.h5"
    stdout = assert_ok(run("import", tmp_path / "t.csv", "--label-column", "label", "--test-fraction", "0.3",
                           "--seed", "7", "-o", out))
    assert "3 of 10 rows held out" in stdout
    s = read(out)
    assert np.bincount(s["test_labels"], minlength=3).tolist() == [2, 1, 0]
    assert np.bincount(s["labels"], minlength=3).tolist() == [4, 2, 1]
    ids = np.concatenate([s["features"][:, 0], s["test_features"][:, 0]]).astype(int)
    assert sorted(ids.tolist()) == list(range(10)), "every row once"
    for feats, labels in ((s["features"], s["labels"]), (s["test_features"], s["test_labels"])):
        rows = feats[:, 0].astype(int)
        assert np.all(np.diff(rows) > 0), "each split keeps the file's order"
        assert np.array_equal(feats[:, 1], 10 * feats[:, 0])
        assert [["a", "b", "c"][l] for l in labels] == [names[r] for r in rows]
    rec = json.loads(s["attrs"]["import"])["test_split"]
    assert rec["fraction"] == 0.3 and rec["seed"] == 7 and rec["rows"] == 3
    assert "seed 7" in s["attrs"]["source"]
    # Deterministic in the seed.
    again = out_dir / "again.h5"
    assert_ok(run("import", tmp_path / "t.csv", "--label-column", "label", "--test-fraction", "0.3", "--seed", "7",
                  "-o", again))
    assert np.array_equal(read(again)["test_features"], s["test_features"])


def test_npy_nhwc_streamed_scaled_and_split(run, tmp_path, out_dir):
    """Several 16 MiB blocks: transpose, scale and the split are applied per block."""
    n, h, w, c = 6000, 32, 32, 3
    rng = np.random.default_rng(5)
    arr = rng.integers(0, 256, size=(n, h, w, c), dtype=np.uint8)
    ids = np.arange(n)
    arr[:, 0, 0, 0] = ids % 256    # the row's id in two pixels
    arr[:, 0, 0, 1] = ids // 256
    labels = np.repeat([0, 1, 2], [3000, 2000, 1000])
    rng.shuffle(labels)
    np.save(tmp_path / "x.npy", arr)
    np.save(tmp_path / "y.npy", labels)
    out = out_dir / "s.h5"
    assert_ok(run("import", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", "--layout", "nhwc",
                  "--scale", "1/255", "--test-fraction", "0.2", "--seed", "3", "-o", out))
    s = read(out)
    expect = arr.transpose(0, 3, 1, 2).reshape(n, -1).astype(np.float32) / np.float32(255)
    assert s["image_shape"] == [3, 32, 32]
    # 0.2 of 3000, 2000, 1000 is exactly 600, 400, 200.
    assert np.bincount(s["test_labels"]).tolist() == [600, 400, 200]
    assert np.bincount(s["labels"]).tolist() == [2400, 1600, 800]
    got = {}
    for feats, labs in ((s["features"], s["labels"]), (s["test_features"], s["test_labels"])):
        rid = np.rint(feats[:, 0] * 255).astype(int) + 256 * np.rint(feats[:, h * w] * 255).astype(int)
        assert np.all(np.diff(rid) > 0)
        assert np.array_equal(feats, expect[rid])
        assert np.array_equal(labs, labels[rid])
        got.update(dict.fromkeys(rid.tolist()))
    assert len(got) == n
    j = json.loads(assert_ok(run("info", out, "--json")))
    assert j["value_min"] == float(expect.min()) and j["value_max"] == float(expect.max())


@pytest.mark.parametrize("value", ["0", "1", "1.5", "-0.1", "nan", "inf", "abc"])
def test_bad_test_fraction(run, fixtures, out_dir, value):
    bad(run, out_dir, [fixtures["npy"]["features_f32"], "--labels", fixtures["npy"]["labels"],
                       "--test-fraction", value], "--test-fraction")


def test_test_fraction_refusals(run, fixtures, out_dir):
    p = fixtures["npy"]
    bad(run, out_dir, [p["features_f32"], "--test-fraction", "0.2"], "--labels")
    bad(run, out_dir, [p["features_f32"], "--labels", p["labels"], "--test-features", p["test_features_f32"],
                       "--test-fraction", "0.2"], "--test-features")
    bad(run, out_dir, [fixtures["csv"]["train"], "--test-fraction", "0.2"], "--label-column")
    bad(run, out_dir, [fixtures["csv"]["train"], "--label-column", "species", "--test-features",
                       fixtures["csv"]["test"], "--test-fraction", "0.2"], "--test-features")
    bad(run, out_dir, ["fashion-mnist", "--dataset-dir", fixtures["fashion_dir"], "--test-fraction", "0.2"],
        "own test split")
    bad(run, out_dir, [p["features_f32"], "--labels", p["labels"], "--seed", "3"], "--seed", "--test-fraction")
    bad(run, out_dir, [p["features_f32"], "--labels", p["labels"], "--test-fraction", "0.0001"], "no row")


def test_test_fraction_that_would_empty_a_class(run, tmp_path, out_dir):
    (tmp_path / "t.csv").write_text("x,label\n1,a\n2,a\n3,b\n4,b\n")
    bad(run, out_dir, [tmp_path / "t.csv", "--label-column", "label", "--test-fraction", "0.9"],
        "at most 2", "training row")
